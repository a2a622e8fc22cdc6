"""Incremental validation gives the results of a full pySHACL run: every write below is validated
twice against a real on-disk store holding the shipped data, once on its scope (the records it can
affect and the data their shapes read) and once over the whole store, and the reports must agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, XSD, Literal, URIRef

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.report import Report
from allianceld.validation.scope import Reach, scope
from allianceld.validation.validator import Validator
from allianceld.vocab import ALD, ID_BASE, ORG, data_graph_iri
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT, TEST_DATA

ID = rdflib.Namespace(ID_BASE)
# the bad records whose judgement depends on the stored data, and two good ones
CASES = [
    TEST_DATA / "invalid" / f"{name}.ttl"
    for name in [
        "membership-start-before-founding",
        "membership-start-after-dissolution",
        "membership-member-is-alliance",
        "bilateral-three-members",
        "alliance-also-a-state",
        "source-without-title",
        "provision-without-obligation-kind",
        "state-two-english-labels",
    ]
] + [
    TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl",
    TEST_DATA / "valid" / "bilateral-alliance-two-members.ttl",
]


@pytest.fixture(scope="module")
def disk_kb(tmp_path_factory, write_policy: WritePolicy, settings: Settings) -> KnowledgeBase:
    """The ontology and the data files the cases touch (a full run over all of them takes longer)."""
    kb = KnowledgeBase(tmp_path_factory.mktemp("incremental") / "store")
    files = [f for f in settings.data_files() if f.stem in {"sources", "regions", "states", "nato", "us-japan", "quad"}]
    gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, files), reason=False)
    return kb


def _key(report: Report) -> set[tuple[str | None, ...]]:
    """The results, blank node labels left out (the two runs copy the store's blank nodes apart)."""
    return {
        tuple(
            re.sub(r"_:\w+", "_:b", v) if v else v
            for v in (r.severity, r.focus_node, r.path, r.value, r.source_shape, r.message)
        )
        for r in report.results
    }


def _agree(validator: Validator, kb: KnowledgeBase, data: rdflib.Graph, replacing: list[str]) -> Report:
    incremental = validator.validate(data, kb, replacing=replacing)
    full = validator.validate(data, kb, replacing=replacing, full=True)
    assert _key(incremental) == _key(full), (incremental.to_text(), full.to_text())
    bulk = validator.validate_bulk(formats.from_rdflib(data), kb, replacing=replacing)  # as a large write is
    assert _key(bulk) == _key(full), (bulk.to_text(), full.to_text())
    return incremental


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}-{p.stem}" for p in CASES])
def test_a_new_graph_is_judged_as_a_full_run_judges_it(path: Path, validator: Validator, disk_kb) -> None:
    data = formats.to_rdflib(formats.parse_file(path))
    report = _agree(validator, disk_kb, data, [data_graph_iri("new")])
    assert report.accepted == (path.parent.name == "valid"), report.to_text()


def _graph(kb: KnowledgeBase, name: str) -> rdflib.Graph:
    return kb.rdflib_graph([data_graph_iri(name)])


def _founding_moved(g: rdflib.Graph) -> None:
    g.set((ID["alliance/nato"], ALD.foundingDate, Literal("1960-01-01", datatype=XSD.date)))


def _state_untyped(g: rdflib.Graph) -> None:
    g.remove((ID["state/fra"], RDF.type, None))


def _third_member(g: rdflib.Graph) -> None:
    m = ID["membership/us-japan-alliance-kor"]
    for t in [
        (m, RDF.type, ORG.Membership),
        (m, ORG.member, ID["state/kor"]),
        (m, ORG.organization, ID["alliance/us-japan-alliance"]),
        (m, ORG.role, ALD.Member),
        (m, ALD.startDate, Literal("1990-01-01", datatype=XSD.date)),
        (m, rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), URIRef("https://example.org/source")),
    ]:
        g.add(t)


def _provision_orphaned(g: rdflib.Graph) -> None:
    g.remove((None, ALD.hasProvision, None))


def _emptied(g: rdflib.Graph) -> None:
    g.remove((None, None, None))


EDITS: dict[str, tuple[str, Callable[[rdflib.Graph], None], bool]] = {
    "alliance founded after its memberships began": ("nato", _founding_moved, False),
    "a state loses its type, its memberships their member": ("states", _state_untyped, False),
    "a bilateral alliance gets a third member": ("us-japan", _third_member, False),
    "provisions lose their treaty": ("us-japan", _provision_orphaned, False),
    "a graph other records need is removed": ("states", _emptied, False),
    "a graph no other record needs is removed": ("quad", _emptied, True),
    "a graph is rewritten unchanged": ("nato", lambda g: None, True),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_changing_stored_data_is_judged_as_a_full_run_judges_it(name: str, validator: Validator, disk_kb) -> None:
    graph, edit, conforms = EDITS[name]
    data = _graph(disk_kb, graph)
    edit(data)
    report = _agree(validator, disk_kb, data, [data_graph_iri(graph)])
    assert report.accepted == conforms, report.to_text()


def test_the_scope_of_a_membership_is_its_neighbourhood_not_the_store(validator: Validator, disk_kb) -> None:
    data = rdflib.Graph()
    _third_member(data)
    found = scope(disk_kb, data, [data_graph_iri("new")], validator.reach)
    assert found is not None
    # the membership, what it names, and the alliance's other memberships (a bilateral count)
    assert ID["alliance/us-japan-alliance"] in found.focus and ID["membership/us-japan-alliance-kor"] in found.focus
    assert not any(str(n).startswith(ID_BASE + "membership/nato") for n in found.focus)
    assert len(found.context) < len(disk_kb.rdflib_graph(disk_kb.data_graphs())) / 5


def test_shapes_that_read_further_than_two_steps_fall_back_to_a_full_run() -> None:
    shapes = rdflib.Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ;
            sh:property [ sh:path ( ex:a ex:b ex:c ) ; sh:minCount 1 ] .
        """,
        format="turtle",
    )
    assert not Reach.of(shapes).bounded
    assert Reach.of(rdflib.Graph().parse(ROOT / "shapes" / "allianceld.shapes.ttl")).bounded


def test_a_large_write_is_validated_with_the_whole_store_and_judged_the_same(
    write_policy: WritePolicy, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write large for its store is validated in bulk (``begin_bulk``: no scope, no rdflib copy):
    an invalid one is refused with nothing written, a valid one committed."""
    from conftest import load_shipped

    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    stored = kb.count()
    assert gate.is_large_write(kb, max(2000, stored // 10)) and not gate.is_large_write(kb, 1999)
    assert not gate.is_large_write(kb, stored // 10 - 1)
    calls: list[int] = []
    real = Validator.begin_bulk
    monkeypatch.setattr(
        Validator, "begin_bulk", lambda self, ts, *a, **k: calls.append(len(ts)) or real(self, ts, *a, **k)
    )
    monkeypatch.setattr(gate, "is_large_write", lambda kb, size: size >= 10)
    bad = formats.parse_file(TEST_DATA / "invalid" / sorted(p.name for p in (TEST_DATA / "invalid").glob("*.ttl"))[0])
    before = kb.dump()
    with pytest.raises(gate.ValidationFailed) as refused:
        gate.commit(kb, write_policy, [gate.Source(data_graph_iri("bulk"), bad, "test")])
    assert calls == [len(bad)]
    assert not refused.value.report.conforms
    assert kb.dump() == before
    good = kb.triples(data_graph_iri("quad"))
    gate.commit(kb, write_policy, [gate.Source(data_graph_iri("quad"), good[:-1] + good[-1:], "test")])
    assert len(calls) == 2


def test_the_triples_naming_a_warned_node_are_found_as_by_its_text() -> None:
    """``validate_bulk`` finds the written triples about each warned node by looking its terms up;
    the same triples as comparing every subject's and object's text, never a literal's."""
    from allianceld.validation.compiled import text
    from allianceld.validation.validator import _naming

    a, b, p = ox.NamedNode("http://example.org/a"), ox.BlankNode("b1"), ox.NamedNode("http://example.org/p")
    triples = [
        ox.Triple(a, p, b),
        ox.Triple(b, p, ox.Literal("http://example.org/a")),  # a literal shown as the IRI: not a
        ox.Triple(p, p, ox.Literal("x", language="en")),
        ox.Triple(ox.BlankNode("b2"), p, a),
    ]
    nodes = {"http://example.org/a", "_:b1", '"x"@en', "http://example.org/absent", "_:b3", "not an IRI"}
    expected: dict[str, set[ox.Triple]] = {}
    for t in triples:
        for n in (t.subject, t.object):
            if not isinstance(n, ox.Literal) and text(n) in nodes:
                expected.setdefault(text(n), set()).add(t)  # type: ignore[arg-type]
    assert _naming(triples, nodes) == expected
    assert set(expected) == {"http://example.org/a", "_:b1"} and len(expected["http://example.org/a"]) == 2
