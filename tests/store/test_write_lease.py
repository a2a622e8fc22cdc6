"""The write lease of a remote store (:mod:`allianceld.store.write_lease`) over an on-disk `oxigraph serve`,
whose update transactions do not notice two writes made from the same version: two services never both
hold it, a service waits for the other's write and makes its own from the state that write left, a dead
service's claim does not block once its time has passed, and no write leaves a claim behind. The order
of events is set by hand (the steps of two services interleaved by the test) or by events, never by
sleeping; KnowledgeBases over one endpoint stand for services."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.errors import ValidationFailed, WriteConflict
from allianceld.store import KnowledgeBase, write_lease, write_version
from allianceld.store.backends import SparqlBackend
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import TEST_DATA, oxigraph_serve

pytestmark = pytest.mark.server

G = "http://example.org/g"
PAST = datetime(2000, 1, 1, tzinfo=UTC)
#: rounds of the stress test: without the lease, two writes landed from one version within 40 rounds in each
#: of 29 runs (in the first 26 rounds, in 0.2-1.2 s)
ROUNDS, CLIENTS = 40, 8


def _t(value: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal(value))


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory) -> Iterator[str]:
    """An `oxigraph serve` on disk (the store that lets two updates from one snapshot both commit)."""
    with oxigraph_serve("--location", str(tmp_path_factory.mktemp("oxigraph") / "store")) as base:
        yield base


def _service(base: str) -> KnowledgeBase:
    return KnowledgeBase(backend=SparqlBackend(base + "/query", base + "/update"))


@pytest.fixture
def store(on_disk: str) -> str:
    """The on-disk store, emptied."""
    _service(on_disk).backend.update("DROP SILENT ALL")
    return on_disk


def _backend(kb: KnowledgeBase) -> SparqlBackend:
    assert isinstance(kb.backend, SparqlBackend)
    return kb.backend


def _version(kb: KnowledgeBase) -> int:
    found = write_version.read(_backend(kb))
    assert found is not None
    return found.number


# each order of the two steps of two services (claim, then read the claims), A's and B's steps interleaved
ORDERS = [o for o in itertools.permutations("aAbB") if o.index("a") < o.index("A") and o.index("b") < o.index("B")]


@pytest.mark.parametrize("order", ORDERS, ids=["".join(o) for o in ORDERS])
def test_two_services_claiming_at_once_never_both_hold_the_lease(store: str, order: tuple[str, ...]) -> None:
    """a/b: A/B adds its claim; A/B: A/B reads the claims. At most one holds the lease; when one claimed
    and read before the other claimed, that one holds it."""
    backends = {"a": _backend(_service(store)), "b": _backend(_service(store))}
    claims: dict[str, write_lease.Claim] = {}
    held: dict[str, bool] = {}
    for step in order:
        name = step.lower()
        if step == name:
            claims[name] = write_lease.claim(backends[name], name)
        else:
            held[name] = write_lease.holds(backends[name], claims[name])
    assert sum(held.values()) <= 1, order
    first = order[0]
    if order[1] == first.upper():  # the first claimed and read before the other claimed
        assert held == {first: True, ("b" if first == "a" else "a"): False}


def test_a_service_waits_for_the_other_s_write_and_writes_from_the_state_it_left(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _service(store), _service(store)
    a.replace_graphs({G: [_t("start")]})
    start = _version(a)
    b_waits, a_done = threading.Event(), threading.Event()

    def pause(attempt: int) -> None:  # only B pauses: A holds the lease
        b_waits.set()
        assert a_done.wait(60)

    monkeypatch.setattr(write_lease, "pause", pause)
    seen_by_b: list[set[ox.Triple]] = []

    def b_writes() -> None:
        def once() -> None:
            seen_by_b.append(set(b.triples(G)))
            b.write({G: [*seen_by_b[-1], _t("b")]})

        b.exclusive(once)

    writer = threading.Thread(target=b_writes)

    def a_writes() -> None:
        read = a.triples(G)
        writer.start()
        assert b_waits.wait(60), "B did not wait for the lease"  # B claimed, saw A's claim and withdrew
        a.write({G: [*read, _t("a")]})

    a.exclusive(a_writes)
    a_done.set()
    writer.join(60)
    assert seen_by_b == [{_t("start"), _t("a")}]  # B read only after A's write landed: made once, from it
    assert set(a.triples(G)) == {_t("start"), _t("a"), _t("b")}
    assert _version(a) == start + 2
    assert write_lease.claims(_backend(a)) == []


def test_an_expired_claim_of_a_dead_service_does_not_block_and_is_removed(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _service(store)
    write_lease.claim(_backend(kb), "dead", now=PAST)  # a service that stopped long ago, holding the lease

    def pause(attempt: int) -> None:
        raise AssertionError("the write waited for an expired claim")

    monkeypatch.setattr(write_lease, "pause", pause)
    kb.replace_graphs({G: [_t("x")]})
    assert kb.triples(G) == [_t("x")]
    assert write_lease.claims(_backend(kb)) == []


def test_a_claim_that_has_not_expired_makes_the_write_wait_then_refused(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _service(store)
    kb.replace_graphs({G: [_t("x")]})
    alive = write_lease.claim(_backend(kb), "alive")  # another service, still writing
    pauses: list[int] = []
    monkeypatch.setattr(write_lease, "pause", pauses.append)
    with pytest.raises(WriteConflict) as refused:
        kb.replace_graphs({G: [_t("y")]})
    assert refused.value.status == 409 and "nothing of it was stored" in refused.value.message
    assert len(pauses) == write_lease.ATTEMPTS - 1
    assert kb.triples(G) == [_t("x")]
    assert write_lease.claims(_backend(kb)) == [alive]  # its own claims withdrawn


def test_no_write_leaves_a_claim(store: str, settings: Settings, write_policy: WritePolicy) -> None:
    """Landed, refused by validation, or failed inside its operation: the lease is free afterwards."""
    kb = _service(store)
    gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, []))
    assert write_lease.claims(_backend(kb)) == []
    version = _version(kb)
    bad = gate.read_file(TEST_DATA / "invalid" / "membership-start-before-founding.ttl")
    with pytest.raises(ValidationFailed):
        gate.commit(kb, write_policy, [bad])
    assert write_lease.claims(_backend(kb)) == [] and _version(kb) == version

    def fails() -> None:
        raise RuntimeError("the operation failed")

    with pytest.raises(RuntimeError):
        kb.exclusive(fails)
    assert write_lease.claims(_backend(kb)) == [] and _version(kb) == version


def test_writes_sent_at_the_same_instant_from_one_version_never_both_land(store: str) -> None:
    """Each round, 8 services send a write at the same instant (a barrier), all from the version the store
    is at: every write acknowledged made a version of its own (two that landed from one version would
    count two writes for one step)."""
    services = [_service(store) for _ in range(CLIENTS)]
    services[0].replace_graphs({G: [_t("start")]})
    before = _version(services[0])
    for round_ in range(ROUNDS):
        landed = _at_once(services, round_)
        after = _version(services[0])
        assert len(landed) == after - before, f"round {round_}: {len(landed)} writes landed for {after - before}"
        before = after
    assert write_lease.claims(_backend(services[0])) == []


def _at_once(services: list[KnowledgeBase], round_: int) -> list[int]:
    """Each service writes a graph of its own, all at the same instant; those whose write landed."""
    barrier = threading.Barrier(len(services))
    landed: list[int] = []

    def write(i: int) -> None:
        barrier.wait(60)
        try:
            services[i].write({f"{G}/{i}": [_t(str(round_))]})
        except WriteConflict:
            return
        landed.append(i)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(services))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return landed


def test_the_lease_graph_is_the_services_own(store: str, tmp_path: Path) -> None:
    kb = _service(store)
    kb.replace_graphs({G: [_t("x")]})
    write_lease.claim(_backend(kb), "standing")
    assert kb.graphs() == [G] and b"write-lease" not in kb.dump()
