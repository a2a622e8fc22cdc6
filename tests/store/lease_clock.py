"""Time made to pass for the write lease (:mod:`allianceld.store.write_lease`) without waiting for it."""

from __future__ import annotations

import pyoxigraph as ox

from allianceld.store import write_lease
from allianceld.store.backends import SparqlBackend

PAST = ox.Literal("2000-01-01T00:00:00+00:00", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))


def run_out(backend: SparqlBackend) -> None:
    """Every claim of the write lease in the store made to have expired (as when its time has passed)."""
    g, until = write_lease.GRAPH, write_lease.UNTIL
    backend.update(
        f"DELETE {{ GRAPH {g} {{ ?c {until} ?u }} }} INSERT {{ GRAPH {g} {{ ?c {until} {PAST} }} }} "
        f"WHERE {{ GRAPH {g} {{ ?c {until} ?u }} }}"
    )
