"""The write gate refuses writes that make the knowledge base inconsistent (422, nothing written):
found by the OWL 2 RL rules (disjoint classes; no Java needed) or by HermiT on the write's module."""

from __future__ import annotations

import dataclasses
import gc
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.errors import Inconsistent
from allianceld.rdf import formats
from allianceld.reasoning import dl_check, materialise
from allianceld.reasoning.materialise import Consistency
from allianceld.store import KnowledgeBase, bulk_write
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT, load_shipped, requires_java

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"
ALSO_AN_ALLIANCE = f'<{ID}state/fra> <{ALD}headquarters> "Paris" .'  # the domain of ald:headquarters is ald:Alliance


@pytest.fixture
def checking(write_policy: WritePolicy) -> WritePolicy:
    return dataclasses.replace(write_policy, dl_checks=True)


def write(kb: KnowledgeBase, write_policy: WritePolicy, turtle: str, **kwargs: bool) -> gate.CommitResult:
    triples = formats.parse(turtle, ox.RdfFormat.TURTLE, source="test")
    return gate.commit(kb, write_policy, [gate.Source("urn:test:g", triples, "test")], **kwargs)


def test_the_rl_rules_refuse_a_state_typed_as_an_alliance_without_java(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy
) -> None:
    assert not write_policy.dl_checks
    before = loaded_kb.dump()
    with pytest.raises(Inconsistent) as err:
        write(loaded_kb, write_policy, ALSO_AN_ALLIANCE)
    assert err.value.status == 422
    assert err.value.details["individuals"] == [ID + "state/fra"]
    assert any("disjoint" in a.lower() and "ald:State" in a for a in err.value.details["axioms"])
    assert "OWL 2 RL" in str(err.value)
    assert loaded_kb.dump() == before
    write(loaded_kb, write_policy, ALSO_AN_ALLIANCE, force=True)  # forced writes are let through


def test_hermit_verdicts_refuse_the_write(
    loaded_kb: KnowledgeBase, checking: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What HermiT says is what the gate does (the check itself: tests/reasoning/test_dl_check.py)."""
    seen = []

    def verdict(check: dl_check.WriteCheck) -> Consistency:
        assert check.worker is checking.hermit  # the policy's warm HermiT
        seen.append(check.triples)
        return Consistency(False, "HermiT", "inconsistent: made up for the test")

    monkeypatch.setattr(dl_check.WriteCheck, "verdict", verdict)
    before = loaded_kb.dump()
    with pytest.raises(Inconsistent, match="made up for the test"):
        write(loaded_kb, checking, f"<{ID}state/fra> <http://www.w3.org/2000/01/rdf-schema#comment> 'x' .")
    assert seen and loaded_kb.dump() == before


@requires_java
def test_with_hermit_a_consistent_write_passes_and_an_inconsistent_one_is_refused(
    loaded_kb: KnowledgeBase, checking: WritePolicy
) -> None:
    result = write(loaded_kb, checking, f"<{ID}state/fra> <http://www.w3.org/2000/01/rdf-schema#comment> 'x' .")
    assert result.triples == 1
    before = loaded_kb.dump()
    with pytest.raises(Inconsistent) as err:
        write(loaded_kb, checking, ALSO_AN_ALLIANCE)
    assert ID + "state/fra" in err.value.details["individuals"]
    assert loaded_kb.dump() == before


def test_hermit_checks_the_write_while_it_is_reasoned_over(
    loaded_kb: KnowledgeBase, checking: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DL check runs beside the OWL 2 RL upkeep, not before it: the check below can only answer
    once the upkeep has begun (an event it sets), so run one after the other the two would wait for
    each other until the guard's limit and the write would fail."""
    import threading

    from allianceld.reasoning import materialise

    begun = threading.Event()
    real_maintain = materialise.maintain

    def maintain(*args: object, **kwargs: object) -> object:
        begun.set()
        return real_maintain(*args, **kwargs)  # type: ignore[arg-type]

    def verdict(check: dl_check.WriteCheck) -> Consistency:
        assert begun.wait(timeout=60), "the DL check waited for a reasoning that never began"
        return Consistency(True, "HermiT", "consistent")

    monkeypatch.setattr(materialise, "maintain", maintain)
    monkeypatch.setattr(dl_check.WriteCheck, "verdict", verdict)
    write(loaded_kb, checking, f"<{ID}state/fra> <http://www.w3.org/2000/01/rdf-schema#comment> 'beside' .")
    assert loaded_kb.query("ASK { ?s ?p 'beside' }")


def test_when_both_find_a_clash_hermits_verdict_is_the_one_reported(
    loaded_kb: KnowledgeBase, checking: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OWL 2 RL finds the state typed as an alliance; HermiT's verdict, asked first as before the two
    ran side by side, is the one the refusal carries; nothing is written."""

    def verdict(check: dl_check.WriteCheck) -> Consistency:
        return Consistency(False, "HermiT", "inconsistent: HermiT's own words")

    monkeypatch.setattr(dl_check.WriteCheck, "verdict", verdict)
    before = loaded_kb.dump()
    with pytest.raises(Inconsistent, match="HermiT's own words"):
        write(loaded_kb, checking, ALSO_AN_ALLIANCE)
    assert loaded_kb.dump() == before


def test_the_module_is_gathered_before_the_reasoning_and_only_hermit_runs_beside_it(
    loaded_kb: KnowledgeBase, checking: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gathering the DL check's module is Python's work, as validation and the reasoning are: done
    first, in the writing thread, so that HermiT (Java) runs while the write is validated and
    reasoned over instead of waiting for a module gathered beside them."""
    import threading

    from allianceld.reasoning import materialise

    events: list[tuple[str, str]] = []
    real_gather, real_maintain = dl_check.gather, materialise.maintain

    def gather(*args: object, **kwargs: object) -> object:
        events.append(("gather", threading.current_thread().name))
        return real_gather(*args, **kwargs)  # type: ignore[arg-type]

    def maintain(*args: object, **kwargs: object) -> object:
        events.append(("reasoning", threading.current_thread().name))
        return real_maintain(*args, **kwargs)  # type: ignore[arg-type]

    def verdict(check: dl_check.WriteCheck) -> Consistency:
        events.append(("hermit", threading.current_thread().name))
        return Consistency(True, "HermiT", "consistent")

    real_validate = checking.validator.validate

    def validate(*args: object, **kwargs: object) -> object:
        events.append(("validation", threading.current_thread().name))
        return real_validate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dl_check, "gather", gather)
    monkeypatch.setattr(materialise, "maintain", maintain)
    monkeypatch.setattr(checking.validator, "validate", validate)
    monkeypatch.setattr(dl_check.WriteCheck, "verdict", verdict)
    write(loaded_kb, checking, f"<{ID}state/fra> <http://www.w3.org/2000/01/rdf-schema#comment> 'first' .")
    writing = threading.current_thread().name
    order = [what for what, name in events if name == writing]
    assert order == ["gather", "validation", "reasoning"]
    [hermit] = [name for what, name in events if what == "hermit"]
    assert hermit != writing


def test_a_large_write_refused_after_its_graph_began_loading_leaves_nothing(
    tmp_path: Path, settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a store nothing else reads, a large write's new graph loads while it is reasoned over
    (begun before the reasoning starts); the OWL 2 RL rules then refuse it: its graph is rolled
    back, the store is as before and no journal is left."""
    path = tmp_path / "store"
    kb = load_shipped(KnowledgeBase(path), settings, write_policy)
    kb.unshared = True
    events: list[str] = []
    begin, inferred = bulk_write.begin, materialise.inferred_triples
    monkeypatch.setattr(bulk_write, "begin", lambda *a: (events.append("begin"), begin(*a))[1])
    monkeypatch.setattr(materialise, "inferred_triples", lambda *a: (events.append("reason"), inferred(*a))[1])
    data = generate(20_000, seed=0) + formats.parse(ALSO_AN_ALLIANCE, ox.RdfFormat.TURTLE, source="test")
    before = kb.dump()
    with pytest.raises(Inconsistent):
        gate.commit(kb, write_policy, [gate.Source("urn:test:large", data, "test")])
    assert events == ["begin", "reason"]
    assert kb.dump() == before
    assert not bulk_write.journal_path(path).exists()
    kb.close()


def test_a_large_write_reasoned_over_in_full_is_refused_for_a_disjointness_it_makes(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy
) -> None:
    """A write large enough to be reasoned over in full (not by the incremental engine) is refused
    as a small one is: France typed as an alliance by a property's domain."""
    data = generate(20_000, seed=0) + formats.parse(ALSO_AN_ALLIANCE, ox.RdfFormat.TURTLE, source="test")
    assert gate.is_large_write(loaded_kb, len(data))
    before = loaded_kb.dump()
    with pytest.raises(Inconsistent) as err:
        gate.commit(loaded_kb, write_policy, [gate.Source("urn:test:large", data, "test")])
    assert err.value.details["individuals"] == [ID + "state/fra"]
    assert "OWL 2 RL" in str(err.value)
    assert loaded_kb.dump() == before


def test_a_large_write_is_not_refused_for_a_disjointness_the_store_held_before(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy
) -> None:
    write(loaded_kb, write_policy, ALSO_AN_ALLIANCE, force=True)
    data = generate(20_000, seed=0)
    result = gate.commit(loaded_kb, write_policy, [gate.Source("urn:test:large", data, "test")])
    assert result.triples == len(data) and result.reasoning is not None and result.reasoning.why  # in full


def test_a_large_write_is_made_with_the_cycle_collector_off(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off while a large write is made, on again after (and left off when it was off); a small
    write leaves it as it is."""
    seen: list[bool] = []
    validate = write_policy.validator.begin_bulk
    monkeypatch.setattr(
        write_policy.validator, "begin_bulk", lambda *a, **k: (seen.append(gc.isenabled()), validate(*a, **k))[1]
    )
    assert gc.isenabled()
    gate.commit(loaded_kb, write_policy, [gate.Source("urn:test:large", generate(20_000, seed=0), "test")])
    assert seen == [False]  # while it is validated
    assert gc.isenabled()  # given back
    gc.disable()
    try:
        gate.commit(
            loaded_kb, write_policy, [gate.Source("urn:test:large2", generate(20_000, seed=1), "test")], force=True
        )
        assert not gc.isenabled()  # as it was
    finally:
        gc.enable()
    write(loaded_kb, write_policy, f"<{ID}state/fra> <http://www.w3.org/2000/01/rdf-schema#comment> 'x' .")
    assert len(seen) == 2 and gc.isenabled()
