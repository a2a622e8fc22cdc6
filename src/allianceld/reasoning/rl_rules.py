"""The ontology compiled into OWL 2 RL rules over individuals (GraphDB's and RDFox's approach).

Each axiom of the ontology becomes one or more rules with the axiom's own classes and properties
written in: ``org:memberOf owl:propertyChainAxiom (org:hasMembership org:organization)`` becomes
``?x org:hasMembership ?y . ?y org:organization ?z -> ?x org:memberOf ?z`` (prp-spo2). Class
expressions are unfolded into joins, so no triple about a class expression (a blank node) is ever
needed as a premise. The rules serve the incremental reasoner (:mod:`allianceld.reasoning.rl_engine`) and
the explanations (:mod:`allianceld.reasoning.explain`); the full closure is computed by ``reasonable``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib import OWL, RDF, RDFS, XSD
from rdflib.collection import Collection

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Slot = Term | str  # a str is a variable, written "?x"
Atom = tuple[Slot, Slot, Slot]

TYPE = ox.NamedNode(str(RDF.type))
SAME_AS = ox.NamedNode(str(OWL.sameAs))
_OWL, _RDFS, _RDF = str(OWL), str(RDFS), str(RDF)
#: predicates that describe the vocabulary rather than individuals (besides rdf:type to an OWL/RDFS class)
_ANNOTATIONS = {str(RDFS.label), str(RDFS.comment), str(RDFS.seeAlso), str(RDFS.isDefinedBy), str(OWL.sameAs)}


@dataclass(frozen=True)
class Rule:
    """``body -> head``: when every body atom matches, the head holds. ``distinct`` names two
    variables that must be bound to different terms (prp-fp, prp-ifp)."""

    name: str
    axiom: str
    head: Atom
    body: tuple[Atom, ...]
    distinct: tuple[str, str] | None = None


@dataclass(frozen=True)
class Disjointness:
    """A pair of disjoint classes (cax-dw, cax-adc) and the axiom that says so."""

    first: ox.NamedNode
    second: ox.NamedNode
    axiom: str


@dataclass
class Ruleset:
    """The compiled rules, indexed by the predicate (and class) of each body atom."""

    rules: list[Rule]
    disjoint: list[Disjointness] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_key: dict[tuple[Term | None, Term | None], list[tuple[Rule, int]]] = {}
        self._by_head: dict[tuple[Term | None, Term | None], list[Rule]] = {}
        for rule in self.rules:
            for i, atom in enumerate(rule.body):
                self._by_key.setdefault(_key(atom), []).append((rule, i))
            self._by_head.setdefault(_key(rule.head), []).append(rule)
        self._disjoint: dict[ox.NamedNode, list[Disjointness]] = {}
        for d in self.disjoint:
            self._disjoint.setdefault(d.first, []).append(d)
            self._disjoint.setdefault(d.second, []).append(d)

    def triggered_by(self, triple: ox.Triple) -> Iterator[tuple[Rule, int]]:
        """The (rule, body position) pairs whose body atom may match ``triple``."""
        p, o = triple.predicate, triple.object
        if p == TYPE:
            yield from self._by_key.get((p, o), ())
        yield from self._by_key.get((p, None), ())

    def concluding(self, triple: ox.Triple) -> Iterator[Rule]:
        """The rules whose head may be ``triple``."""
        p, o = triple.predicate, triple.object
        if p == TYPE:
            yield from self._by_head.get((p, o), ())
        yield from self._by_head.get((p, None), ())

    def disjoint_with(self, cls: Term) -> list[Disjointness]:
        return self._disjoint.get(cls, []) if isinstance(cls, ox.NamedNode) else []


def _key(atom: Atom) -> tuple[Term | None, Term | None]:
    _, p, o = atom
    if isinstance(p, str):
        return (None, None)  # no rule here has a variable predicate
    if p == TYPE and not isinstance(o, str):
        return (p, o)
    return (p, None)


def is_schema_triple(triple: ox.Triple) -> bool:
    """True for a triple that changes the vocabulary (and so the rules): an OWL/RDFS axiom, a
    declaration, an RDF list cell. Labels, comments and owl:sameAs are not schema."""
    p = triple.predicate.value
    if p == TYPE.value:
        o = triple.object
        return isinstance(o, ox.NamedNode) and o.value.startswith((_OWL, _RDFS))
    if p in _ANNOTATIONS:
        return False
    return p.startswith((_OWL, _RDFS)) or p in (str(RDF.first), str(RDF.rest))


def short(term: object) -> str:
    """A term in prefixed form for rule descriptions (``ald:Alliance``)."""
    from allianceld.vocab import PREFIXES

    value = term.value if isinstance(term, ox.NamedNode) else str(term)
    for prefix, ns in PREFIXES.items():
        if value.startswith(ns) and prefix != "id":
            return f"{prefix}:{value[len(ns) :]}"
    return f"<{value}>" if isinstance(term, rdflib.URIRef | ox.NamedNode) else value


def ox_term(term: rdflib.term.Node) -> Term:
    """An rdflib term as pyoxigraph's."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, rdflib.Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))


class _Compiler:
    def __init__(self, g: rdflib.Graph) -> None:
        self.g = g
        self.rules: list[Rule] = []
        self.skipped: list[str] = []
        self._fresh = itertools.count()
        self.datatype_props = set(g.subjects(RDF.type, OWL.DatatypeProperty)) | set(
            g.subjects(RDF.type, OWL.AnnotationProperty)
        )

    def var(self) -> str:
        return f"?v{next(self._fresh)}"

    def describe(self, ce: rdflib.term.Node) -> str:
        """A class expression in Manchester-like syntax."""
        if isinstance(ce, rdflib.URIRef):
            return short(ce)
        g = self.g
        if (ce, OWL.intersectionOf, None) in g:
            return "(" + " and ".join(self.describe(c) for c in Collection(g, g.value(ce, OWL.intersectionOf))) + ")"
        if (ce, OWL.unionOf, None) in g:
            return "(" + " or ".join(self.describe(c) for c in Collection(g, g.value(ce, OWL.unionOf))) + ")"
        prop = g.value(ce, OWL.onProperty)
        for kind, word in ((OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only"), (OWL.hasValue, "value")):
            filler = g.value(ce, kind)
            if filler is not None:
                return f"({short(prop)} {word} {self.describe(filler)})"
        return "(class expression)"

    def bodies(self, ce: rdflib.term.Node, x: str) -> list[list[Atom]] | None:
        """The ways of being an instance of ``ce``, as conjunctions of atoms (None: not in RL)."""
        g = self.g
        if isinstance(ce, rdflib.URIRef):
            return None if ce in (OWL.Thing, RDFS.Resource) else [[(x, TYPE, ox_term(ce))]]
        if (ce, OWL.intersectionOf, None) in g:
            parts = [self.bodies(c, x) for c in Collection(g, g.value(ce, OWL.intersectionOf))]
            if any(p is None for p in parts):
                return None
            return [list(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]  # type: ignore[arg-type]
        if (ce, OWL.unionOf, None) in g:
            alts: list[list[Atom]] = []
            for c in Collection(g, g.value(ce, OWL.unionOf)):
                sub = self.bodies(c, x)
                if sub is None:
                    return None
                alts.extend(sub)
            return alts
        prop = g.value(ce, OWL.onProperty)
        if prop is None or not isinstance(prop, rdflib.URIRef):
            return None
        p = ox_term(prop)
        value = g.value(ce, OWL.hasValue)
        if value is not None:
            return [[(x, p, ox_term(value))]]
        filler = g.value(ce, OWL.someValuesFrom)
        if filler is not None:
            y = self.var()
            if filler in (OWL.Thing, RDFS.Resource):
                return [[(x, p, y)]]
            sub = self.bodies(filler, y)
            return None if sub is None else [[(x, p, y), *alt] for alt in sub]
        return None

    def heads(self, ce: rdflib.term.Node, x: str, body: list[Atom], name: str, axiom: str) -> None:
        """Rules concluding that ``x`` (matched by ``body``) is an instance of ``ce``."""
        g = self.g
        if isinstance(ce, rdflib.URIRef):
            if ce not in (OWL.Thing, RDFS.Resource, RDFS.Literal) and not str(ce).startswith(str(XSD)):
                self.rules.append(Rule(name, axiom, (x, TYPE, ox_term(ce)), tuple(body)))
            return
        if (ce, OWL.intersectionOf, None) in g:
            for c in Collection(g, g.value(ce, OWL.intersectionOf)):
                self.heads(c, x, body, name, axiom)
            return
        prop = g.value(ce, OWL.onProperty)
        if isinstance(prop, rdflib.URIRef):
            value = g.value(ce, OWL.hasValue)
            if value is not None:
                self.rules.append(Rule("cls-hv1", axiom, (x, ox_term(prop), ox_term(value)), tuple(body)))
                return
            filler = g.value(ce, OWL.allValuesFrom)
            if filler is not None:
                y = self.var()
                self.heads(filler, y, [*body, (x, ox_term(prop), y)], "cls-avf", axiom)
                return
        self.skipped.append(f"{axiom} (its superclass side is not in OWL 2 RL)")

    def subclass(self, sub: rdflib.term.Node, sup: rdflib.term.Node, name: str, axiom: str) -> None:
        x = self.var()
        bodies = self.bodies(sub, x)
        if bodies is None:
            self.skipped.append(f"{axiom} (its subclass side is not in OWL 2 RL)")
            return
        for body in bodies:
            self.heads(sup, x, body, name, axiom)

    def compile(self) -> Ruleset:
        g = self.g
        for c, d in g.subject_objects(RDFS.subClassOf):
            self.subclass(c, d, "cax-sco", f"{self.describe(c)} rdfs:subClassOf {self.describe(d)}")
        for c, d in g.subject_objects(OWL.equivalentClass):
            axiom = f"{self.describe(c)} owl:equivalentClass {self.describe(d)}"
            self.subclass(c, d, "cax-eqc1", axiom)
            self.subclass(d, c, "cax-eqc2", axiom)
        for p, c in g.subject_objects(RDFS.domain):
            if isinstance(p, rdflib.URIRef):
                x, y = self.var(), self.var()
                self.heads(c, x, [(x, ox_term(p), y)], "prp-dom", f"{short(p)} rdfs:domain {self.describe(c)}")
        for p, c in g.subject_objects(RDFS.range):
            if isinstance(p, rdflib.URIRef) and p not in self.datatype_props:
                x, y = self.var(), self.var()
                self.heads(c, y, [(x, ox_term(p), y)], "prp-rng", f"{short(p)} rdfs:range {self.describe(c)}")
        for p, q in g.subject_objects(RDFS.subPropertyOf):
            self._binary("prp-spo1", f"{short(p)} rdfs:subPropertyOf {short(q)}", p, q, invert=False)
        for p, q in g.subject_objects(OWL.equivalentProperty):
            axiom = f"{short(p)} owl:equivalentProperty {short(q)}"
            self._binary("prp-eqp1", axiom, p, q, invert=False)
            self._binary("prp-eqp2", axiom, q, p, invert=False)
        for p, q in g.subject_objects(OWL.inverseOf):
            axiom = f"{short(p)} owl:inverseOf {short(q)}"
            self._binary("prp-inv1", axiom, p, q, invert=True)
            self._binary("prp-inv2", axiom, q, p, invert=True)
        for p in g.subjects(RDF.type, OWL.SymmetricProperty):
            self._binary("prp-symp", f"{short(p)} a owl:SymmetricProperty", p, p, invert=True)
        for p in g.subjects(RDF.type, OWL.TransitiveProperty):
            if isinstance(p, rdflib.URIRef):
                x, y, z = "?x", "?y", "?z"
                pp = ox_term(p)
                self.rules.append(
                    Rule("prp-trp", f"{short(p)} a owl:TransitiveProperty", (x, pp, z), ((x, pp, y), (y, pp, z)))
                )
        for p, head in g.subject_objects(OWL.propertyChainAxiom):
            steps = [ox_term(s) for s in Collection(g, head)]
            names = [f"?c{i}" for i in range(len(steps) + 1)]
            body = tuple((names[i], s, names[i + 1]) for i, s in enumerate(steps))
            axiom = f"{short(p)} owl:propertyChainAxiom ({' '.join(short(s) for s in steps)})"
            self.rules.append(Rule("prp-spo2", axiom, (names[0], ox_term(p), names[-1]), body))
        for p in g.subjects(RDF.type, OWL.FunctionalProperty):
            if isinstance(p, rdflib.URIRef) and p not in self.datatype_props:
                pp = ox_term(p)
                body = (("?x", pp, "?y1"), ("?x", pp, "?y2"))
                axiom = f"{short(p)} a owl:FunctionalProperty"
                self.rules.append(Rule("prp-fp", axiom, ("?y1", SAME_AS, "?y2"), body, ("?y1", "?y2")))
        for p in g.subjects(RDF.type, OWL.InverseFunctionalProperty):
            if isinstance(p, rdflib.URIRef):
                pp = ox_term(p)
                body = (("?x1", pp, "?y"), ("?x2", pp, "?y"))
                axiom = f"{short(p)} a owl:InverseFunctionalProperty"
                self.rules.append(Rule("prp-ifp", axiom, ("?x1", SAME_AS, "?x2"), body, ("?x1", "?x2")))
        return Ruleset(self.rules, list(self._disjointness()), self.skipped)

    def _binary(self, name: str, axiom: str, p: rdflib.term.Node, q: rdflib.term.Node, *, invert: bool) -> None:
        if isinstance(p, rdflib.URIRef) and isinstance(q, rdflib.URIRef):
            head: Atom = ("?y", ox_term(q), "?x") if invert else ("?x", ox_term(q), "?y")
            self.rules.append(Rule(name, axiom, head, (("?x", ox_term(p), "?y"),)))

    def _disjointness(self) -> Iterable[Disjointness]:
        g = self.g
        for c, d in g.subject_objects(OWL.disjointWith):
            if isinstance(c, rdflib.URIRef) and isinstance(d, rdflib.URIRef):
                yield Disjointness(ox_term(c), ox_term(d), f"{short(c)} owl:disjointWith {short(d)}")  # type: ignore[arg-type]
        for node in g.subjects(RDF.type, OWL.AllDisjointClasses):
            members = [m for m in Collection(g, g.value(node, OWL.members)) if isinstance(m, rdflib.URIRef)]
            axiom = f"[] a owl:AllDisjointClasses ; owl:members ({' '.join(short(m) for m in members)})"
            for c, d in itertools.combinations(members, 2):
                yield Disjointness(ox_term(c), ox_term(d), axiom)  # type: ignore[arg-type]


def compile_ontology(schema: rdflib.Graph) -> Ruleset:
    """The rules of the OWL 2 RL profile that the axioms of ``schema`` give rise to."""
    return _Compiler(schema).compile()


__all__ = ["Atom", "Disjointness", "Rule", "Ruleset", "compile_ontology", "is_schema_triple", "short"]
