"""The write lease of a remote store: one allianceld service writes at a time, decided by the store's own
operations, so that two writes made from the same state never both land.

The write version (:mod:`.write_version`) makes a write fail when another service wrote since it read
the store, on a store that notices when two update transactions change the same data. The on-disk
`oxigraph serve` does not: each update reads from a snapshot taken when it starts and commits without
looking at what committed meanwhile, so two writes sent at the same instant from version N both find
version N and both land (measured: in 6 of 40 rounds of 8 writes). The lease keeps writes apart before
they read anything, with no lock of one process and no coordinator besides the store.

A service takes the lease in two steps (:func:`take`): one update adds its claim (a token, and the time
it expires: its writer's time limit and a margin, the rule of a journal's ``until``) to the lease graph;
then one query reads every claim that has not expired. When its own is the only one, it holds the lease;
otherwise it withdraws its claim and tries again after a random pause, a bounded number of times. The
write's update removes the claim in the same request (:func:`release`), so the lease ends when the write
has landed; a write that fails or is refused withdraws its claim (:func:`withdraw`). A claim whose time
has passed (a service that stopped in the middle of a write) is ignored, and removed.

Why two services never both hold it: say A's claim committed before B's. B reads the claims after its
own claim committed, hence after A's: B sees A's claim, unless A has removed it, either withdrawn (A
does not hold the lease) or released with its write (which then landed before B reads anything). Seeing
it, B withdraws. So the later of two claims never wins while the earlier stands; the earlier may see
the later too (when B's committed before A read) and withdraw as well: then neither holds, and both try
again after random pauses. This needs only that a query sees every update that committed before it
began, which a snapshot read gives. The write version stays as the second line of defence: a write
whose lease expired before it was sent takes it again, and its guard fails if another wrote meanwhile.

The claims are compared with each service's clock: services whose clocks differ by more than the
margin may take a claim for expired too early. The lease graph is the services' own
(``vocab.Kind.SERVICE``): never listed, exported, validated or reasoned over, written by no user.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyoxigraph as ox

from allianceld.errors import QuerySyntaxError, RemoteStoreError, WriteOutcomeUnknown
from allianceld.store import write_journal
from allianceld.store.backends import SparqlBackend
from allianceld.vocab import ALD, WRITE_LEASE_GRAPH

GRAPH = ox.NamedNode(WRITE_LEASE_GRAPH)
UNTIL = ox.NamedNode(str(ALD.leaseUntil))
_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
_CLAIMS = f"SELECT ?c ?u WHERE {{ GRAPH {GRAPH} {{ ?c {UNTIL} ?u }} }}"
#: how many times a service claims the lease before it gives up (the write is then refused: 409)
ATTEMPTS = 100
#: the pauses between two claims: random, up to this, doubled after each try up to :data:`MAX_PAUSE_S`
FIRST_PAUSE_S = 0.02
MAX_PAUSE_S = 0.25
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """One service's claim of the lease: its token and the time it expires."""

    token: str
    until: datetime

    @property
    def node(self) -> ox.NamedNode:
        """The claim's IRI in the lease graph."""
        return ox.NamedNode(f"{WRITE_LEASE_GRAPH}#{self.token}")

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the claim's time has passed at ``now`` (default: the time it is)."""
        return (now or datetime.now(UTC)) > self.until


def claim(backend: SparqlBackend, token: str, now: datetime | None = None) -> Claim:
    """Add the claim ``token`` of a writer that waits ``backend.timeout_s`` for the store, made ``now``
    (one update). It does not hold the lease yet: see :func:`holds`."""
    made = now or datetime.now(UTC)
    found = Claim(token, made + timedelta(seconds=write_journal.limit_s(backend.timeout_s)))
    until = ox.Literal(found.until.isoformat(), datatype=_DATETIME)
    try:
        backend.update(f"INSERT DATA {{ GRAPH {GRAPH} {{ {found.node} {UNTIL} {until} }} }}")
    except WriteOutcomeUnknown:
        withdraw(backend, found)
        raise RemoteStoreError(
            "the store did not answer in time while allianceld claimed its write lease; nothing of the write was sent"
        ) from None
    return found


def claims(backend: SparqlBackend) -> list[Claim]:
    """Every claim in the store, expired or not (one query)."""
    rows = backend.select(_CLAIMS)
    prefix = WRITE_LEASE_GRAPH + "#"
    return [
        Claim(row["c"].value.removeprefix(prefix), write_journal.until(row["u"]))  # type: ignore[arg-type]
        for row in rows
        if isinstance(row["c"], ox.NamedNode) and isinstance(row["u"], ox.Literal)
    ]


def holds(backend: SparqlBackend, mine: Claim, now: datetime | None = None) -> bool:
    """Whether ``mine`` holds the lease: the store has no other claim that has not expired at ``now``.
    Expired claims of others are removed (best effort)."""
    at = now or datetime.now(UTC)
    others = [c for c in claims(backend) if c.token != mine.token]
    expired = [c for c in others if c.expired(at)]
    if expired:
        _remove(backend, expired)
    return len(expired) == len(others)


def release(mine: Claim) -> str:
    """The operation that ends the lease of ``mine``: the last one of the write's update."""
    return f"DELETE {{ GRAPH {GRAPH} {{ {mine.node} ?p ?o }} }} WHERE {{ GRAPH {GRAPH} {{ {mine.node} ?p ?o }} }}"


def withdraw(backend: SparqlBackend, mine: Claim) -> None:
    """Remove the claim ``mine`` (a write that did not take the lease, failed or was refused); a failure
    to reach the store is logged: the claim's expiry covers it."""
    _remove(backend, [mine])


def _remove(backend: SparqlBackend, found: list[Claim]) -> None:
    try:
        backend.update(" ;\n".join(release(c) for c in found))
    except (QuerySyntaxError, RemoteStoreError, WriteOutcomeUnknown) as exc:
        log.warning("a write lease's claim was left in the store until it expires: %s", exc)


def pause(attempt: int) -> None:
    """Wait before claiming the lease again after ``attempt`` tries: a random time, so that two services
    that withdrew together do not claim together again."""
    time.sleep(random.uniform(0, min(MAX_PAUSE_S, FIRST_PAUSE_S * 2**attempt)))


def take(
    backend: SparqlBackend,
    token: str,
    *,
    attempts: int | None = None,
    now: Callable[[], datetime] | None = None,
) -> Claim | None:
    """Claim the lease until it is held (the claim) or ``attempts`` claims were withdrawn (None): one
    update and one query per try, a random pause between tries (``attempts``: :data:`ATTEMPTS` when None).
    ``now``: the clock."""
    clock = now or (lambda: datetime.now(UTC))
    attempts = ATTEMPTS if attempts is None else attempts
    for attempt in range(attempts):
        mine = claim(backend, token, clock())
        try:
            held = holds(backend, mine, clock())
        except BaseException:
            withdraw(backend, mine)
            raise
        if held:
            return mine
        withdraw(backend, mine)
        if attempt + 1 < attempts:
            pause(attempt)
    return None
