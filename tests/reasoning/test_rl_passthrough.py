"""The OWL 2 RL closure with pass-through (rl_passthrough): the same closure as ``reasonable``
over every triple, on the shipped data, on generated data and on graphs built so that a passed
triple does take part in a rule (each would lose a derivation if the split were trusted
unchecked)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import reasonable
from rdflib import OWL, RDF, RDFS, XSD, BNode, Literal, URIRef

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.reasoning import materialise, rl_engine, rl_passthrough
from allianceld.store import KnowledgeBase

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate

EX = "http://example.org/"


def ex(name: str) -> URIRef:
    return URIRef(EX + name)


def unfiltered(graph: rdflib.Graph) -> set[tuple]:
    """The closure as computed before pass-through: ``reasonable`` reads every triple (but the
    functional and inverse-functional declarations), alternating with allianceld's own rules."""
    rules = materialise._Rules(graph)

    def reasoned(triples: list[tuple]) -> set[tuple]:
        r = reasonable.PyReasoner()
        r.from_graph(triples)
        return set(r.reason()) | set(triples)

    closed = reasoned([t for t in graph if t not in rules.hidden] + list(rules.presaturate(graph.subject_objects)))
    while extra := rules.apply(closed) - closed:
        closed = reasoned(list(closed | extra))
    return closed | rules.hidden


def graph_of(*triples: tuple) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in triples:
        g.add(t)
    return g


def assert_same_closure(graph: rdflib.Graph) -> set[tuple]:
    closed, name = materialise.rl_closure(graph)
    assert name == "reasonable"
    expected = unfiltered(graph)
    assert closed - expected == set()
    assert expected - closed == set()
    return closed


def test_shipped_data_closure_is_unchanged(shared_kb: KnowledgeBase) -> None:
    graph = materialise.without_identity_links(shared_kb.rdflib_graph(shared_kb.knowledge_graphs()))
    rules = materialise._Rules(graph)
    parts = rl_passthrough.split([t for t in graph if t not in rules.hidden])
    assert len(parts.passed) > len(graph) / 3  # the split does pass triples around the reasoner
    closed = assert_same_closure(graph)
    nato, usa = (
        URIRef("https://w3id.org/allianceld/id/alliance/nato"),
        URIRef("https://w3id.org/allianceld/id/state/usa"),
    )
    assert (usa, URIRef("http://www.w3.org/ns/org#memberOf"), nato) in closed


def test_generated_data_closure_is_unchanged(settings: Settings) -> None:
    graph = formats.to_rdflib(generate(3000, seed=5))
    graph += rdflib.Graph().parse(settings.ontology_file)
    graph = materialise.without_identity_links(graph)
    rules = materialise._Rules(graph)
    parts = rl_passthrough.split([t for t in graph if t not in rules.hidden])
    assert len(parts.passed) > len(parts.core)
    assert_same_closure(graph)


FUNCTIONAL = [
    (ex("fp"), RDF.type, OWL.FunctionalProperty),
    (ex("a"), ex("fp"), ex("x")),
    (ex("a"), ex("fp"), ex("y")),
    (ex("x"), ex("label"), Literal("X")),
    (ex("x"), ex("knows"), ex("z")),
]
INVERSE_FUNCTIONAL = [
    (ex("code"), RDF.type, OWL.InverseFunctionalProperty),
    (ex("a"), ex("code"), Literal("k")),
    (ex("b"), ex("code"), Literal("k", datatype=XSD.string)),
    (ex("a"), ex("note"), Literal("n")),
]
DERIVED_AXIOM = [
    (ex("hasDomain"), RDFS.subPropertyOf, RDFS.domain),
    (ex("p"), ex("hasDomain"), ex("D")),
    (ex("x"), ex("p"), ex("y")),
]
_RESTRICTION = BNode()
LITERAL_RANGE = [
    (ex("p"), RDFS.range, XSD.date),
    (_RESTRICTION, RDF.type, OWL.Restriction),
    (_RESTRICTION, OWL.onProperty, ex("q")),
    (_RESTRICTION, OWL.someValuesFrom, XSD.date),
    (ex("Dated"), OWL.equivalentClass, _RESTRICTION),
    (ex("x"), ex("p"), Literal("2020-01-01", datatype=XSD.date)),
    (ex("u"), ex("q"), Literal("2020-01-01", datatype=XSD.date)),
]
THING_ABOVE = [
    (OWL.Thing, RDFS.subClassOf, ex("Top")),
    (ex("x"), ex("note"), Literal("only passed triples")),
]
CHAINS = [
    (ex("p"), RDFS.domain, ex("A")),
    (ex("p"), RDFS.range, ex("B")),
    (ex("p"), RDFS.label, Literal("p")),
    (ex("p"), RDF.type, OWL.ObjectProperty),
    (ex("A"), RDFS.subClassOf, ex("A0")),
    (ex("x"), ex("p"), ex("y")),
    (ex("chain"), OWL.propertyChainAxiom, ex("list")),
    (ex("list"), RDF.first, ex("p")),
    (ex("list"), RDF.rest, ex("list2")),
    (ex("list2"), RDF.first, ex("r")),
    (ex("list2"), RDF.rest, RDF.nil),
    (ex("y"), ex("r"), ex("z")),
    (BNode("b1"), ex("note"), Literal("blank", lang="en")),
    (ex("k"), RDF.type, ex("note")),
    (ex("k"), ex("note"), Literal("plain")),
    (ex("k"), ex("count"), Literal(3)),
]

INVERSE_PAIR = [
    (ex("p"), OWL.inverseOf, ex("q")),
    (ex("p"), RDFS.domain, ex("A")),
    (ex("p"), RDFS.range, ex("B")),
    (ex("q"), RDFS.domain, ex("C")),
    (ex("C"), RDFS.subClassOf, ex("C0")),
    (ex("x"), ex("p"), ex("y")),
    (ex("x"), ex("p"), BNode("b")),
    (ex("u"), ex("q"), ex("v")),
    (ex("y"), ex("q"), ex("x")),  # both directions stated
]
_CHAIN_LIST, _CHAIN_REST = BNode("l1"), BNode("l2")
CHAIN_INTO_A_PAIR = [
    (ex("m"), OWL.inverseOf, ex("mi")),
    (ex("m"), RDFS.domain, ex("Agent")),
    (ex("mi"), RDFS.domain, ex("Org")),
    (ex("m"), OWL.propertyChainAxiom, _CHAIN_LIST),
    (_CHAIN_LIST, RDF.first, ex("has")),
    (_CHAIN_LIST, RDF.rest, _CHAIN_REST),
    (_CHAIN_REST, RDF.first, ex("org")),
    (_CHAIN_REST, RDF.rest, RDF.nil),
    (ex("has"), OWL.inverseOf, ex("member")),
    (ex("ms1"), ex("member"), ex("s1")),
    (ex("ms1"), ex("org"), ex("o1")),
    (ex("s2"), ex("has"), ex("ms2")),
    (ex("ms2"), ex("org"), ex("o2")),
    (ex("s3"), ex("m"), ex("o3")),  # stated and not concluded
]
LATE_CONCLUSION = [
    *CHAIN_INTO_A_PAIR,
    # two sub-property steps from a chain step: the chain's conclusion over (s4, o4) is found only
    # after the reasoner ran, so ex:m's triples are reasoned over after all
    (ex("org2"), RDFS.subPropertyOf, ex("org1")),
    (ex("org1"), RDFS.subPropertyOf, ex("org")),
    (ex("ms4"), ex("member"), ex("s4")),
    (ex("ms4"), ex("org2"), ex("o4")),
]
NOT_PAIRS = [
    (ex("p"), OWL.inverseOf, ex("q")),
    (ex("p"), OWL.inverseOf, ex("r")),  # two inverses
    (ex("s"), OWL.inverseOf, ex("s")),  # its own inverse
    (ex("t"), OWL.inverseOf, ex("w")),
    (ex("t"), RDFS.range, ex("T")),
    (ex("x"), ex("p"), ex("y")),
    (ex("x"), ex("s"), ex("y")),
    (ex("x"), ex("t"), Literal("a literal")),  # would be a literal subject read backwards
    (ex("x"), ex("w"), ex("z")),
]
PAIR_WITH_SAME_AS = [
    (ex("p"), OWL.inverseOf, ex("q")),
    (ex("q"), RDFS.range, ex("R")),
    (ex("x"), ex("p"), ex("y")),
    (ex("y"), ex("f"), ex("z1")),
    (ex("y"), ex("f"), ex("z2")),
    (ex("f"), RDF.type, OWL.FunctionalProperty),
    (ex("z1"), ex("q"), ex("k")),
]
PAIR_DERIVED_SUB_PROPERTY = [
    (ex("p"), OWL.inverseOf, ex("q")),
    (ex("sub"), RDFS.subPropertyOf, RDFS.subPropertyOf),
    (ex("q"), ex("sub"), ex("r")),  # so q rdfs:subPropertyOf r, derived
    (ex("r"), RDFS.domain, ex("D")),
    (ex("x"), ex("p"), ex("y")),
]


def test_an_inverse_pair_passes_around_the_reasoner_with_the_same_closure() -> None:
    """Each of the pair holds its own triples and the other's read backwards; their domains and
    ranges type both."""
    graph = graph_of(*INVERSE_PAIR)
    parts = rl_passthrough.split(graph)
    assert {ex("p"), ex("q")} <= set(parts.groups)
    assert (ex("v"), ex("p"), ex("u")) in parts.made
    assert (ex("x"), ex("q"), ex("y")) not in parts.made  # stated
    closed = assert_same_closure(graph)
    assert {(ex("y"), RDF.type, ex("C0")), (ex("v"), RDF.type, ex("A")), (ex("u"), RDF.type, ex("B"))} <= closed


def test_a_chain_concluding_an_inverse_pair_passes_with_its_conclusions() -> None:
    graph = graph_of(*CHAIN_INTO_A_PAIR)
    rules = materialise._Rules(graph)
    parts = rl_passthrough.split_groups(
        rl_passthrough.by_predicate(graph), concluded=rules.presaturate(graph.subject_objects)
    )
    assert {ex("m"), ex("mi"), ex("has"), ex("member")} <= set(parts.groups)
    assert {(ex("s1"), ex("m"), ex("o1")), (ex("o2"), ex("mi"), ex("s2"))} <= set(parts.made)
    assert parts.concluded == []
    closed = assert_same_closure(graph)
    assert {(ex("o1"), RDF.type, ex("Org")), (ex("o3"), ex("mi"), ex("s3"))} <= closed


def test_a_chain_conclusion_found_late_sends_its_property_to_the_reasoner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the late check, (s4 m o4) and its inverse would be lost; with it, m and its partner
    are reasoned over in a second split."""
    splits: list[rl_passthrough.Split] = []
    split_groups = rl_passthrough.split_groups

    def counted(*args: object, **kwargs: object) -> rl_passthrough.Split:
        splits.append(split_groups(*args, **kwargs))  # type: ignore[arg-type]
        return splits[-1]

    monkeypatch.setattr(rl_passthrough, "split_groups", counted)
    closed = assert_same_closure(graph_of(*LATE_CONCLUSION))
    assert {(ex("s4"), ex("m"), ex("o4")), (ex("o4"), ex("mi"), ex("s4")), (ex("s4"), RDF.type, ex("Agent"))} <= closed
    assert len(splits) == 2 and ex("m") in splits[0].groups
    assert ex("m") not in splits[1].groups and ex("mi") not in splits[1].groups


def test_properties_that_are_no_pair_are_reasoned_over() -> None:
    graph = graph_of(*NOT_PAIRS)
    parts = rl_passthrough.split(graph)
    assert set(parts.groups).isdisjoint({ex(name) for name in ("p", "q", "r", "s", "t", "w")})
    assert_same_closure(graph)


@pytest.mark.parametrize("triples", [PAIR_WITH_SAME_AS, PAIR_DERIVED_SUB_PROPERTY], ids=["sameAs", "derived axiom"])
def test_an_inverse_pair_the_closure_makes_complex_is_reasoned_over_together(triples: list[tuple]) -> None:
    """The check on the closure forces both of the pair, whichever of them failed it."""
    graph = graph_of(*triples)
    forced = rl_passthrough.violations(materialise.rl_closure(graph)[0], rl_passthrough.split(graph))
    assert {ex("p"), ex("q")} <= forced
    assert_same_closure(graph)


_SOME = BNode("some")
TYPES = [
    (ex("C"), RDFS.subClassOf, ex("D")),
    (ex("D"), RDFS.subClassOf, ex("E")),
    (ex("E"), RDFS.subClassOf, OWL.Thing),
    (ex("C"), RDF.type, OWL.Class),
    (ex("x"), RDF.type, ex("C")),
    (ex("x"), RDF.type, ex("Lone")),
    (BNode("b"), RDF.type, ex("D")),
    (ex("p"), RDFS.domain, ex("C")),
    (ex("y"), ex("p"), ex("z")),
    # classes some rule reads: a restriction's, disjoint ones, an equivalent one, a class as an individual
    (_SOME, OWL.onProperty, ex("q")),
    (_SOME, OWL.someValuesFrom, ex("Filler")),
    (ex("HasFiller"), OWL.equivalentClass, _SOME),
    (ex("u"), ex("q"), ex("v")),
    (ex("v"), RDF.type, ex("FillerSub")),
    (ex("FillerSub"), RDFS.subClassOf, ex("Filler")),
    (ex("A"), OWL.disjointWith, ex("B")),
    (ex("w"), RDF.type, ex("A")),
    (ex("Punned"), RDF.type, ex("Meta")),
    (ex("Punned"), RDFS.subClassOf, ex("E")),
    (ex("k2"), RDF.type, ex("Punned")),
    # the vocabulary's own classes
    (ex("s"), RDF.type, OWL.SymmetricProperty),
    (ex("t"), RDF.type, OWL.TransitiveProperty),
    (ex("m"), ex("s"), ex("n")),
    (ex("m"), ex("t"), ex("n")),
    (ex("n"), ex("t"), ex("k")),
]
TYPES_DERIVED_SUPERCLASS = [
    (ex("isA"), RDFS.subPropertyOf, RDFS.subClassOf),
    (ex("C"), ex("isA"), ex("D")),  # so C rdfs:subClassOf D, derived
    (ex("x"), RDF.type, ex("C")),
]
TYPES_SAME_AS = [
    (ex("f"), RDF.type, OWL.FunctionalProperty),
    (ex("a"), ex("f"), ex("x")),
    (ex("a"), ex("f"), ex("y")),
    (ex("x"), RDF.type, ex("C")),
    (ex("C"), RDFS.subClassOf, ex("D")),
]
THING_DERIVED_ABOVE = [
    (ex("isA"), RDFS.subPropertyOf, RDFS.subClassOf),
    (OWL.Thing, ex("isA"), ex("Top")),  # so owl:Thing rdfs:subClassOf ex:Top, derived
    (ex("x"), RDF.type, ex("C")),
    (ex("y"), ex("note"), Literal("only passed triples")),
]


def test_types_of_classes_no_rule_reads_pass_with_their_superclasses() -> None:
    graph = graph_of(*TYPES)
    parts = rl_passthrough.split(graph)
    assert set(parts.classes) == {ex("C"), ex("D"), ex("Lone"), ex("Meta")}
    assert parts.classes[ex("C")] == {ex("D"), ex("E"), OWL.Thing}
    assert (ex("x"), RDF.type, ex("E")) in parts.made
    closed = assert_same_closure(graph)
    assert {(ex("x"), RDF.type, ex("E")), (ex("y"), RDF.type, ex("D")), (ex("u"), RDF.type, ex("HasFiller"))} <= closed
    assert (ex("k2"), RDF.type, ex("E")) in closed
    assert {(ex("n"), ex("s"), ex("m")), (ex("m"), ex("t"), ex("k"))} <= closed


@pytest.mark.parametrize(
    ("triples", "expected"),
    [
        (TYPES_DERIVED_SUPERCLASS, (ex("x"), RDF.type, ex("D"))),
        (TYPES_SAME_AS, (ex("y"), RDF.type, ex("D"))),
        (THING_DERIVED_ABOVE, (ex("y"), RDF.type, ex("Top"))),
    ],
    ids=["superclass", "sameAs", "Thing"],
)
def test_types_the_closure_gives_more_are_reasoned_over(triples: list[tuple], expected: tuple) -> None:
    """A superclass derived, a typed individual the same as another, owl:Thing given a
    superclass: the check on the closure sends those types to the reasoner."""
    assert expected in assert_same_closure(graph_of(*triples))


def test_a_functional_property_makes_passed_triples_same_as() -> None:
    """prp-fp makes x and y the same; eq-rep-s then copies the label passed around the reasoner."""
    closed = assert_same_closure(graph_of(*FUNCTIONAL))
    assert (ex("y"), ex("label"), Literal("X", datatype=XSD.string)) in closed  # as reasonable reads "X"
    assert (ex("y"), ex("knows"), ex("z")) in closed


def test_an_inverse_functional_property_over_passed_triples() -> None:
    """prp-ifp reads passed triples (a plain literal and its xsd:string reading are one value)."""
    closed = assert_same_closure(graph_of(*INVERSE_FUNCTIONAL))
    assert (ex("b"), OWL.sameAs, ex("a")) in closed
    assert (ex("b"), ex("note"), Literal("n", datatype=XSD.string)) in closed


def test_an_axiom_derived_about_a_passed_property() -> None:
    """ex:p's domain is not stated but derived (prp-spo1 on a meta-property): the check on the
    closure sends ex:p's triples to the reasoner after all."""
    closed = assert_same_closure(graph_of(*DERIVED_AXIOM))
    assert (ex("x"), RDF.type, ex("D")) in closed


def test_the_check_on_the_closure_is_what_finds_a_derived_axiom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without :func:`rl_passthrough.violations` the derived domain above would be lost."""
    g = graph_of(*DERIVED_AXIOM)
    monkeypatch.setattr(rl_passthrough, "violations", lambda closure, parts: set())
    closed, _ = materialise.rl_closure(g)
    assert (ex("x"), RDF.type, ex("D")) not in closed
    assert (ex("x"), RDF.type, ex("D")) in unfiltered(g)


def test_a_literal_typed_by_a_range_that_a_restriction_reads() -> None:
    """The literal "2020-01-01" is an xsd:date by ex:p's range; ex:q's someValuesFrom xsd:date
    reads that type (in a triple that is not ex:p's): ex:p's literal triples must be reasoned over."""
    closed = assert_same_closure(graph_of(*LITERAL_RANGE))
    assert (ex("u"), RDF.type, ex("Dated")) in closed


def test_owl_thing_with_a_superclass_types_subjects_of_passed_triples() -> None:
    closed = assert_same_closure(graph_of(*THING_ABOVE))
    assert (ex("x"), RDF.type, ex("Top")) in closed


def test_domains_ranges_chains_and_odd_shapes() -> None:
    """Domain and range types of passed triples, a chain over a passed step, a blank-node subject,
    a property that is also a class, annotations on properties, plain and tagged literals."""
    closed = assert_same_closure(graph_of(*CHAINS))
    assert {(ex("x"), RDF.type, ex("A0")), (ex("y"), RDF.type, ex("B")), (ex("x"), ex("chain"), ex("z"))} <= closed
    assert (ex("k"), ex("note"), Literal("plain", datatype=XSD.string)) in closed


@pytest.mark.parametrize(
    "literal",
    [
        Literal("x"),
        Literal("x", lang="en-gb"),
        Literal("x", datatype=XSD.string),
        Literal("01", datatype=XSD.integer),
        Literal("2020-01-01", datatype=XSD.date),
        Literal("x", datatype=ex("dt")),
        Literal(True),
    ],
)
def test_as_reasoned_reads_a_literal_as_reasonable_does(literal: Literal) -> None:
    r = reasonable.PyReasoner()
    r.from_graph([(ex("a"), ex("p"), literal)])
    back = [o for _, p, o in r.reason() if p == ex("p")]
    assert back == [rl_passthrough.as_reasoned(literal)]


def informative_from_closure(graph: rdflib.Graph) -> set[ox.Triple]:
    """The inferred graph as computed before the input stayed pyoxigraph's: the whole closure in
    rdflib's terms, less every asserted triple."""
    source = materialise.without_identity_links(graph)
    closed, _ = materialise.rl_closure(source)
    given = set(source)
    lines = []
    for s, p, o in closed:
        if isinstance(s, BNode) or isinstance(o, BNode):
            continue
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        if (s, p, o) not in given:
            lines.append(f"{s.n3()} {p.n3()} {o.n3()} .\n")
    new = ox.parse("".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    stated = set(formats.from_rdflib(source))  # "k"^^xsd:string as asserted is the simple literal "k"
    return {q.triple for q in new if rl_engine.worth_keeping(q.triple)} - stated


SPECIAL_GRAPHS = {
    "functional property": FUNCTIONAL,
    "inverse functional property": INVERSE_FUNCTIONAL,
    "derived axiom": [*DERIVED_AXIOM, (ex("x"), ex("q"), Literal("01", datatype=XSD.integer))],
    "literal range": LITERAL_RANGE,
    "owl:Thing's superclass": THING_ABOVE,
    "inverse pair": INVERSE_PAIR,
    "chain into an inverse pair": CHAIN_INTO_A_PAIR,
    "late chain conclusion": LATE_CONCLUSION,
    "no pairs": NOT_PAIRS,
    "pair with sameAs": PAIR_WITH_SAME_AS,
    "pair with a derived axiom": PAIR_DERIVED_SUB_PROPERTY,
    "types": TYPES,
    "types with a derived superclass": TYPES_DERIVED_SUPERCLASS,
    "types of an individual the same as another": TYPES_SAME_AS,
    "owl:Thing with a derived superclass": THING_DERIVED_ABOVE,
    "chains and odd shapes": [
        *CHAINS,
        (ex("y"), ex("r"), Literal("lit")),
        (ex("k"), OWL.sameAs, ex("k2")),
        (ex("k2"), ex("count"), Literal(3)),
    ],
}


@pytest.mark.parametrize("name", sorted(SPECIAL_GRAPHS))
def test_the_inferred_triples_from_pyoxigraph_terms_are_those_of_the_whole_closure(name: str) -> None:
    """Only the reasoner's part of the input is made into rdflib terms; what is inferred is the
    same as when all of it was, and the whole closure was compared with all of it."""
    graph = graph_of(*SPECIAL_GRAPHS[name])
    inferred, _ = materialise.inferred_triples(formats.from_rdflib(graph))
    assert len(inferred) == len(set(inferred))
    assert set(inferred) == informative_from_closure(graph)


def test_the_inferred_triples_of_the_shipped_and_generated_data_are_those_of_the_whole_closure(
    shared_kb: KnowledgeBase, settings: Settings
) -> None:
    shipped = shared_kb.rdflib_graph(shared_kb.knowledge_graphs())  # with its owl:sameAs links
    generated = formats.to_rdflib(generate(3000, seed=5))
    generated += rdflib.Graph().parse(settings.ontology_file)
    for graph in (shipped, generated):
        inferred, _ = materialise.inferred_triples(formats.from_rdflib(graph))
        assert len(inferred) > 1000
        assert set(inferred) == informative_from_closure(graph)


def test_canonical_triples_share_one_object_per_iri() -> None:
    """The reasoner's triples are made of the converter's own IRI objects (compared by identity
    in the closure's sets); a literal or a blank node is kept, even one whose text is an IRI."""
    term = formats.RdflibTerms([RDF.type])
    a = term(ox.NamedNode(EX + "a"))
    fresh = [
        (URIRef(EX + "a"), URIRef(str(RDF.type)), URIRef(EX + "new")),
        (URIRef(EX + "new"), URIRef(EX + "p"), Literal(EX + "a")),
        (BNode("b"), URIRef(EX + "p"), Literal("x", lang="en")),
    ]
    canonical = term.canonical(fresh)
    assert canonical == fresh
    assert canonical[0][0] is a and canonical[0][1] is RDF.type
    assert canonical[1][0] is canonical[0][2]  # an IRI met first here is one object from then on
    assert type(canonical[1][2]) is Literal and canonical[2][0] is fresh[2][0]
    assert term.canonical([]) == []


def test_triples_converted_by_columns_as_term_by_term() -> None:
    """:meth:`formats.RdflibTerms.triples` gives what the converter gives term by term: one
    rdflib object per IRI, one new blank node per label, literals as rdflib reads them."""
    given = formats.from_rdflib(graph_of(*CHAINS, *LITERAL_RANGE, (BNode("b1"), ex("q"), BNode("b1"))))
    by_columns, one_by_one = formats.RdflibTerms(), formats.RdflibTerms()
    converted = by_columns.triples(given)
    blanks: dict[str, BNode] = {}
    for t, c in zip(given, converted, strict=True):
        for node, term in zip(t, c, strict=True):
            if isinstance(node, ox.BlankNode):
                assert type(term) is BNode and blanks.setdefault(node.value, term) is term
            else:
                assert term == one_by_one(node) and type(term) is type(one_by_one(node))
    assert len(blanks) == len(set(blanks.values())) > 1
    assert by_columns.triples(converted) == converted  # rdflib's are kept
    iris = [x for t in converted for x in t if isinstance(x, URIRef)]
    assert len({id(x) for x in iris}) == len(set(iris))


def test_the_reasoner_reads_its_cheap_iris_as_rdflib_iris() -> None:
    """``reasonable`` gives the same closure for :class:`materialise._ReasonerIri` as for rdflib's IRIs."""
    triples = [t for name in sorted(SPECIAL_GRAPHS) for t in SPECIAL_GRAPHS[name] if t[1] != OWL.sameAs]
    triples = [t for t in triples if t[2] not in (OWL.FunctionalProperty, OWL.InverseFunctionalProperty)]
    read = materialise._as_read(triples)
    assert any(type(x) is materialise._ReasonerIri for t in read for x in t)
    assert read == triples

    def closure(given: list[tuple]) -> set[tuple]:
        r = reasonable.PyReasoner()
        r.from_graph(given)
        return set(r.reason())

    assert closure(read) == closure(triples)


@pytest.mark.parametrize(
    "node",
    [
        URIRef(EX + "a"),
        URIRef("urn:x:é"),
        Literal("x"),
        Literal('say "hi" \\ é'),
        Literal("x", lang="en-GB"),
        Literal("01", datatype=XSD.integer),
        Literal("x", datatype=ex("dt")),
        Literal("2020-01-01", datatype=XSD.date),
    ],
)
def test_terms_are_made_pyoxigraph_as_their_n_triples_read(node: URIRef | Literal) -> None:
    line = f"<urn:s> <urn:p> {node.n3()} .\n".encode()
    (read,) = ox.parse(line, format=ox.RdfFormat.N_TRIPLES)
    converted = materialise._as_pyoxigraph([node])[node]
    assert converted == read.object
    assert str(converted) == str(read.object)


@pytest.mark.parametrize("text", ["two\nlines", 'a "quoted"\r\nend "', '"""', "\n"])
def test_a_literal_with_a_line_break_is_derived_through_a_sub_property(text: str) -> None:
    """rdflib writes such a literal as a long string (\"\"\"...\"\"\"), which N-Triples does not
    allow: the derived triple is read back all the same."""
    x, p, q = ox.NamedNode(EX + "x"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")
    asserted = [ox.Triple(p, ox.NamedNode(str(RDFS.subPropertyOf)), q), ox.Triple(x, p, ox.Literal(text))]
    inferred, _ = materialise.inferred_triples(asserted)
    assert ox.Triple(x, q, ox.Literal(text)) in inferred


def test_groups_passed_whole_split_as_triple_by_triple(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """A group without a literal that must stay passes whole: the same split as the one made
    triple by triple (forced for every group here)."""
    graph = formats.to_rdflib(generate(1000, seed=3))
    graph += rdflib.Graph().parse(settings.ontology_file)
    graph += graph_of(*LITERAL_RANGE, *CHAINS, (Literal("s"), ex("note"), Literal("o")))
    fast = rl_passthrough.split(graph)
    monkeypatch.setattr(rl_passthrough, "_passes_whole", lambda subjects, literal_objects, literals_stay: False)
    slow = rl_passthrough.split(graph)
    assert set(fast.core) == set(slow.core) and len(fast.core) == len(slow.core)
    assert fast.passed == slow.passed and fast.groups == slow.groups
    assert set(fast.summary) == set(slow.summary) and fast.literal_classes == slow.literal_classes
    assert fast.literal_classes and any(isinstance(t[0], Literal) for t in fast.core)
