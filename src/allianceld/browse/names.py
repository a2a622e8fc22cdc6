"""States' names through time: the dated names (ald:StateName) a state bore, and the name a state
had on a given day, the state's own label where no dated name covers that day. One query reads the
dated names of any number of states; the states reach it as RDF terms in a VALUES block."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from allianceld.browse.describe import labels
from allianceld.store import KnowledgeBase

DATED_NAMES = """
SELECT ?s ?n ?label ?start ?startPrecision ?end ?endPrecision WHERE {{
  VALUES ?s {{ {states} }}
  ?s ald:stateName ?n .
  ?n rdfs:label ?label FILTER(langMatches(lang(?label), "en"))
  OPTIONAL {{ ?n ald:startDate ?start }}
  OPTIONAL {{ ?n ald:startDatePrecision ?startPrecision }}
  OPTIONAL {{ ?n ald:endDate ?end }}
  OPTIONAL {{ ?n ald:endDatePrecision ?endPrecision }}
}}
"""


@dataclass(frozen=True)
class DatedName:
    """A name a state bore from ``start`` to ``end``, both days included (None: from the state's
    beginning, or still in use)."""

    iri: str
    label: str
    start: str | None  # xsd:date lexical form
    end: str | None
    start_precision: str | None = None  # a precision IRI, None when known to the day
    end_precision: str | None = None

    def covers(self, day: dt.date) -> bool:
        """True when the name was in use on ``day``."""
        iso = day.isoformat()
        return (self.start is None or self.start <= iso) and (self.end is None or iso <= self.end)


def dated_names(kb: KnowledgeBase, states: Iterable[str]) -> dict[str, list[DatedName]]:
    """The dated names of each of ``states`` that has any, oldest first."""
    nodes = sorted({s for s in states if s})
    if not nodes:
        return {}
    rows = kb.select(DATED_NAMES.format(states=" ".join(str(ox.NamedNode(s)) for s in nodes)))
    out: dict[str, dict[str, DatedName]] = {}
    for r in rows:
        out.setdefault(r["s"], {}).setdefault(
            r["n"], DatedName(r["n"], r["label"], r["start"], r["end"], r["startPrecision"], r["endPrecision"])
        )
    return {s: sorted(by.values(), key=_order) for s, by in out.items()}


def _order(n: DatedName) -> tuple[str, str, str]:
    return (n.start or "", n.end or "9999", n.iri)


def in_use(names: Iterable[DatedName], day: dt.date) -> str | None:
    """The label of the name in use on ``day`` among ``names`` (of two that overlap, as around a
    date known only to the month, the later one), or None."""
    current = [n for n in names if n.covers(day)]
    return max(current, key=_order).label if current else None


def name_on(kb: KnowledgeBase, states: Iterable[str], day: dt.date) -> dict[str, str]:
    """The name each of ``states`` had on ``day``: the dated name in use that day, else the
    state's label."""
    return {state: name for (state, _day), name in names_on(kb, ((s, day) for s in states)).items()}


def names_on(kb: KnowledgeBase, pairs: Iterable[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], str]:
    """:func:`name_on` for (state, day) pairs with days of their own (a member list whose members
    joined on different days), with one query for the dated names of all of them."""
    wanted = sorted({p for p in pairs if p[0]})
    states = sorted({s for s, _ in wanted})
    named = labels(kb, states)
    dated = dated_names(kb, states)
    out: dict[tuple[str, dt.date], str] = {}
    for state, day in wanted:
        name = in_use(dated.get(state, []), day) or named.get(state)
        if name is not None:
            out[(state, day)] = name
    return out


def former(names: Iterable[DatedName], current: str | None, today: dt.date) -> list[DatedName]:
    """The names among ``names`` no longer in use on ``today`` (ended before it) that differ from
    the ``current`` name, the latest first."""
    iso = today.isoformat()
    gone = [n for n in names if n.end is not None and n.end < iso and n.label != current]
    return sorted(gone, key=_order, reverse=True)


def period(name: DatedName) -> str:
    """The years a name was in use: ``1922-1991 (an en dash)``, ``until 1917``, ``from 1992``."""
    start, end = (name.start or "")[:4].lstrip("0"), (name.end or "")[:4].lstrip("0")
    if start and end:
        return start if start == end else f"{start}\N{EN DASH}{end}"
    return f"until {end}" if end else f"from {start}" if start else ""


__all__ = ["DatedName", "dated_names", "former", "in_use", "name_on", "names_on", "period"]
