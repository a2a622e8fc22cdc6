"""The compiled SPARQL validator (allianceld.validation.compiled) gives pySHACL's results, compared as
multisets of (severity, focus, path, value, source shape, constraint component, message), blank
node labels left out: on every hand-made record alone and beside the shipped data, on the
shipped data, and on generated alliance data, clean and with corrupted records.

pySHACL takes about a second per run over the shipped data, so a record beside the shipped data
is compared with pySHACL's report composed from two smaller runs: the shipped data's own results
for the nodes the record cannot affect, and a run over the record's scope (the nodes it can
affect and the data their shapes read, :func:`allianceld.validation.scope.scope`) for the others.
Two records are also compared with a full pySHACL run over shipped data + record.
"""

from __future__ import annotations

import itertools
import re
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from allianceld.config import Settings
from allianceld.errors import InvalidShapes
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import CompiledShapes, UnsupportedShapes, plan
from allianceld.validation.report import Report, Result
from allianceld.validation.scope import scope
from allianceld.validation.validator import Validator, _text
from allianceld.vocab import ALD, ID_BASE, ORG, data_graph_iri
from conftest import ROOT, TEST_DATA

sys.path.insert(0, str(ROOT / "benchmarks"))
import generate

FILES = sorted((TEST_DATA / "invalid").glob("*.ttl")) + sorted((TEST_DATA / "valid").glob("*.ttl"))
IDS = [f"{p.parent.name}-{p.stem}" for p in FILES]
FULL_RUNS = ["bilateral-three-members", "membership-start-before-founding"]
XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")


def _key(results: list[Result]) -> Counter[tuple[str | None, ...]]:
    return Counter(
        tuple(
            re.sub(r"_:\w+", "_:b", v) if v else v
            for v in (r.severity, r.focus_node, r.path, r.value, r.source_shape, r.constraint, r.message)
        )
        for r in results
    )


def _same(compiled: Report, reference: list[Result]) -> None:
    got, want = _key(compiled.results), _key(reference)
    assert got == want, f"compiled only: {sorted(got - want, key=str)}\npySHACL only: {sorted(want - got, key=str)}"


@pytest.fixture(scope="module")
def pyshacl_validator(settings: Settings) -> Validator:
    return Validator.from_settings(settings, engine="pyshacl")


@pytest.fixture(scope="module")
def shipped(settings: Settings) -> list[ox.Triple]:
    return [t for f in settings.data_files() for t in formats.parse_file(f)]


@pytest.fixture(scope="module")
def shipped_reports(validator: Validator, pyshacl_validator: Validator, shipped) -> tuple[Report, Report]:
    return validator.validate_triples(shipped), pyshacl_validator.validate_triples(shipped)


def test_the_shipped_data(shipped_reports) -> None:
    compiled, reference = shipped_reports
    _same(compiled, reference.results)
    assert compiled.accepted and compiled.warnings  # the shipped data has Warnings to compare


def _read(data: bytes) -> list[ox.Triple]:
    """Turtle as pyoxigraph reads it, without formats' input checks (which refuse an impossible
    date before the shapes see it): the shapes must catch what an importer may build."""
    return [q.triple for q in ox.parse(data, format=ox.RdfFormat.TURTLE)]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_a_record_alone(path: Path, validator: Validator, pyshacl_validator: Validator) -> None:
    triples = _read(path.read_bytes())
    compiled = validator.validate_triples(triples)
    _same(compiled, pyshacl_validator.validate(formats.to_rdflib(triples)).results)
    assert compiled.accepted == (path.parent.name == "valid")
    graph = validator.validate(formats.to_rdflib(triples))  # the same through an rdflib graph
    assert _key(graph.results) == _key(compiled.results)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_a_record_beside_the_shipped_data(
    path: Path, validator: Validator, pyshacl_validator: Validator, shared_kb: KnowledgeBase, shipped, shipped_reports
) -> None:
    triples = _read(path.read_bytes())
    compiled = validator.validate_triples(shipped + triples)
    found = scope(shared_kb, formats.to_rdflib(triples), [data_graph_iri("new")], pyshacl_validator.reach)
    assert found is not None
    near = {_text(n) for n in found.focus}
    reference = [r for r in shipped_reports[1].results if r.focus_node not in near]
    reference += [r for r in pyshacl_validator._run(found.context).results if r.focus_node in near]
    _same(compiled, reference)
    if path.stem in FULL_RUNS:
        _same(compiled, pyshacl_validator.validate_triples(shipped + triples).results)


# -- generated data --------------------------------------------------------------------------


def _corrupt(triples: list[ox.Triple]) -> list[ox.Triple]:
    """A copy of generated data with five corrupted records: a membership without its role, an
    alliance with a second founding date, a membership starting on 2023-02-30, a membership
    starting before its alliance was founded, and a third member in a bilateral alliance."""
    out = list(triples)
    iri = ox.NamedNode
    rdf_type, role, start, founded = iri(str(rdflib.RDF.type)), iri(ORG.role), iri(ALD.startDate), iri(ALD.foundingDate)
    organization, member = iri(ORG.organization), iri(ORG.member)
    memberships = sorted(
        {t.subject for t in out if t.predicate == rdf_type and t.object == iri(ORG.Membership)}, key=str
    )
    # 1. a required triple dropped
    out.remove(next(t for t in out if t.subject == memberships[0] and t.predicate == role))
    # 2. a second founding date
    alliance = next(t.subject for t in out if t.predicate == founded)
    out.append(ox.Triple(alliance, founded, ox.Literal("1950-01-01", datatype=XSD_DATE)))
    # 3. an ill-typed start date, 4. a start before the founding
    for m, day in ((memberships[1], "2023-02-30"), (memberships[2], "1800-01-01")):
        old = next(t for t in out if t.subject == m and t.predicate == start)
        out[out.index(old)] = ox.Triple(m, start, ox.Literal(day, datatype=XSD_DATE))
    # 5. a third member of a bilateral alliance, copied from one of its two memberships
    bilateral = next(t.subject for t in out if t.predicate == rdf_type and t.object == iri(ALD.BilateralAlliance))
    first = next(t.subject for t in out if t.predicate == organization and t.object == bilateral)
    third = ox.NamedNode(first.value + "-third")
    state = next(t.subject for t in out if t.predicate == rdf_type and t.object == iri(ALD.State))
    for t in [t for t in out if t.subject == first]:
        o = state if t.predicate == member else t.object
        out.append(ox.Triple(third, t.predicate, o))
    return out


@pytest.fixture(scope="module")
def generated() -> list[ox.Triple]:
    return generate.generate(5000, seed=0)


def test_generated_data(generated, validator: Validator, pyshacl_validator: Validator) -> None:
    compiled = validator.validate_triples(generated)
    _same(compiled, pyshacl_validator.validate(formats.to_rdflib(generated)).results)
    assert compiled.accepted


def test_generated_data_with_corrupted_records(generated, validator: Validator, pyshacl_validator: Validator) -> None:
    corrupted = _corrupt(generated)
    compiled = validator.validate_triples(corrupted)
    _same(compiled, pyshacl_validator.validate(formats.to_rdflib(corrupted)).results)
    found = {r.source_shape.rsplit("#", 1)[-1] + " " + r.constraint.rsplit("#", 1)[-1] for r in compiled.violations}
    assert {
        "Membership-role MinCountConstraintComponent",
        "Alliance-foundingDate MaxCountConstraintComponent",
        "Membership-startDate DatatypeConstraintComponent",
        "Membership-startAfterFounding SPARQLConstraintComponent",
        "Bilateral-atMostTwoAtOnce SPARQLConstraintComponent",
    } <= found


def test_known_difference_an_ill_typed_literal_compared_in_a_sparql_constraint(
    validator: Validator, pyshacl_validator: Validator
) -> None:
    """SPARQL-based constraints run on pyoxigraph's SPARQL engine, which follows SPARQL 1.1:
    comparing an ill-typed literal is an error, where rdflib's engine orders it lexically. A
    third member joining a bilateral alliance on 2023-02-30: pySHACL also counts three members
    on that day; both report the impossible date itself."""
    path = TEST_DATA / "valid" / "bilateral-alliance-two-members.ttl"
    third = """
<https://w3id.org/allianceld/id/membership/test-duo-xtc> a org:Membership ; org:member state:xtc ;
    org:organization alliance:test-duo ; org:role ald:Member ; ald:startDate "2023-02-30"^^xsd:date ;
    prov:wasDerivedFrom <https://example.org/test-source> ."""
    data = path.read_text(encoding="utf-8") + third
    triples = _read(data.encode())  # formats.parse would refuse the impossible date before the shapes
    compiled, reference = validator.validate_triples(triples), pyshacl_validator.validate_triples(triples)
    difference = _key(reference.results) - _key(compiled.results)
    message = "A bilateral alliance has exactly two members at any time: on 2023-02-30 it had 3."
    assert [(r[4].rsplit("#", 1)[-1], r[6]) for r in difference] == [("Bilateral-atMostTwoAtOnce", message)]
    assert not _key(compiled.results) - _key(reference.results)
    assert any(r.constraint.endswith("DatatypeConstraintComponent") for r in compiled.violations)


# -- the compiler itself -----------------------------------------------------------------------


def test_the_report_graph_is_a_shacl_validation_report(validator: Validator) -> None:
    data = f"""<{ID_BASE}provision/lost> a <{ALD.DefenceProvision}> ."""  # no treaty: an inverse path
    report = validator.validate_triples(formats.parse(data.encode(), ox.RdfFormat.TURTLE, source="test"))
    g = rdflib.Graph().parse(data=report.to_turtle(), format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    (root,) = g.subjects(rdflib.RDF.type, sh.ValidationReport)
    assert g.value(root, sh.conforms) == rdflib.Literal(False)
    results = list(g.objects(root, sh.result))
    assert len(results) == len(report.results) >= 1
    for node in results:
        for p in (sh.focusNode, sh.sourceShape, sh.sourceConstraintComponent, sh.resultSeverity, sh.resultMessage):
            assert g.value(node, p) is not None
    inverse = [g.value(n, sh.resultPath) for n in results if isinstance(g.value(n, sh.resultPath), rdflib.BNode)]
    assert inverse and all(g.value(p, sh.inversePath) == ALD.hasProvision for p in inverse)
    assert "(complex path)" in {r.path for r in report.results}


# -- literal comparisons: pySHACL compares by rdflib's order, not SPARQL's operators ----------------

COMPARED = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:a ; sh:lessThan ex:b ; sh:message "lt" ] ,
    [ sh:path ex:c ; sh:lessThanOrEquals ex:d ; sh:message "le" ] ,
    [ sh:path ex:r ; sh:minInclusive 2 ; sh:maxInclusive 999 ; sh:message "integer range" ] ,
    [ sh:path ex:s ; sh:minInclusive "2020-01-01"^^xsd:date ; sh:maxInclusive "2020-12-31"^^xsd:date ;
      sh:message "date range" ] ,
    [ sh:path ex:t ; sh:minInclusive "b" ; sh:maxInclusive "m" ; sh:message "string range" ] ,
    [ sh:path ex:u ; sh:minInclusive 0.5 ; sh:maxInclusive 1.0 ; sh:message "decimal range" ] ,
    [ sh:path ex:dt ; sh:datatype xsd:date ; sh:message "date" ] ,
    [ sh:path ex:di ; sh:datatype xsd:integer ; sh:message "int" ] ,
    [ sh:path ex:ds ; sh:datatype xsd:string ; sh:message "string" ] ,
    [ sh:path ex:l ; sh:languageIn ( "en" "fr-CA" ) ; sh:uniqueLang true ; sh:message "languages" ] ,
    [ sh:path ex:p ; sh:pattern "^ab+c" ; sh:flags "i" ; sh:message "pattern" ] .
"""
LITERALS = [
    '"2020-01-01"^^xsd:date', '"2021-06-01"^^xsd:date', '"2023-02-30"^^xsd:date', '"2019-13-01"^^xsd:date',
    '"2020-01-01T10:00:00Z"^^xsd:dateTime', '"2020-01-01Z"^^xsd:date', "5", "1000", "1.5", '"abc"^^xsd:integer',
    '"x"', '"c"', '"a"@en', "ex:iri", '"foo"^^ex:dt', "true", '"P1D"^^xsd:duration', '"n"^^xsd:token',
]  # fmt: skip


def _order_crashes(a: rdflib.term.Node, b: rdflib.term.Node) -> bool:
    """pySHACL raises on ``a <= b`` for some pairs of non-string literals (rdflib's TypeError)."""
    if not (isinstance(a, rdflib.Literal) and isinstance(b, rdflib.Literal)):
        return False
    if isinstance(a.value, str) or isinstance(b.value, str):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib tests NotImplemented for truth
        try:
            a <= b  # noqa: B015
        except TypeError:
            return True
    return False


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's, in pySHACL's comparisons
def test_literal_comparisons_follow_pyshacl(tmp_path: Path) -> None:
    """sh:lessThan, sh:lessThanOrEquals and ranges over pairs of valid, ill-typed, mixed-type,
    string and IRI values; datatypes, languages and patterns over the same values. Values are
    left out of the comparison (pyoxigraph shows canonical forms), focus nodes identify them."""
    prefixes = "@prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    terms = {
        t: next(rdflib.Graph().parse(data=f"{prefixes} ex:s ex:p {t} .", format="turtle").objects()) for t in LITERALS
    }
    lines = []
    for i, (a, b) in enumerate(itertools.product(LITERALS, LITERALS)):
        le = "" if _order_crashes(terms[a], terms[b]) else f" ; ex:c {a} ; ex:d {b}"
        lines.append(f"ex:n{i} a ex:C ; ex:a {a} ; ex:b {b}{le} .")
    for i, a in enumerate(LITERALS):
        values = " ; ".join(f"ex:{p} {a}" for p in ("r", "s", "t", "u", "dt", "di", "ds", "p"))
        lines.append(f"ex:m{i} a ex:C ; {values} .")
    langs = ['"a"@en', '"b"@EN', '"c"@en-GB', '"d"@fr-CA', '"e"@fr', '"f"', '"g"@fr-ca-x']
    lines += [f"ex:k{i} a ex:C ; ex:l {a} , {langs[(i + 1) % len(langs)]} ." for i, a in enumerate(langs)]
    data = rdflib.Graph().parse(data=prefixes + "\n".join(lines), format="turtle")
    (tmp_path / "shapes.ttl").write_text(COMPARED, encoding="utf-8")
    engines = [Validator([tmp_path / "shapes.ttl"], rdflib.Graph(), engine=e) for e in ("sparql", "pyshacl")]
    compiled, reference = (e.validate(data) for e in engines)

    def key(report: Report) -> Counter[tuple[str | None, ...]]:
        return Counter((r.focus_node, r.path, r.constraint, r.message) for r in report.results)

    assert key(compiled) == key(reference)
    assert len(reference.results) > 500


SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message "m" ; {} .
"""


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("sh:property [ sh:path ex:p ; sh:datatype xsd:byte ]", "XMLSchema#byte"),
        ("sh:property [ sh:path ex:p ; sh:property [ sh:path ex:q ; sh:minCount 1 ] ]", "on the property shape"),
        ("sh:node ex:S", "recursive"),
        ("sh:property [ sh:path ex:p ; sh:in ( 4.0 ) ]", "canonical"),
        (
            'sh:sparql [ sh:select "SELECT $this WHERE { { SELECT ?x WHERE { ?x ?p ?o } } $this ?q ?x }" ]',
            "sub-SELECT",
        ),
        (
            "sh:node [ ex:param 1 ] . ex:Component a sh:ConstraintComponent ; sh:parameter [ sh:path ex:param ]",
            "constraint component in a nested shape",
        ),
        ("sh:property [ sh:path [ sh:zeroOrMorePath ex:p ; sh:inversePath ex:q ] ]", "well-formed SHACL path"),
        ('sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o } LIMIT 1" ]', "LIMIT"),
        ('sh:sparql [ sh:select "SELECT ?x WHERE { $this ?p ?x }" ]', "$this"),
        ('sh:sparql [ sh:select "SELECT $this (COUNT(*) AS ?n) WHERE { $this ?p ?o }" ]', "grouped"),
    ],
)
def test_anything_else_is_refused_by_name(body: str, named: str) -> None:
    g = rdflib.Graph().parse(data=SHAPES.format(body), format="turtle")
    with pytest.raises(UnsupportedShapes, match=re.escape(named)):
        CompiledShapes(g)


@pytest.mark.parametrize(
    ("where", "named"),
    [
        ("$this ?p ?o MINUS { $this a ?c }", "MINUS"),
        ("VALUES ?o { 1 } $this ?p ?o", "VALUES"),
        ("SERVICE <http://127.0.0.1:9/sparql> { $this ?p ?o }", "SERVICE"),
    ],
)
def test_sparql_the_spec_forbids_makes_the_shapes_graph_invalid(where: str, named: str) -> None:
    """SHACL 5.3.1: MINUS, VALUES and SERVICE make a SPARQL constraint ill-formed: the shapes
    graph is refused when it is read (naming the shape), not left to fail on a write."""
    body = f'sh:sparql [ sh:select "SELECT $this WHERE {{ {where} }}" ]'
    g = rdflib.Graph().parse(data=SHAPES.format(body), format="turtle")
    with pytest.raises(InvalidShapes, match=re.escape(named) + ".*") as refused:
        plan(g)
    assert "ex:S" in str(refused.value) or "http://example.org/S" in str(refused.value)


def test_shape_terms_are_written_as_sparql_terms_never_pasted() -> None:
    """Quotes, braces and backslashes in shape literals cannot change a query."""
    body = 'sh:pattern "[\\"}.#]x" ; sh:in ( "x\\" ) } #" ex:o )'
    g = rdflib.Graph().parse(data=SHAPES.format(body), format="turtle")
    compiled = CompiledShapes(g)
    store = ox.Store()
    store.add(
        ox.Quad(
            ox.NamedNode("http://example.org/n"),
            ox.NamedNode(str(rdflib.RDF.type)),
            ox.NamedNode("http://example.org/C"),
        )
    )
    findings = compiled.validate(store)
    assert sorted(f.component.rsplit("#", 1)[-1] for f in findings) == [
        "InConstraintComponent",
        "PatternConstraintComponent",
    ]


def test_a_bulk_validation_names_blank_nodes_as_the_data_does() -> None:
    """Validating pyoxigraph triples (a bulk load) keeps their blank node labels: a Warning about a
    blank node the write adds is kept, and a result names the node the data holds."""
    shapes = rdflib.Graph().parse(
        data=SHAPES.format("sh:severity sh:Warning ; sh:property [ sh:path ex:name ; sh:minCount 1 ]"),
        format="turtle",
    )
    node = ox.BlankNode("written")
    triples = [ox.Triple(node, ox.NamedNode(str(rdflib.RDF.type)), ox.NamedNode("http://example.org/C"))]
    f = Path(tempfile.mkdtemp()) / "shapes.ttl"
    f.write_text(shapes.serialize(format="turtle"), encoding="utf-8")
    report = Validator([f], rdflib.Graph()).validate_triples(triples, written=True)
    assert [r.focus_node for r in report.results] == ["_:written"]
