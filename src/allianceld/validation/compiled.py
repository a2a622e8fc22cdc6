"""SHACL validation compiled to SPARQL: the shapes graph is read once into SELECT queries that
pyoxigraph evaluates over one store holding the data and the ontology, each finding the failures
only. The results are pySHACL's for the features compiled here; anything else in a shapes graph
raises :class:`UnsupportedShapes` naming it. The features and the known differences from pySHACL
are listed in docs/architecture.md ("Design notes").
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import OWL, RDF, RDFS, XSD
from rdflib.collection import Collection
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parserutils import CompValue

from allianceld.errors import InvalidShapes
from allianceld.rdf import formats, sparql_parse, sparql_text
from allianceld.rdf.formats import rdflib_term
from allianceld.validation.report import SEVERITIES, LazyReport, Report, Result
from allianceld.vocab import SH

Node = rdflib.term.Node
OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal

# shapes-graph predicates this compiler reads (or may ignore: sh:name, sh:description, sh:order, sh:group)
SUPPORTED = {
    SH.disjoint,
    SH.equals,
    SH.ignoredProperties,
    SH.closed,
    SH.xone,
    SH["and"],
    SH.node,
    SH.zeroOrOnePath,
    SH.oneOrMorePath,
    SH.zeroOrMorePath,
    SH.alternativePath,
    SH.targetClass,
    SH.targetObjectsOf,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.deactivated,
    SH.property,
    SH.path,
    SH.inversePath,
    SH.message,
    SH.severity,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH["class"],
    SH.nodeKind,
    SH.pattern,
    SH.flags,
    SH["in"],
    SH.languageIn,
    SH.uniqueLang,
    SH.lessThan,
    SH.lessThanOrEquals,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.minLength,
    SH.maxLength,
    SH.hasValue,
    SH["or"],
    SH["not"],
    SH.qualifiedValueShape,
    SH.qualifiedMinCount,
    SH.qualifiedMaxCount,
    SH.qualifiedValueShapesDisjoint,
    SH.sparql,
    SH.select,
    SH.prefixes,
    SH.declare,
    SH.prefix,
    SH.namespace,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
}
SUPPORTED_TYPES = {SH.NodeShape, SH.PropertyShape, SH.Shape, SH.SPARQLConstraint, SH.PrefixDeclaration}
# value constraints: allowed on node shapes, property shapes and nested shapes
VALUE_PREDICATES = {
    SH["class"],
    SH.datatype,
    SH.nodeKind,
    SH.pattern,
    SH.flags,
    SH["in"],
    SH.languageIn,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.minLength,
    SH.maxLength,
    SH.hasValue,
    SH["or"],
    SH["not"],
    SH.node,
    SH["and"],
    SH.xone,
}
ANNOTATIONS = {SH.message, SH.severity, SH.name, SH.description, SH.order, SH.group}
# constraints that need a path (refused on a node shape)
NEEDS_PATH = (SH.minCount, SH.maxCount, SH.uniqueLang, SH.lessThan, SH.lessThanOrEquals, SH.qualifiedValueShape)
# what a nested shape (a value of sh:node, sh:or, sh:property...) may hold
NESTED = (
    VALUE_PREDICATES
    | ANNOTATIONS
    | set(NEEDS_PATH)
    | {SH.deactivated, SH.property, SH.closed, SH.ignoredProperties, SH.path, SH.qualifiedMinCount}
    | {SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.targetClass, SH.targetNode, SH.targetObjectsOf}
    | {SH.targetSubjectsOf}
)
MAX_NESTED_COUNT = 5  # a nested count is written as that many distinct values: n(n-1)/2 tests
NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "!isLiteral({v})",
    SH.BlankNodeOrLiteral: "!isIRI({v})",
    SH.IRIOrLiteral: "!isBlank({v})",
}
# datatypes whose well-typed literals pyoxigraph recognises with a cast (an ill-typed one fails it)
CASTABLE = {XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.boolean, XSD.date, XSD.dateTime, XSD.time}
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_TYPE_NODE = ox.NamedNode(str(RDF.type))
RDF_TYPE = str(RDF_TYPE_NODE)
SUBCLASS = str(ox.NamedNode(str(RDFS.subClassOf)))
_MARK = re.compile("\x00(\\d+)\x00")
_PN_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9_-])?$|^[A-Za-z]$")
MASK_BITS = 60  # pyoxigraph integers are 64-bit
WORKERS = min(4, os.cpu_count() or 1)  # threads running the queries of one large validation
PARALLEL_FROM = 20_000  # triples: below, one thread (starting threads costs more than it saves)


class UnsupportedShapes(ValueError):
    """The shapes graph uses a SHACL feature this compiler does not evaluate (named in the message)."""


DEFAULT_MESSAGES = {
    SH.MinCountConstraintComponent: "Fewer than {} values",
    SH.MaxCountConstraintComponent: "More than {} values",
    SH.ClassConstraintComponent: "Value is not an instance of {}",
    SH.DatatypeConstraintComponent: "Value is not a literal of datatype {}",
    SH.NodeKindConstraintComponent: "Value is not of Node Kind {}",
    SH.PatternConstraintComponent: "Value does not match the pattern {}",
    SH.InConstraintComponent: "Value is not in {}",
    SH.LanguageInConstraintComponent: "Language tag is not in {}",
    SH.UniqueLangConstraintComponent: "More than one value has the same language tag",
    SH.LessThanConstraintComponent: "Value is not less than the values of {}",
    SH.LessThanOrEqualsConstraintComponent: "Value is not less than or equal to the values of {}",
    SH.MinInclusiveConstraintComponent: "Value is not >= {}",
    SH.MaxInclusiveConstraintComponent: "Value is not <= {}",
    SH.MinExclusiveConstraintComponent: "Value is not > {}",
    SH.MaxExclusiveConstraintComponent: "Value is not < {}",
    SH.MinLengthConstraintComponent: "Value is shorter than {} characters",
    SH.MaxLengthConstraintComponent: "Value is longer than {} characters",
    SH.OrConstraintComponent: "Value conforms to none of the shapes {}",
    SH.AndConstraintComponent: "Value does not conform to every shape of {}",
    SH.XoneConstraintComponent: "Value does not conform to exactly one shape of {}",
    SH.NotConstraintComponent: "Value conforms to the shape it must not",
    SH.NodeConstraintComponent: "Value does not conform to the shape {}",
    SH.QualifiedMinCountConstraintComponent: "Fewer than {} values conform to the qualified value shape",
    SH.QualifiedMaxCountConstraintComponent: "More than {} values conform to the qualified value shape",
    SH.HasValueConstraintComponent: "Missing the value {}",
    SH.EqualsConstraintComponent: "Values differ from the values of {}",
    SH.DisjointConstraintComponent: "Value is also a value of {}",
    SH.ClosedConstraintComponent: "Predicate not allowed by the closed shape",
}
PATH_FORMS = {
    SH.inversePath: "^{}",
    SH.alternativePath: "({})",
    SH.zeroOrMorePath: "({})*",
    SH.oneOrMorePath: "({})+",
    SH.zeroOrOnePath: "({})?",
}
TARGETS = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target)
CLASS_TYPES = (RDFS.Class, OWL.Class)
# the predicates along which a shape reaches the nodes that describe it (nested shapes, paths, lists)
DESCRIBING = {
    SH.property,
    SH.node,
    SH["not"],
    SH.qualifiedValueShape,
    SH.sparql,
    SH.path,
    SH["or"],
    SH["and"],
    SH.xone,
    SH["in"],
    SH.languageIn,
    SH.ignoredProperties,
    SH.inversePath,
    SH.alternativePath,
    SH.zeroOrMorePath,
    SH.oneOrMorePath,
    SH.zeroOrOnePath,
    SH.prefixes,
    SH.declare,
    SH.target,
    RDF.first,
    RDF.rest,
}


def implicit_class(g: rdflib.Graph, shape: Node) -> bool:
    """Is ``shape`` also a class (an implicit class target: SHACL 2.1.3.3)?"""
    kinds = set(g.objects(shape, RDF.type))
    is_shape = bool(kinds & {SH.NodeShape, SH.PropertyShape})
    return is_shape and any(k in CLASS_TYPES or (k, RDFS.subClassOf, RDFS.Class) in g for k in kinds)


def targeted(g: rdflib.Graph) -> list[Node]:
    """Every shape of ``g`` with a target, explicit or implicit, in a stable order."""
    found = {s for p in TARGETS for s in g.subjects(p, None)}
    found |= {s for t in (SH.NodeShape, SH.PropertyShape) for s in g.subjects(RDF.type, t) if implicit_class(g, s)}
    return sorted(found, key=lambda n: (isinstance(n, rdflib.BNode), str(n)))


def reachable(g: rdflib.Graph, shapes: Iterable[Node]) -> set[Node]:
    """``shapes`` and every node that describes them (nested shapes, paths, lists, SPARQL constraints)."""
    seen: set[Node] = set()
    todo = list(shapes)
    while todo:
        node = todo.pop()
        if node in seen or isinstance(node, rdflib.Literal):
            continue
        seen.add(node)
        todo += [o for p, o in g.predicate_objects(node) if p in DESCRIBING]
    return seen


@dataclass(frozen=True)
class Plan:
    """Which shapes with targets compile, and why each of the others falls back."""

    compiled: tuple[Node, ...]
    fallback: dict[Node, str]


def plan(g: rdflib.Graph) -> Plan:
    """Try each shape with targets alone: those that compile, and the reason each other one does not."""
    compiled, fallback = [], {}
    for shape in targeted(g):
        try:
            CompiledShapes(g, only=[shape])
        except UnsupportedShapes as exc:
            fallback[shape] = str(exc)
        else:
            compiled.append(shape)
    return Plan(tuple(compiled), fallback)


@dataclass(frozen=True)
class Spec:
    """What the results of one compiled constraint report."""

    shape: Node
    component: rdflib.URIRef
    severity: rdflib.URIRef
    messages: tuple[rdflib.Literal, ...]
    path: Node | None
    value: str  # "value": the value node, "focus": the focus node, "none": no sh:value


@dataclass(frozen=True)
class Finding:
    """One validation result, its terms still pyoxigraph's (the data) and rdflib's (the shapes)."""

    severity: rdflib.URIRef
    focus: OxTerm
    path: Node | None
    value: OxTerm | None
    shape: Node
    component: rdflib.URIRef
    messages: tuple[rdflib.Literal, ...]
    constraint: Node | None = None  # sh:sourceConstraint (SPARQL-based constraints)


@dataclass
class _Query:
    """One compiled SELECT (its class tests still marked) and how its rows become findings."""

    text: str
    rows: Callable[[ox.QuerySolution], Iterator[Finding]]
    dedupe: list[str] | None = None  # repeated solutions of these variables give one result (as pySHACL)
    needs: tuple[tuple[str, str], ...] = ()  # run only if one is in the store: ("p", predicate) or ("c", class)
    owners: tuple[_Owner, ...] = ()  # the shapes whose focus nodes its rows are about


@dataclass(frozen=True)
class _Component:
    """A SPARQL-based constraint component: its parameters (path, optional?) and validators."""

    node: Node
    parameters: tuple[tuple[rdflib.URIRef, bool], ...]
    validators: dict[Node, Node | None]


@dataclass
class _Owner:
    """A shape with targets: its focus nodes, as a generating pattern and as a test."""

    shape: Node
    generate: str  # a group pattern binding ?this to each focus node once
    inline: str  # patterns binding ?this to each focus node, maybe more than once (joined, not nested)
    test: Callable[[str], str]  # a boolean expression: is the variable a focus node?
    needs: tuple[tuple[str, str], ...]  # without any of these in the store, there is no focus node
    # its targets: ("c", class), ("s", predicate) subjects of, ("o", predicate) objects of, ("n", "") nodes
    targets: tuple[tuple[str, str], ...]


class CompiledShapes:
    """A shapes graph compiled into SPARQL queries; :meth:`validate` runs them over a store."""

    def __init__(self, shapes: rdflib.Graph, only: Iterable[Node] | None = None) -> None:
        """Compile the shapes with targets in ``shapes`` (those in ``only``, when given); raises
        UnsupportedShapes naming the first feature it cannot compile."""
        self.g = shapes
        self._names = itertools.count()
        self._classes: list[tuple[str, str, str]] = []  # class test marker -> (kind, variable, class IRI)
        self._patterns: list[tuple[Node, str]] = []  # (sh:pattern, flags) to probe
        self._nesting: list[Node] = []  # the nested shapes being written out (recursion is refused)
        self._exact: dict[tuple[str, int], str] = {}  # (deferred expression, arity) -> its function's IRI
        self.reads_shapes_graph = False  # does a query read $shapesGraph (then validations load it)?
        self.components = self._components()
        chosen = targeted(shapes) if only is None else list(only)
        self.shapes = [s for s in chosen if not self._deactivated(s)]
        self._refuse_unsupported(self.shapes)
        self.queries: list[_Query] = []
        props: dict[Node, list[_Owner]] = {}
        for owner in self._owners(self.shapes):
            start = len(self.queries)
            checks: list[tuple[Spec, str]] = []
            mine = [p for p in self._objects(owner.shape, SH.property) if not self._deactivated(p)]
            if (owner.shape, SH.path, None) in self.g:
                mine.append(owner.shape)  # a property shape with targets of its own
            else:
                self._node_shape_only(owner.shape)
                checks += [
                    (self._spec(owner.shape, c, None, "focus"), ok)
                    for c, ok, _cls in self._values(owner.shape, "?this")
                ]
                checks += [
                    (self._spec(owner.shape, SH.HasValueConstraintComponent, None, "none"), ok)
                    for ok in self._has_value(owner.shape, "?this", None)
                ]
                self.queries += [self._sparql(owner, c) for c in self._objects(owner.shape, SH.sparql)]
                self.queries += self._closed(owner)
                self.queries += self._node_pairs(owner)
                self.queries += self._applied(owner, owner.shape, node=True)
            for prop in mine:
                if (prop, SH.path, None) not in self.g:
                    raise UnsupportedShapes(f"the property shape {_n3(prop)} has no sh:path")
                props.setdefault(prop, []).append(owner)
                checks += self._minimums(prop, owner)
                self.queries += self._applied(owner, prop, node=False)
                self.queries += [self._sparql(owner, c, prop) for c in self._objects(prop, SH.sparql)]
            self.queries += self._masked(owner, checks)
            for q in self.queries[start:]:
                q.owners = (owner,)
        self.queries += self._paths(props)
        self.class_iris = sorted({c for _k, _v, c in self._classes})
        self.functions = {ox.NamedNode(iri): _Deferred(text, n) for (text, n), iri in self._exact.items()} or None
        self._probe()

    # -- the shapes graph ----------------------------------------------------------------------

    def _objects(self, s: Node, p: Node) -> list[Node]:
        return sorted(self.g.objects(s, p), key=str)

    def _one(self, s: Node, p: Node) -> Node | None:
        values = self._objects(s, p)
        if len(values) > 1:
            raise UnsupportedShapes(f"{_n3(s)} has {len(values)} values of {_n3(p)}; at most one is supported")
        return values[0] if values else None

    def _list(self, head: Node) -> list[Node]:
        if head != RDF.nil and (head, RDF.first, None) not in self.g:
            raise UnsupportedShapes(f"{_n3(head)} is not an RDF list")
        return list(Collection(self.g, head))

    def _deactivated(self, shape: Node) -> bool:
        flag = self._one(shape, SH.deactivated)
        if flag is not None and not (isinstance(flag, rdflib.Literal) and isinstance(flag.value, bool)):
            raise UnsupportedShapes(f"sh:deactivated of {_n3(shape)} is not a boolean")
        return flag is not None and flag.value is True

    def _refuse_unsupported(self, shapes: list[Node]) -> None:
        """Refuse any SHACL term this compiler does not evaluate in ``shapes`` and what they reach,
        and the parameters of constraint components the shapes graph declares (SHACL-SPARQL 6)."""
        parameters = {path for c in self.components for path, _optional in c.parameters}
        top = set(shapes) | {p for s in shapes for p in self.g.objects(s, SH.property)}
        for s in sorted(reachable(self.g, shapes), key=str):
            for p, o in self.g.predicate_objects(s):
                if p in parameters and s not in top:
                    raise UnsupportedShapes(
                        f"{_n3(p)} (on {_n3(s)}): a SPARQL-based constraint component in a nested shape"
                    )
                if p == RDF.type and isinstance(o, rdflib.URIRef) and str(o).startswith(str(SH)):
                    if o not in SUPPORTED_TYPES:
                        raise UnsupportedShapes(f"{_n3(o)} (on {_n3(s)}) is not supported")
                elif str(p).startswith(str(SH)) and p not in SUPPORTED:
                    raise UnsupportedShapes(f"{_n3(p)} (on {_n3(s)}) is not supported")

    def _owners(self, shapes: list[Node]) -> list[_Owner]:
        """Each of ``shapes`` (shapes with targets), with its focus nodes as SPARQL."""
        owners = []
        for shape in sorted(shapes, key=str):
            classes = self._objects(shape, SH.targetClass) + ([shape] if implicit_class(self.g, shape) else [])
            objects_of = self._objects(shape, SH.targetObjectsOf)
            subjects_of = self._objects(shape, SH.targetSubjectsOf)
            nodes = self._objects(shape, SH.targetNode)
            for t in classes + objects_of + subjects_of:
                if not isinstance(t, rdflib.URIRef):
                    raise UnsupportedShapes(f"a target of {_n3(shape)} is not an IRI: {_n3(t)}")
            written = [_term(n, shape) for n in nodes]
            if nodes and any(self._nullable(p) for n in reachable(self.g, [shape]) for p in self.g.objects(n, SH.path)):
                raise UnsupportedShapes(
                    f"{_n3(shape)} has sh:targetNode and a path that may have length zero: pyoxigraph finds no "
                    "zero-length path from a node the data does not mention"
                )
            branches = [f"{{ {self._class_mark('generate', '?this', c)} }}" for c in classes]
            branches += [f"{{ [] {_iri(p)} ?this . }}" for p in objects_of]  # "." ends it when inlined
            branches += [f"{{ ?this {_iri(p)} [] . }}" for p in subjects_of]
            if written:
                branches.append(f"{{ VALUES ?this {{ {' '.join(written)} }} }}")
            generate = "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(branches) + " } }"
            inline = branches[0][1:-1] if len(branches) == 1 else "{ " + " UNION ".join(branches) + " }"

            def test(
                var: str,
                classes: list[Node] = classes,
                objects_of: list[Node] = objects_of,
                subjects_of: list[Node] = subjects_of,
                written: list[str] = written,
            ) -> str:
                parts = [self._class_mark("test", var, c) for c in classes]
                parts += [f"EXISTS {{ [] {_iri(p)} {var} }}" for p in objects_of]
                parts += [f"EXISTS {{ {var} {_iri(p)} [] }}" for p in subjects_of]
                parts += [f"sameTerm({var}, {n})" for n in written]
                return "(" + " || ".join(parts) + ")"

            needs = tuple(("c", str(c)) for c in classes) + tuple(("p", str(p)) for p in objects_of + subjects_of)
            targets = tuple(("c", str(c)) for c in classes) + tuple(("o", str(p)) for p in objects_of)
            targets += tuple(("s", str(p)) for p in subjects_of) + (("n", ""),) * bool(written)
            owners.append(_Owner(shape, generate, inline, test, () if written else needs, targets))
        return owners

    def _spec(self, shape: Node, component: rdflib.URIRef, path: Node | None, value: str) -> Spec:
        messages = tuple(m for m in self._objects(shape, SH.message) if isinstance(m, rdflib.Literal))
        messages = messages or (self._default(shape, component),)
        return Spec(shape, component, self._severity(shape), messages, path, value)

    def _default(self, shape: Node, component: rdflib.URIRef) -> rdflib.Literal:
        """The message of a result whose shape gives none: what the constraint asks, with its parameter."""
        name = str(component).removeprefix(str(SH)).removesuffix("ConstraintComponent")
        lowered = name.lower() if name in ("Class", "In", "Or", "Not", "And") else name[0].lower() + name[1:]
        parameter = SH[lowered]
        values = self._objects(shape, parameter)
        shown = " ".join(self._show(v) for v in values)
        return rdflib.Literal(DEFAULT_MESSAGES.get(component, "Value does not satisfy sh:" + name).format(shown))

    def _show(self, term: Node) -> str:
        if (term, RDF.first, None) in self.g or term == RDF.nil:
            return "(" + " ".join(self._show(m) for m in Collection(self.g, term)) + ")"
        return term.n3(self.g.namespace_manager) if isinstance(term, rdflib.URIRef | rdflib.Literal) else "a shape"

    def _severity(self, shape: Node) -> rdflib.URIRef:
        severity = self._one(shape, SH.severity) or SH.Violation
        if not isinstance(severity, rdflib.URIRef):
            raise UnsupportedShapes(f"the sh:severity of {_n3(shape)} is not an IRI")
        return severity

    def _node_shape_only(self, shape: Node) -> None:
        """Refuse on a node shape the constraints that need a path."""
        for p in NEEDS_PATH:
            if (shape, p, None) in self.g:
                raise UnsupportedShapes(f"{_n3(p)} on the node shape {_n3(shape)} is not supported")

    # -- value constraints ---------------------------------------------------------------------

    def _values(self, shape: Node, v: str) -> list[tuple[rdflib.URIRef, str, list[Node] | None]]:
        """Each value constraint of ``shape`` as (component, a boolean expression, never an error,
        true when the term in the variable ``v`` satisfies it, and the classes when it is just
        "an instance of one of these classes")."""
        out: list[tuple[rdflib.URIRef, str, list[Node] | None]] = []
        for cls in self._objects(shape, SH["class"]):
            if not isinstance(cls, rdflib.URIRef):
                raise UnsupportedShapes(f"sh:class {_n3(cls)} of {_n3(shape)} is not an IRI")
            out.append((SH.ClassConstraintComponent, self._class_mark("test", v, cls), [cls]))
        datatype = self._one(shape, SH.datatype)
        if datatype is not None:
            out.append((SH.DatatypeConstraintComponent, _datatype_ok(shape, datatype, v), None))
        kind = self._one(shape, SH.nodeKind)
        if kind is not None:
            if kind not in NODE_KINDS:
                raise UnsupportedShapes(f"sh:nodeKind {_n3(kind)} of {_n3(shape)}")
            out.append((SH.NodeKindConstraintComponent, NODE_KINDS[kind].format(v=v), None))
        flags = self._one(shape, SH.flags)  # pySHACL honours i and m only
        flag_text = "".join(f for f in "im" if f in str(flags).lower()) if flags is not None else ""
        for pattern in self._objects(shape, SH.pattern):
            if not isinstance(pattern, rdflib.Literal):
                raise UnsupportedShapes(f"sh:pattern {_n3(pattern)} of {_n3(shape)} is not a literal")
            self._patterns.append((pattern, flag_text))
            regex = f"REGEX(STR({v}), {_literal(str(pattern))}, {_literal(flag_text)})"
            out.append((SH.PatternConstraintComponent, f"COALESCE(!isBlank({v}) && {regex}, false)", None))
        members = self._one(shape, SH["in"])
        if members is not None:
            tests = [f"sameTerm({v}, {_term(m, shape)})" for m in self._list(members)]
            out.append((SH.InConstraintComponent, "(" + (" || ".join(tests) or "false") + ")", None))
        languages = self._one(shape, SH.languageIn)
        if languages is not None:
            out.append((SH.LanguageInConstraintComponent, self._language_in(shape, languages, v), None))
        for bound, op, component in (
            (SH.minInclusive, ">=", SH.MinInclusiveConstraintComponent),
            (SH.maxInclusive, "<=", SH.MaxInclusiveConstraintComponent),
            (SH.minExclusive, ">", SH.MinExclusiveConstraintComponent),
            (SH.maxExclusive, "<", SH.MaxExclusiveConstraintComponent),
        ):
            for limit in self._objects(shape, bound):
                if not isinstance(limit, rdflib.Literal):
                    raise UnsupportedShapes(f"{_n3(bound)} {_n3(limit)} of {_n3(shape)} is not a literal")
                out.append((component, _range_ok(v, limit, shape, op, self._deferred), None))
        for length, op, component in (
            (SH.minLength, ">=", SH.MinLengthConstraintComponent),
            (SH.maxLength, "<=", SH.MaxLengthConstraintComponent),
        ):
            for n in self._objects(shape, length):
                count = _count(shape, n)
                fits = "true" if op == ">=" and count == 0 else f"!isBlank({v}) && STRLEN(STR({v})) {op} {count}"
                out.append((component, f"COALESCE({fits}, false)", None))
        for members in self._objects(shape, SH["or"]):
            shapes = self._list(members)
            alternatives = [self._conforms(m, v) for m in shapes]
            classes = [self._only_class(m) for m in shapes]
            only = [c for c in classes if c is not None] if shapes and None not in classes else None
            out.append((SH.OrConstraintComponent, "(" + (" || ".join(alternatives) or "true") + ")", only))
        for negated in self._objects(shape, SH["not"]):
            out.append((SH.NotConstraintComponent, f"!{self._conforms(negated, v)}", None))
        for node in self._objects(shape, SH.node):
            out.append((SH.NodeConstraintComponent, self._conforms(node, v), None))
        for members in self._objects(shape, SH["and"]):
            every = [self._conforms(m, v) for m in self._list(members)]
            out.append((SH.AndConstraintComponent, "(" + (" && ".join(every) or "true") + ")", None))
        for members in self._objects(shape, SH.xone):
            ones = [f"IF({self._conforms(m, v)}, 1, 0)" for m in self._list(members)]
            out.append((SH.XoneConstraintComponent, "((" + (" + ".join(ones) or "0") + ") = 1)", None))
        return out

    def _has_value(self, shape: Node, v: str, step: Callable[[str, str], str] | None) -> list[str]:
        """Each sh:hasValue of ``shape`` as a boolean expression on the node in ``v``: is it the
        value (a node shape, ``step`` None) or among the values ``step`` reaches (a property shape)?"""
        tests = []
        for value in self._objects(shape, SH.hasValue):
            term = _term(value, shape)
            tests.append(f"sameTerm({v}, {term})" if step is None else f"EXISTS {{ {step(v, term)} }}")
        return tests

    def _only_class(self, shape: Node) -> Node | None:
        """The class of a nested shape that is just ``[ sh:class C ]`` (None for any other)."""
        checks = {p for p in self.g.predicates(shape, None) if str(p).startswith(str(SH))} - {
            SH.message,
            SH.name,
            SH.description,
        }
        classes = self._objects(shape, SH["class"])
        return classes[0] if checks == {SH["class"]} and len(classes) == 1 else None

    def _language_in(self, shape: Node, head: Node, v: str) -> str:
        """pySHACL's sh:languageIn: the whole tag or its first subtag among the listed ones."""
        wanted = []
        for lang in self._list(head):
            if not (isinstance(lang, rdflib.Literal) and isinstance(lang.value, str)):
                raise UnsupportedShapes(f"sh:languageIn of {_n3(shape)} holds {_n3(lang)}, not a string")
            wanted.append(str(lang).lower())
        tagged = f'isLiteral({v}) && LANG({v}) != ""'
        if "*" in wanted:
            return f"COALESCE({tagged}, false)"
        if not wanted:
            return "false"
        listed = ", ".join(_literal(w) for w in sorted(set(wanted)))
        first = f'LCASE(STRBEFORE(CONCAT(LANG({v}), "-"), "-"))'
        return f"COALESCE({tagged} && (LCASE(LANG({v})) IN ({listed}) || {first} IN ({listed})), false)"

    def _conforms(self, shape: Node, v: str) -> str:
        """A boolean expression (never an error): does the term in ``v`` conform to ``shape``, a
        shape nested in sh:node, sh:or, sh:and, sh:xone, sh:not or sh:qualifiedValueShape?"""
        if shape in self._nesting:
            raise UnsupportedShapes(f"the shape {_n3(shape)} refers to itself (recursive shapes)")
        for p in set(self.g.predicates(shape, None)):
            if str(p).startswith(str(SH)) and p not in NESTED:
                raise UnsupportedShapes(f"{_n3(p)} in the nested shape {_n3(shape)} is not supported")
        if self._deactivated(shape):
            return "true"
        self._severity(shape)  # a node conforms when there is no result, whatever its severity (SHACL 1.0, 3.4)
        self._nesting.append(shape)
        try:
            if (shape, SH.path, None) in self.g:
                parts = self._property_conforms(shape, v)
            else:
                self._node_shape_only(shape)
                parts = [ok for _c, ok, _cls in self._values(shape, v)] + self._has_value(shape, v, None)
                parts += [self._conforms(prop, v) for prop in self._objects(shape, SH.property)]
                parts += [f"NOT EXISTS {{ {pattern} }}" for pattern, _p, _o in self._closed_patterns(shape, v)]
                x = self._var()
                for other in self._objects(shape, SH.equals):  # the node itself is its one value
                    o = _iri(_pair(shape, SH.equals, other))
                    parts.append(
                        f"(EXISTS {{ {v} {o} {v} }} && NOT EXISTS {{ {v} {o} {x} FILTER(!sameTerm({x}, {v})) }})"
                    )
                for other in self._objects(shape, SH.disjoint):
                    parts.append(f"NOT EXISTS {{ {v} {_iri(_pair(shape, SH.disjoint, other))} {v} }}")
        finally:
            self._nesting.pop()
        return "(" + (" && ".join(parts) or "true") + ")"

    def _property_conforms(self, prop: Node, v: str) -> list[str]:
        """Boolean expressions, all true when the node in ``v`` conforms to the property shape ``prop``."""
        for p in (SH.property, SH.sparql, SH.closed):
            if (prop, p, None) in self.g:
                raise UnsupportedShapes(f"{_n3(p)} on the nested property shape {_n3(prop)} is not supported")
        step, _path = self._path(prop)
        parts = self._has_value(prop, v, step)
        for _component, kind, n, keep in self._cardinalities(prop):
            if kind == "min" and n >= 1:
                parts.append(self._at_least(prop, step, v, n, keep))
            elif kind == "max":
                parts.append(f"!{self._at_least(prop, step, v, n + 1, keep)}")
        x = self._var()
        oks = [ok for _c, ok, _cls in self._values(prop, x)]
        if oks:
            parts.append(f"NOT EXISTS {{ {step(v, x)} FILTER(!({' && '.join(oks)})) }}")
        if self._one(prop, SH.uniqueLang) == rdflib.Literal(True):
            a, b = self._var(), self._var()
            same = f'LANG({a}) != "" && !sameTerm({a}, {b}) && LCASE(LANG({a})) = LCASE(LANG({b}))'
            parts.append(
                f"NOT EXISTS {{ {step(v, a)} {step(v, b)} FILTER(isLiteral({a}) && isLiteral({b}) && {same}) }}"
            )
        for pred, op in ((SH.lessThan, "<"), (SH.lessThanOrEquals, "<=")):
            for other in self._objects(prop, pred):
                y = self._var()
                o = _iri(_pair(prop, pred, other))
                parts.append(
                    f"NOT EXISTS {{ {step(v, x)} {v} {o} {y} FILTER(!{_compare_ok(x, y, op, self._deferred)}) }}"
                )
        for other in self._objects(prop, SH.equals):
            o = _iri(_pair(prop, SH.equals, other))
            parts.append(f"NOT EXISTS {{ {step(v, x)} FILTER NOT EXISTS {{ {v} {o} {x} }} }}")
            parts.append(f"NOT EXISTS {{ {v} {o} {x} FILTER NOT EXISTS {{ {step(v, x)} }} }}")
        for other in self._objects(prop, SH.disjoint):
            parts.append(f"NOT EXISTS {{ {step(v, x)} {v} {_iri(_pair(prop, SH.disjoint, other))} {x} }}")
        return parts

    def _at_least(
        self, prop: Node, step: Callable[[str, str], str], v: str, n: int, keep: Callable[[str], str] | None
    ) -> str:
        """Does the node in ``v`` have at least ``n`` distinct values (meeting ``keep``) by ``step``?"""
        if n > MAX_NESTED_COUNT:
            raise UnsupportedShapes(f"a count above {MAX_NESTED_COUNT - 1} in the nested shape {_n3(prop)}")
        xs = [self._var() for _ in range(n)]
        tests = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(xs, 2)]
        tests += [keep(x) for x in xs] if keep is not None else []
        where = " ".join(step(v, x) for x in xs) + (f" FILTER({' && '.join(tests)})" if tests else "")
        return f"EXISTS {{ {where} }}"

    def _closed_patterns(self, shape: Node, v: str) -> list[tuple[str, str, str]]:
        """For a closed ``shape``: a pattern matching each triple of ``v`` whose predicate it does not allow."""
        flag = self._one(shape, SH.closed)
        if flag is None:
            return []
        if not (isinstance(flag, rdflib.Literal) and isinstance(flag.value, bool)):
            raise UnsupportedShapes(f"sh:closed of {_n3(shape)} is not a boolean")
        if not flag.value:
            return []
        allowed = {
            path
            for prop in self._objects(shape, SH.property)
            if isinstance(path := self._one(prop, SH.path), rdflib.URIRef)
        }
        ignored = self._one(shape, SH.ignoredProperties)
        for iri in self._list(ignored) if ignored is not None else []:
            if not isinstance(iri, rdflib.URIRef):
                raise UnsupportedShapes(f"sh:ignoredProperties of {_n3(shape)} holds {_n3(iri)}, not an IRI")
            allowed.add(iri)
        p, o = self._var(), self._var()
        listed = ", ".join(_iri(a) for a in sorted(allowed))
        return [(f"{v} {p} {o} ." + (f" FILTER({p} NOT IN ({listed}))" if listed else ""), p, o)]

    def _node_pairs(self, owner: _Owner) -> list[_Query]:
        """sh:equals and sh:disjoint on a node shape: its focus node is its one value node."""
        queries = []
        for other in self._objects(owner.shape, SH.equals):
            o = _iri(_pair(owner.shape, SH.equals, other))
            spec = self._spec(owner.shape, SH.EqualsConstraintComponent, None, "value")
            missing = (
                f"SELECT ?this (?this AS ?value) WHERE {{ {owner.generate} FILTER NOT EXISTS {{ ?this {o} ?this }} }}"
            )
            extra = (
                f"SELECT ?this ?value WHERE {{ {owner.generate} ?this {o} ?value FILTER(!sameTerm(?value, ?this)) }}"
            )
            queries += [
                _Query(missing, _valued_rows(spec), needs=owner.needs),
                _Query(extra, _valued_rows(spec), needs=owner.needs),
            ]
        for other in self._objects(owner.shape, SH.disjoint):
            o = _iri(_pair(owner.shape, SH.disjoint, other))
            spec = self._spec(owner.shape, SH.DisjointConstraintComponent, None, "value")
            both = f"SELECT ?this (?this AS ?value) WHERE {{ {owner.generate} ?this {o} ?this }}"
            queries.append(_Query(both, _valued_rows(spec), needs=owner.needs))
        return queries

    def _closed(self, owner: _Owner) -> list[_Query]:
        """The triples of the focus nodes of a closed node shape whose predicates it does not allow."""
        queries = []
        for pattern, p, o in self._closed_patterns(owner.shape, "?this"):
            spec = self._spec(owner.shape, SH.ClosedConstraintComponent, None, "value")
            text = f"SELECT ?this ({p} AS ?_p) ({o} AS ?value) WHERE {{ {owner.generate} {pattern} }}"
            queries.append(_Query(text, _closed_rows(spec), needs=owner.needs))
        return queries

    def _deferred(self, expression: str, args: tuple[str, ...]) -> str:
        """A call of a custom function evaluating ``expression`` (over ``?_a`` and ``?_b``, bound to
        ``args``; reading no data, never an error) by pyoxigraph, as written here: a comparison's
        exact but long part, needed only where its fast part fails, is parsed only then."""
        iri = self._exact.setdefault((expression, len(args)), f"{DEFERRED}{len(self._exact)}")
        return f"<{iri}>({', '.join(args)})"

    # -- classes: the subclass closure is the data's, computed at each validation ---------------

    def _class_mark(self, kind: str, var: str, cls: Node) -> str:
        """A placeholder for an instance-of test (``kind`` "test": an expression; "generate": a
        pattern binding ``var``), written out by :meth:`render` once the subclasses are known."""
        self._classes.append((kind, var, str(cls)))
        return f"\x00{len(self._classes) - 1}\x00"

    def _class_text(self, index: int, closures: dict[str, list[OxTerm]]) -> str:
        kind, var, cls = self._classes[index]
        found = closures.get(cls, [ox.NamedNode(cls)])
        t = f"?_t{index}"
        if any(isinstance(c, ox.BlankNode) for c in found):  # not writable in a query: walk the hierarchy
            pattern = f"{var} {RDF_TYPE}/{SUBCLASS}* {ox.NamedNode(cls)} ."
            return pattern if kind == "generate" else f"EXISTS {{ {pattern} }}"
        values = " ".join(str(c) for c in found)
        if kind == "generate":
            return f"VALUES {t} {{ {values} }} {var} {RDF_TYPE} {t} ."
        return f"EXISTS {{ VALUES {t} {{ {values} }} {var} {RDF_TYPE} {t} }}"

    def closures(self, store: ox.Store) -> dict[str, list[OxTerm]]:
        """Each class the shapes name, with its subclasses in ``store`` (itself first)."""
        found: dict[str, list[OxTerm]] = {c: [ox.NamedNode(c)] for c in self.class_iris}
        if not found:
            return found
        values = " ".join(str(ox.NamedNode(c)) for c in self.class_iris)
        for row in store.query(f"SELECT ?c ?sub WHERE {{ VALUES ?c {{ {values} }} ?sub {SUBCLASS}* ?c }}"):
            subs = found[row["c"].value]
            if row["sub"] not in subs:
                subs.append(row["sub"])
        return found

    def render(self, text: str, closures: dict[str, list[OxTerm]]) -> str:
        """A compiled query with its class tests written out for these subclass closures."""
        return _MARK.sub(lambda m: self._class_text(int(m.group(1)), closures), text)

    # -- property shapes ---------------------------------------------------------------------

    def _path(self, prop: Node) -> tuple[Callable[[str, str], str], Node]:
        """The triple pattern from a focus variable to a value variable, and the sh:path node."""
        path = self._one(prop, SH.path)
        assert path is not None
        if isinstance(path, rdflib.URIRef):
            return (lambda s, o: f"{s} {_iri(path)} {o} ."), path
        inverse = self._one(path, SH.inversePath)
        other = set(self.g.predicates(path, None)) - {SH.inversePath}
        if isinstance(path, rdflib.BNode) and isinstance(inverse, rdflib.URIRef) and not other:
            return (lambda s, o: f"{o} {_iri(inverse)} {s} ."), path
        text = self._path_text(path, set())
        return (lambda s, o: f"{s} {text} {o} ."), path

    def _complex(self, prop: Node) -> bool:
        """Is the path of ``prop`` more than an IRI or its inverse (its solutions may repeat a value)?"""
        path = self._one(prop, SH.path)
        return not isinstance(path, rdflib.URIRef) and not isinstance(self._one(path, SH.inversePath), rdflib.URIRef)

    def _nullable(self, path: Node, depth: int = 0) -> bool:
        """May the SHACL path ``path`` have length zero (reach the node itself)?"""
        if isinstance(path, rdflib.URIRef) or depth > 50:
            return False
        if (path, RDF.first, None) in self.g:
            return all(self._nullable(m, depth + 1) for m in Collection(self.g, path))
        if (path, SH.zeroOrMorePath, None) in self.g or (path, SH.zeroOrOnePath, None) in self.g:
            return True
        for alternatives in self.g.objects(path, SH.alternativePath):
            if any(self._nullable(m, depth + 1) for m in Collection(self.g, alternatives)):
                return True
        return any(
            self._nullable(inner, depth + 1)
            for p in (SH.inversePath, SH.oneOrMorePath)
            for inner in self.g.objects(path, p)
        )

    def _path_text(self, path: Node, seen: set[Node]) -> str:
        """A SHACL property path as a SPARQL property path (SHACL 2.3.1)."""
        if isinstance(path, rdflib.URIRef):
            return _iri(path)
        if not isinstance(path, rdflib.BNode) or path in seen:
            raise UnsupportedShapes(f"the path {_n3(path)} is not a well-formed SHACL path")
        seen = seen | {path}
        if (path, RDF.first, None) in self.g:
            steps = self._list(path)
            if len(steps) < 2:
                raise UnsupportedShapes(f"the sequence path {_n3(path)} has fewer than two members")
            return "(" + " / ".join(self._path_text(m, seen) for m in steps) + ")"
        kinds = [p for p in self.g.predicates(path, None) if p in PATH_FORMS]
        if len(kinds) != 1 or len(set(self.g.predicates(path, None))) != 1:
            raise UnsupportedShapes(f"the path {_n3(path)} is not a well-formed SHACL path")
        kind = kinds[0]
        inner = self._one(path, kind)
        assert inner is not None
        if kind == SH.alternativePath:
            members = self._list(inner)
            if len(members) < 2:
                raise UnsupportedShapes(f"the alternative path {_n3(path)} has fewer than two members")
            return "(" + " | ".join(self._path_text(m, seen) for m in members) + ")"
        return PATH_FORMS[kind].format(self._path_text(inner, seen))

    def _var(self) -> str:
        return f"?_v{next(self._names)}"

    def _cardinalities(self, prop: Node) -> list[tuple[rdflib.URIRef, str, int, Callable[[str], str] | None]]:
        """The count constraints of ``prop``: (component, "min" or "max", the bound, the condition a
        value node must meet to be counted, for qualified counts)."""
        out: list[tuple[rdflib.URIRef, str, int, Callable[[str], str] | None]] = []
        low, high = self._one(prop, SH.minCount), self._one(prop, SH.maxCount)
        if low is not None:
            out.append((SH.MinCountConstraintComponent, "min", _count(prop, low), None))
        if high is not None:
            out.append((SH.MaxCountConstraintComponent, "max", _count(prop, high), None))
        qualified = self._objects(prop, SH.qualifiedValueShape)
        qlow, qhigh = self._one(prop, SH.qualifiedMinCount), self._one(prop, SH.qualifiedMaxCount)
        if bool(qualified) != (qlow is not None or qhigh is not None):
            raise UnsupportedShapes(f"{_n3(prop)}: sh:qualifiedValueShape needs sh:qualifiedMin/MaxCount and back")
        disjoint = self._one(prop, SH.qualifiedValueShapesDisjoint)
        if disjoint is not None and not (isinstance(disjoint, rdflib.Literal) and isinstance(disjoint.value, bool)):
            raise UnsupportedShapes(f"sh:qualifiedValueShapesDisjoint of {_n3(prop)} is not a boolean")
        for qshape in qualified:
            siblings = self._siblings(prop, qshape) if disjoint is not None and disjoint.value else []

            def keep(var: str, qshape: Node = qshape, siblings: list[Node] = siblings) -> str:
                return " && ".join([self._conforms(qshape, var)] + [f"!{self._conforms(s, var)}" for s in siblings])

            if qhigh is not None:
                out.append((SH.QualifiedMaxCountConstraintComponent, "max", _count(prop, qhigh), keep))
            if qlow is not None:
                out.append((SH.QualifiedMinCountConstraintComponent, "min", _count(prop, qlow), keep))
        return out

    def _siblings(self, prop: Node, qshape: Node) -> list[Node]:
        """The sibling shapes of a qualified value shape (SHACL 4.7.3): the qualified value shapes of
        the other property shapes of the shapes that have ``prop`` as a property."""
        parents = set(self.g.subjects(SH.property, prop))
        found = {
            q
            for parent in parents
            for other in self.g.objects(parent, SH.property)
            for q in self.g.objects(other, SH.qualifiedValueShape)
        }
        return sorted(found - {qshape}, key=str)

    def _minimums(self, prop: Node, owner: _Owner) -> list[tuple[Spec, str]]:
        """The minimum counts of ``prop`` for the focus nodes of ``owner``: a test per focus node
        for a minimum of one (returned), a grouped query for more (added to the queries)."""
        step, path = self._path(prop)
        out: list[tuple[Spec, str]] = [
            (self._spec(prop, SH.HasValueConstraintComponent, path, "none"), ok)
            for ok in self._has_value(prop, "?this", step)
        ]
        for component, kind, n, keep in self._cardinalities(prop):
            if kind != "min" or n < 1:
                continue
            v = self._var()
            values = step("?this", v) + (f" FILTER({keep(v)})" if keep else "")
            spec = self._spec(prop, component, path, "none")
            if n == 1:
                out.append((spec, f"EXISTS {{ {values} }}"))
            else:
                text = (
                    f"SELECT ?this WHERE {{ {owner.generate} OPTIONAL {{ {values} }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT {v}) < {n})"
                )
                self.queries.append(_Query(text, _plain(spec), needs=owner.needs))
        return out

    def _paths(self, props: dict[Node, list[_Owner]]) -> list[_Query]:
        """The queries driven by the triples of each path, for all the property shapes on it."""
        groups: dict[str, list[Node]] = {}
        for prop in props:
            for p in (SH.property, SH.closed):
                if (prop, p, None) in self.g:
                    raise UnsupportedShapes(f"{_n3(p)} on the property shape {_n3(prop)} is not supported")
            step, _path = self._path(prop)
            groups.setdefault(step("?s", "?o"), []).append(prop)
        return [q for members in groups.values() for q in self._along(members, props)]

    def _along(self, members: list[Node], props: dict[Node, list[_Owner]]) -> list[_Query]:
        """Value constraints, maximum counts, sh:uniqueLang and sh:lessThan(OrEquals) of the
        property shapes ``members`` (one path), each query shared by all their parents: a finding
        per parent whose focus nodes include ``?this`` (pySHACL validates a property shape once
        per parent shape)."""
        step, path = self._path(members[0])
        owners: list[_Owner] = []
        for prop in members:
            owners += [o for o in props[prop] if not any(o is known for known in owners)]
        complex_path = self._complex(members[0])
        distinct = "DISTINCT " if complex_path else ""
        if complex_path:  # driven by the focus nodes: a zero-length path reaches a node with no triples
            path_step = step
            anchor = "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(o.generate for o in owners) + " } }"

            def step(s: str, o: str) -> str:
                assert s == "?this"
                return f"{anchor} {path_step(s, o)}"

            needs: tuple[tuple[str, str], ...] = ()
        else:
            needs = (("p", str(path if isinstance(path, rdflib.URIRef) else self._one(path, SH.inversePath))),)
        parents = {prop: tuple(i for i, o in enumerate(owners) if any(o is p for p in props[prop])) for prop in members}
        flags = " ".join(f"?_in{i}" for i in range(len(owners)))
        tests = " ".join(f"BIND(COALESCE({o.test('?this')}, false) AS ?_in{i})" for i, o in enumerate(owners))
        keep = " || ".join(f"?_in{i}" for i in range(len(owners)))
        queries: list[_Query] = []

        def shared(inner: str, entries: list[tuple[Spec, tuple[int, ...]]], driven: Node | None = None) -> None:
            text = f"SELECT ?this ?value ?_m {flags} WHERE {{ {{ {inner} }} {tests} FILTER({keep}) }}"
            by = needs if driven is None else (("p", str(driven)),)
            queries.append(_Query(text, _shared(entries), needs=by, owners=tuple(owners)))

        def failing(pattern: str, checks: list[tuple[Spec, tuple[int, ...], str]], keep_vars: str) -> None:
            """Rows of ``pattern`` failing any check, a bit set for each one failed."""
            for start in range(0, len(checks), MASK_BITS):
                chunk = checks[start : start + MASK_BITS]
                mask = _mask([ok for _s, _p, ok in chunk])
                rows = f"SELECT {distinct}{keep_vars} ?_m WHERE {{ {pattern} BIND(({mask}) AS ?_m) FILTER(?_m != 0) }}"
                shared(f"SELECT ?this ?value ?_m WHERE {{ {rows} }}", [(spec, owned) for spec, owned, _ok in chunk])

        values: list[tuple[Spec, tuple[int, ...], str]] = []
        instances: dict[tuple[str, ...], list[tuple[Spec, tuple[int, ...]]]] = {}
        maxima: dict[int, list[tuple[Spec, tuple[int, ...]]]] = {}
        pairs: dict[Node, list[tuple[Spec, tuple[int, ...], str]]] = {}
        for prop in members:
            _step, path = self._path(prop)
            owned = parents[prop]
            for component, ok, classes in self._values(prop, "?value"):
                spec = self._spec(prop, component, path, "value")
                if classes is None:
                    values.append((spec, owned, ok))
                else:
                    instances.setdefault(tuple(str(c) for c in classes), []).append((spec, owned))
            for component, kind, n, qualified in self._cardinalities(prop):
                spec = self._spec(prop, component, path, "none")
                if kind == "max" and qualified is None:
                    maxima.setdefault(n, []).append((spec, owned))
                elif kind == "max" and qualified is not None:  # counted over the path's triples
                    v = self._var()
                    inner = (
                        f"SELECT ?this (1 AS ?_m) WHERE {{ {step('?this', v)} FILTER({qualified(v)}) }} "
                        f"GROUP BY ?this HAVING (COUNT(DISTINCT {v}) > {n})"
                    )
                    shared(inner, [(spec, owned)])
            unique = self._one(prop, SH.uniqueLang)
            if unique is not None and not (isinstance(unique, rdflib.Literal) and isinstance(unique.value, bool)):
                raise UnsupportedShapes(f"sh:uniqueLang of {_n3(prop)} is not a boolean")
            if unique == rdflib.Literal(True):  # only the literal true; one result per language tag used twice
                a, b = self._var(), self._var()
                same = f'LANG({a}) != "" && !sameTerm({a}, {b}) && LCASE(LANG({a})) = LCASE(LANG({b}))'
                inner = (
                    f"SELECT DISTINCT ?this (LCASE(LANG({a})) AS ?_lang) (1 AS ?_m) WHERE {{ {step('?this', a)} "
                    f"{step('?this', b)} FILTER(isLiteral({a}) && isLiteral({b}) && {same}) }}"
                )
                shared(inner, [(self._spec(prop, SH.UniqueLangConstraintComponent, path, "none"), owned)])
            for pred, op, component in (
                (SH.lessThan, "<", SH.LessThanConstraintComponent),
                (SH.lessThanOrEquals, "<=", SH.LessThanOrEqualsConstraintComponent),
            ):
                for other in self._objects(prop, pred):
                    if not isinstance(other, rdflib.URIRef):
                        raise UnsupportedShapes(f"{_n3(pred)} {_n3(other)} of {_n3(prop)} is not an IRI")
                    pairs.setdefault(other, []).append(
                        (
                            self._spec(prop, component, path, "value"),
                            owned,
                            _compare_ok("?value", "?_other", op, self._deferred),
                        )
                    )
        for classes, entries in instances.items():  # an instance test as an anti-join: faster than a test per value
            union = " UNION ".join(f"{{ {self._class_mark('generate', '?value', c)} }}" for c in classes)
            mask = (1 << len(entries)) - 1
            shared(
                f"SELECT {distinct}?this ?value ({mask} AS ?_m) WHERE {{ {step('?this', '?value')} "
                f"MINUS {{ {union} }} }}",
                entries,
            )
        failing(step("?this", "?value"), values, "?this ?value")
        for n, entries in maxima.items():  # the store holds each triple once: COUNT(*) counts distinct values
            mask = (1 << len(entries)) - 1
            v = self._var()
            shared(
                f"SELECT ?this ({mask} AS ?_m) WHERE {{ {step('?this', v)} }} GROUP BY ?this "
                f"HAVING (COUNT({distinct}{v}) > {n})",
                entries,
            )
        for prop in members:
            plain, path = self._path(prop)
            for other in self._objects(prop, SH.equals):  # the values of the path and of ``other`` differ
                spec = self._spec(prop, SH.EqualsConstraintComponent, path, "value")
                o = _iri(_pair(prop, SH.equals, other))
                shared(
                    f"SELECT {distinct}?this ?value (1 AS ?_m) WHERE {{ {step('?this', '?value')} "
                    f"FILTER NOT EXISTS {{ ?this {o} ?value }} }}",
                    [(spec, parents[prop])],
                )
                only_other = f"?this {o} ?value FILTER NOT EXISTS {{ {plain('?this', '?value')} }}"
                shared(f"SELECT ?this ?value (1 AS ?_m) WHERE {{ {only_other} }}", [(spec, parents[prop])], other)
            for other in self._objects(prop, SH.disjoint):
                spec = self._spec(prop, SH.DisjointConstraintComponent, path, "value")
                o = _iri(_pair(prop, SH.disjoint, other))
                shared(
                    f"SELECT {distinct}?this ?value (1 AS ?_m) WHERE {{ {step('?this', '?value')} ?this {o} ?value }}",
                    [(spec, parents[prop])],
                )
        for other, checks in pairs.items():  # one result per (value, other value) pair failing, as pySHACL
            failing(f"?this {_iri(other)} ?_other . {step('?this', '?value')}", checks, "?this ?value ?_other")
        return queries

    def _masked(self, owner: _Owner, checks: list[tuple[Spec, str]]) -> list[_Query]:
        """One pass over the focus nodes of ``owner`` deciding ``checks``: the focus nodes failing
        any, then which (a bit each)."""
        queries = []
        for start in range(0, len(checks), MASK_BITS):
            chunk = checks[start : start + MASK_BITS]
            failing = " || ".join(f"!{ok}" for _s, ok in chunk)
            mask = _mask([ok for _s, ok in chunk])
            text = (
                f"SELECT ?this ?_m WHERE {{ {{ SELECT ?this WHERE {{ {owner.generate} FILTER({failing}) }} }} "
                f"BIND(({mask}) AS ?_m) }}"
            )
            queries.append(_Query(text, _masked_rows([s for s, _ok in chunk]), needs=owner.needs))
        return queries

    # -- SPARQL-based constraints ----------------------------------------------------------------

    def _sparql(self, owner: _Owner, constraint: Node, prop: Node | None = None) -> _Query:
        """A SPARQL-based constraint (of ``owner``'s shape, or of its property shape ``prop``) as one
        query over all focus nodes of ``owner``: the focus nodes are joined first in the WHERE
        clause, where pySHACL pre-binds $this per node; $PATH is the property shape's path."""
        where = "the SPARQL constraint " + (
            _n3(constraint)
            if not isinstance(constraint, rdflib.BNode)
            else "of " + _n3(prop if prop is not None else owner.shape)
        )
        select = self._one(constraint, SH.select)
        if not (isinstance(select, rdflib.Literal) and isinstance(select.value, str)):
            raise UnsupportedShapes(f"{where} has no sh:select string")
        shape, path = owner.shape, None
        if prop is not None:
            shape, path = prop, self._one(prop, SH.path)
        text = self._constants(str(select), shape, where)
        if prop is not None:
            text = self._with_path(text, prop)
        elif any(t.kind == "var" and t.text == "$PATH" for t in sparql_text.tokens(text)):
            raise UnsupportedShapes(f"{where}: $PATH in a constraint of a node shape")
        prologue = "".join(f"PREFIX {p}: {ox.NamedNode(ns)}\n" for p, ns in sorted(self._prefixes(constraint).items()))
        try:
            parsed = sparql_parse.parsed(prologue + text)
        except Exception as exc:
            raise UnsupportedShapes(f"{where} does not parse: {exc}") from None
        # checked before the translation, which moves FILTERs out of the parse tree
        _check_where(parsed[1]["where"], where, top=True)
        try:
            algebra = translateQuery(parsed).algebra
        except Exception as exc:
            raise UnsupportedShapes(f"{where} does not parse: {exc}") from None
        if algebra.name != "SelectQuery":
            raise UnsupportedShapes(f"{where} is not a SELECT query")
        projected = [str(v) for v in algebra["PV"]]
        if "this" not in projected or "failure" in projected:
            raise UnsupportedShapes(f"{where} must select $this (and ?failure is not supported)")
        grouped = _check_algebra(algebra, where)
        try:
            at = sparql_text.where_start(text)
        except ValueError:
            raise UnsupportedShapes(f"{where} has no WHERE clause") from None
        # without aggregates a focus node met twice only repeats solutions, which count once
        focus = owner.generate if grouped else owner.inline
        query = prologue + text[:at] + f" {focus} " + text[at:]
        own = tuple(m for m in self._objects(shape, SH.message) if isinstance(m, rdflib.Literal))
        extra = tuple(m for m in self._objects(constraint, SH.message) if isinstance(m, rdflib.Literal))
        messages = tuple(m for m in extra if m not in own) + own
        spec = Spec(shape, SH.SPARQLConstraintComponent, self._severity(shape), messages, path, "focus")
        rows = _sparql_rows(spec, projected, constraint, default_path=path)
        return _Query(query, rows, dedupe=projected, needs=owner.needs)

    def _with_path(self, text: str, prop: Node) -> str:
        """``text`` with each ``$PATH`` token written as the SPARQL path of ``prop``'s sh:path."""
        path = self._one(prop, SH.path)
        assert path is not None
        return _substitute(text, {"$PATH": self._path_text(path, set())})

    def _constants(self, text: str, shape: Node, where: str) -> str:
        """``text`` with the pre-bound variables that are the same for every focus node written in
        as terms: ``$currentShape`` (the shape's IRI) and ``$shapesGraph`` (the named graph that
        holds the shapes graph when a compiled query reads it); substituted, as SHACL pre-binds."""
        names = {t.text[1:] for t in sparql_text.tokens(text) if t.kind == "var"}
        if "currentShape" in names and not isinstance(shape, rdflib.URIRef):
            raise UnsupportedShapes(f"{where}: $currentShape is a blank node, which a query cannot name")
        if "shapesGraph" in names:
            self.reads_shapes_graph = True
        terms = {"currentShape": _iri(shape) if isinstance(shape, rdflib.URIRef) else "", "shapesGraph": SHAPES_GRAPH}
        return _substitute(text, {f"{mark}{name}": terms[name] for name in terms for mark in "?$" if name in names})

    def _components(self) -> list[_Component]:
        """The SPARQL-based constraint components the shapes graph declares (SHACL 6): the
        instances of sh:ConstraintComponent or of a subclass of it."""
        kinds = set(self.g.transitive_subjects(RDFS.subClassOf, SH.ConstraintComponent))
        declared = {c for kind in kinds for c in self.g.subjects(RDF.type, kind)}
        found = []
        for component in sorted(declared, key=str):
            parameters = []
            for parameter in self._objects(component, SH.parameter):
                path = self._one(parameter, SH.path)
                if not isinstance(path, rdflib.URIRef):
                    raise UnsupportedShapes(f"a parameter of {_n3(component)} has no IRI sh:path")
                optional = self._one(parameter, SH.optional)
                parameters.append((path, isinstance(optional, rdflib.Literal) and optional.value is True))
            validators = {p: self._one(component, p) for p in (SH.validator, SH.nodeValidator, SH.propertyValidator)}
            found.append(_Component(component, tuple(parameters), validators))
        return found

    def _applied(self, owner: _Owner, shape: Node, *, node: bool) -> list[_Query]:
        """The SPARQL-based constraint components ``shape`` uses (a value for each parameter that
        is not optional), each one query over the focus nodes of ``owner``."""
        queries = []
        for component in self.components:
            values: dict[str, Node | None] = {}
            for path, optional in component.parameters:
                given = self._objects(shape, path)
                if len(given) > 1:
                    raise UnsupportedShapes(f"{_n3(shape)} has {len(given)} values of the parameter {_n3(path)}")
                if not given and not optional:
                    break
                values[_local_name(path)] = given[0] if given else None
            else:
                select = component.validators[SH.nodeValidator if node else SH.propertyValidator]
                validator = select if select is not None else component.validators[SH.validator]
                if validator is None:
                    raise UnsupportedShapes(f"{_n3(component.node)} has no validator for {_n3(shape)}")
                queries.append(self._validator(owner, shape, component, validator, values, node=node))
        return queries

    def _validator(
        self,
        owner: _Owner,
        shape: Node,
        component: _Component,
        validator: Node,
        values: dict[str, Node | None],
        *,
        node: bool,
    ) -> _Query:
        """One use of a constraint component: its ASK validator (a result for each value node for
        which it is false) or SELECT validator (a result per solution), with ``$this``, the
        parameters (and ``$value``) bound first, as for SPARQL constraints."""
        where = f"the validator of {_n3(component.node)}"
        ask, select = self._one(validator, SH.ask), self._one(validator, SH.select)
        text = str(ask if ask is not None else select) if (ask is None) != (select is None) else None
        if text is None:
            raise UnsupportedShapes(f"{where} has not exactly one of sh:ask and sh:select")
        text = self._constants(text, shape, where)
        step, path = (None, None) if node else self._path(shape)
        if not node:  # $PATH is the property shape's path, written in as a SPARQL path
            text = self._with_path(text, shape)
        prologue = "".join(f"PREFIX {p}: {ox.NamedNode(ns)}\n" for p, ns in sorted(self._prefixes(validator).items()))
        names = {"this", "value", *values} if ask is not None else {"this", *values}
        try:
            parsed = sparql_parse.parsed(prologue + text)
        except Exception as exc:
            raise UnsupportedShapes(f"{where} does not parse: {exc}") from None
        if "valuesClause" in parsed[1]:
            raise UnsupportedShapes(f"{where}: a VALUES clause after the query is not supported")
        _check_where(parsed[1]["where"], where, top=True, names=names)
        try:
            algebra = translateQuery(parsed).algebra
        except Exception as exc:
            raise UnsupportedShapes(f"{where} does not parse: {exc}") from None
        if algebra.name != ("AskQuery" if ask is not None else "SelectQuery"):
            raise UnsupportedShapes(f"{where} is not an {'ASK' if ask is not None else 'SELECT'} query")
        bound = [n for n, v in values.items() if v is not None]
        row = " ".join(_term(values[n], shape) for n in bound)  # type: ignore[arg-type]
        parameters = f"VALUES ({' '.join('?' + n for n in bound)}) {{ ({row}) }}" if bound else ""
        messages = self._component_messages(shape, validator, component, values)
        spec = Spec(shape, component.node, self._severity(shape), messages, path, "value")
        at = sparql_text.where_start(text)
        if ask is not None:
            body = text[at:].rstrip()
            if not body.endswith("}"):
                raise UnsupportedShapes(f"{where}: the ASK query must end with its WHERE group")
            values_of = "BIND(?this AS ?value)" if node else step("?this", "?value")  # type: ignore[misc]
            query = (
                f"{prologue}SELECT DISTINCT ?this ?value WHERE {{ {owner.generate} {values_of} {parameters} "
                f"FILTER NOT EXISTS {{ {body[:-1]} }} }}"
            )
            return _Query(query, _valued_rows(spec), needs=owner.needs)
        projected = [str(v) for v in algebra["PV"]]
        if "this" not in projected:
            raise UnsupportedShapes(f"{where} must select $this")
        grouped = _check_algebra(algebra, where)
        focus = owner.generate if grouped else owner.inline
        query = prologue + text[:at] + f" {focus} {parameters} " + text[at:]
        rows = _sparql_rows(spec, projected, None, default_path=path)
        return _Query(query, rows, dedupe=projected, needs=owner.needs)

    def _component_messages(
        self, shape: Node, validator: Node, component: _Component, values: dict[str, Node | None]
    ) -> tuple[rdflib.Literal, ...]:
        """The messages of a result: the shape's, else the validator's, else the component's, with
        the parameters' {$name} filled in (the solution's variables are filled per result)."""
        for holder in (shape, validator, component.node):
            found = [m for m in self._objects(holder, SH.message) if isinstance(m, rdflib.Literal)]
            if found:
                break
        else:
            found = [rdflib.Literal(f"Value does not satisfy {_n3(component.node)}")]
        given = {name: str(value) for name, value in values.items() if value is not None}
        return tuple(rdflib.Literal(_fill(str(m), given), lang=m.language) for m in found)

    def _prefixes(self, constraint: Node) -> dict[str, str]:
        """The prefixes pySHACL declares for a SPARQL constraint (its sh:prefixes' sh:declare, and
        those of every owl:Ontology unless the sh:prefixes value is one with declarations)."""
        ontologies = set(self.g.subjects(RDF.type, OWL.Ontology))
        everywhere = {d for o in ontologies for d in self.g.objects(o, SH.declare)}
        declared: dict[str, str] = {}
        for holder in self._objects(constraint, SH.prefixes):
            own = set(self.g.objects(holder, SH.declare))
            for d in sorted(own if (own and holder in ontologies) else everywhere | own, key=str):
                prefix, namespace = self._one(d, SH.prefix), self._one(d, SH.namespace)
                if prefix is None or namespace is None or not _PN_PREFIX.match(str(prefix)):
                    raise UnsupportedShapes(f"a malformed sh:declare of {_n3(holder)}")
                declared[str(prefix)] = str(namespace)
        return declared

    def _probe(self) -> None:
        """Let pyoxigraph parse every query once, on an empty store, so that a shapes graph it
        cannot evaluate fails now and not in the middle of a validation."""
        empty = ox.Store()
        closures = {c: [ox.NamedNode(c)] for c in self.class_iris}
        for q in self.queries:
            try:
                list(self._query(empty, self.render(q.text, closures)))
            except SyntaxError as exc:
                raise UnsupportedShapes(f"a compiled query does not parse ({exc}):\n{q.text}") from None
        for pattern, flags in self._patterns:
            probe = f'SELECT (REGEX("", {_literal(str(pattern))}, {_literal(flags)}) AS ?r) {{}}'
            try:
                re.compile(str(pattern))
                valid = next(iter(empty.query(probe)))["r"] is not None
            except re.error:
                valid = False
            if not valid:
                raise UnsupportedShapes(f"the sh:pattern {_n3(pattern)} is not a regular expression both engines read")

    # -- running -----------------------------------------------------------------------------

    def _query(self, store: ox.Store, text: str) -> ox.QuerySolutions:
        """Run a compiled query, with the custom functions of deferred expressions if it calls one
        (pyoxigraph then holds the GIL while it evaluates: other threads wait)."""
        return store.query(text, custom_functions=self.functions if DEFERRED in text else None)  # type: ignore[return-value]

    def validate(self, store: ox.Store, *, workers: int = 1, focus: AbstractSet[str] | None = None) -> list[Finding]:
        """The findings of every compiled query over ``store`` (the data and the ontology), the
        queries run by ``workers`` threads (pyoxigraph evaluates without the GIL). ``focus``: the
        nodes (as :func:`text` writes them) whose findings are wanted; a query whose shapes have no
        such node as a target in ``store`` is not run (the findings about other nodes may be missing)."""
        closures = self.closures(store)
        present: dict[tuple[str, str], bool] = {}

        def found(need: tuple[str, str]) -> bool:
            if need not in present:
                kind, iri = need
                if kind == "p":
                    present[need] = next(store.quads_for_pattern(None, ox.NamedNode(iri), None), None) is not None
                else:
                    present[need] = any(
                        next(store.quads_for_pattern(None, RDF_TYPE_NODE, c), None) is not None for c in closures[iri]
                    )
            return present[need]

        queries = [q for q in self.queries if not q.needs or any(found(n) for n in q.needs)]
        if focus is not None:
            targeted = _Targeted(store, focus, closures)
            queries = [q for q in queries if any(targeted(t) for o in q.owners for t in o.targets)]
        texts = [self.render(q.text, closures) for q in queries]
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                answers = list(pool.map(lambda t: list(self._query(store, t)), texts))
        else:
            answers = [list(self._query(store, t)) for t in texts]
        findings: list[Finding] = []
        for q, rows in zip(queries, answers, strict=True):
            seen: set[tuple[Any, ...]] = set()
            for row in rows:
                if q.dedupe is not None:
                    key = tuple(row[name] for name in q.dedupe)
                    if key in seen:
                        continue
                    seen.add(key)
                findings.extend(q.rows(row))
        return findings


class _Targeted:
    """Is some node of ``focus`` (texts, as :func:`text` writes them) a target of this kind in ``store``?"""

    def __init__(self, store: ox.Store, focus: AbstractSet[str], closures: dict[str, list[OxTerm]]) -> None:
        shown = [_shown_as(f) for f in focus]
        self.unknown = any(terms is None for terms in shown)  # then every target may be one
        terms = [t for ts in shown if ts is not None for t in ts]
        nodes = [t for t in terms if not isinstance(t, ox.Literal)]
        self.closures = closures
        self.types = {q.object for n in nodes for q in store.quads_for_pattern(n, RDF_TYPE_NODE, None)}
        self.subject_of = {q.predicate.value for n in nodes for q in store.quads_for_pattern(n, None, None)}
        self.object_of = {q.predicate.value for t in terms for q in store.quads_for_pattern(None, None, t)}

    def __call__(self, target: tuple[str, str]) -> bool:
        kind, iri = target
        if self.unknown or kind == "n":
            return True
        if kind == "c":
            return any(c in self.types for c in self.closures[iri])
        return iri in (self.subject_of if kind == "s" else self.object_of)


def _shown_as(shown: str) -> list[OxTerm] | None:
    """Every term :func:`text` writes as ``shown`` (None for a typed or tagged literal's form)."""
    if shown.startswith('"'):
        return None
    terms: list[OxTerm] = [ox.Literal(shown)]
    try:
        terms.append(ox.NamedNode(shown))
        if shown.startswith("_:"):
            terms.append(ox.BlankNode(shown[2:]))
    except ValueError:  # not an IRI pyoxigraph accepts (nor a blank node label): may be in a lenient store
        return None
    return terms


# -- rows into findings ------------------------------------------------------------------------


def _mask(checks: list[str]) -> str:
    """A SPARQL sum with bit ``i`` set when ``checks[i]`` is false (an error when one is): the
    checks written out alike (the same constraint on one path in several shapes) are evaluated once,
    with their bits together."""
    bits: dict[str, int] = {}
    for i, ok in enumerate(checks):
        bits[ok] = bits.get(ok, 0) | 1 << i
    return " + ".join(f"IF({ok}, 0, {b})" for ok, b in bits.items())


def _finding(spec: Spec, focus: OxTerm, value: OxTerm | None) -> Finding:
    shown = {"value": value, "focus": focus, "none": None}[spec.value]
    return Finding(spec.severity, focus, spec.path, shown, spec.shape, spec.component, spec.messages)


def _plain(spec: Spec) -> Callable[[ox.QuerySolution], Iterator[Finding]]:
    def rows(row: ox.QuerySolution) -> Iterator[Finding]:
        yield _finding(spec, row["this"], None)

    return rows


def _masked_rows(specs: list[Spec]) -> Callable[[ox.QuerySolution], Iterator[Finding]]:
    def rows(row: ox.QuerySolution) -> Iterator[Finding]:
        mask = int(row["_m"].value)
        for i, spec in enumerate(specs):
            if mask & (1 << i):
                yield _finding(spec, row["this"], None)

    return rows


def _shared(entries: list[tuple[Spec, tuple[int, ...]]]) -> Callable[[ox.QuerySolution], Iterator[Finding]]:
    """Rows of a path-driven query: for each set bit of ``?_m``, a finding per parent of the
    entry's property shape (``?_in<i>``) whose focus nodes include ``?this``."""

    def rows(row: ox.QuerySolution) -> Iterator[Finding]:
        bits = int(row["_m"].value)
        for j, (spec, owned) in enumerate(entries):
            if bits & (1 << j):
                for i in owned:
                    if row[f"_in{i}"].value == "true":
                        yield _finding(spec, row["this"], row["value"])

    return rows


def _valued_rows(spec: Spec) -> Callable[[ox.QuerySolution], Iterator[Finding]]:
    def rows(row: ox.QuerySolution) -> Iterator[Finding]:
        yield _finding(spec, row["this"], row["value"])

    return rows


def _closed_rows(spec: Spec) -> Callable[[ox.QuerySolution], Iterator[Finding]]:
    def rows(row: ox.QuerySolution) -> Iterator[Finding]:
        path = _rdflib(row["_p"])
        yield Finding(spec.severity, row["this"], path, row["value"], spec.shape, spec.component, spec.messages)

    return rows


def _sparql_rows(
    spec: Spec, projected: list[str], constraint: Node | None, default_path: Node | None = None
) -> Callable[[ox.QuerySolution], Iterator[Finding]]:
    """Rows of a SPARQL-based constraint, read as pySHACL reads them: ?this is the focus node,
    ?value the value (the focus node when unbound), ?path the result path, and every variable
    fills the messages' {?var} templates."""

    def rows(row: ox.QuerySolution) -> Iterator[Finding]:
        bound = {name: row[name] for name in projected if row[name] is not None}
        this = bound.pop("this")
        path, value = bound.pop("path", None), bound.pop("value", None)
        value = value if value is not None else this
        names = {**bound, "this": this, **({"path": path} if path is not None else {}), "value": value}
        messages = tuple(rdflib.Literal(_fill(str(m), {k: t.value for k, t in names.items()})) for m in spec.messages)
        result_path = _rdflib(path) if path is not None else default_path
        yield Finding(spec.severity, this, result_path, value, spec.shape, spec.component, messages, constraint)

    return rows


def _fill(message: str, names: dict[str, str]) -> str:
    """pySHACL's message template: each {?var} / {$var} replaced by the text given for ``var``, as is.

    >>> _fill("{$lang} is not {?value}", {"lang": "de", "value": "x"})
    'de is not x'
    """
    for name, text in names.items():
        message = re.sub(f"{{[?$]{re.escape(name)}}}", lambda _m, text=text: text, message)
    return message


# -- SPARQL text -------------------------------------------------------------------------------


def _n3(term: Any) -> str:
    return term.n3() if hasattr(term, "n3") else str(term)


def _qname(g: rdflib.Graph, term: Any) -> str:
    try:
        return g.namespace_manager.normalizeUri(term)
    except Exception:
        return str(term)


def _iri(term: Node) -> str:
    return str(ox.NamedNode(str(term)))


def _literal(text: str) -> str:
    return str(ox.Literal(text))


def _term(term: Node, shape: Node) -> str:
    """A shapes-graph IRI or literal as SPARQL (a blank node cannot be written)."""
    if isinstance(term, rdflib.URIRef):
        return _iri(term)
    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
        literal = ox.Literal(str(term), datatype=datatype)
        if _canonical(literal) != literal:
            raise UnsupportedShapes(
                f"{_n3(shape)} names {_n3(term)}, which pyoxigraph reads as {_canonical(literal)} (its canonical form)"
            )
        return str(literal)
    raise UnsupportedShapes(f"{_n3(shape)} names the blank node {_n3(term)} as a value")


@functools.lru_cache(maxsize=1024)
def _canonical(literal: ox.Literal) -> ox.Literal:
    """The literal as pyoxigraph evaluates it (numbers in their canonical form: "4.0" is "4")."""
    row = next(iter(ox.Store().query(f"SELECT ?x {{ VALUES ?x {{ {literal} }} }}")))
    found = row["x"]
    assert isinstance(found, ox.Literal)
    return found


def _datatype_ok(shape: Node, datatype: Node, v: str) -> str:
    if datatype in (XSD.string, RDF.langString):
        return f"COALESCE(isLiteral({v}) && sameTerm(DATATYPE({v}), {_iri(datatype)}), false)"
    if datatype in CASTABLE:
        dt = _iri(datatype)
        return f"COALESCE(isLiteral({v}) && sameTerm(DATATYPE({v}), {dt}) && isLiteral({dt}({v})), false)"
    if isinstance(datatype, rdflib.URIRef) and not str(datatype).startswith((str(XSD), str(RDF))):
        return f"COALESCE(isLiteral({v}) && sameTerm(DATATYPE({v}), {_iri(datatype)}), false)"  # not checkable
    raise UnsupportedShapes(
        f"sh:datatype {_n3(datatype)} of {_n3(shape)} (only {_n3(XSD.string)}, rdf:langString "
        f"and {', '.join(sorted(_n3(c) for c in CASTABLE))} are supported)"
    )


# -- rdflib's literal order, which pySHACL's comparisons use (not SPARQL's operators) ----------------

_X = "http://www.w3.org/2001/XMLSchema#"
# literals whose rdflib value is a str (pySHACL compares them, and IRIs, as strings)
STRING_VALUED = [f"{_X}{t}" for t in ("string", "normalizedString", "token", "language", "anyURI")] + [
    str(RDF.langString)
]
ERROR = "(1/0)"  # an expression that fails: COALESCE moves on to its next argument
DEFERRED = "urn:x-allianceld:deferred:"  # the custom functions of deferred expressions


def _listed(iris: Iterable[str]) -> str:
    return ", ".join(str(ox.NamedNode(i)) for i in iris)


@dataclass(frozen=True)
class _Operand:
    """A compared term as SPARQL expressions: the term, and what rdflib's order reads of it."""

    term: str
    literal: str  # is a literal
    stringy: str  # pySHACL's "is a string": an IRI, or a literal with a str value
    valued: str  # a literal rdflib gives a value to: a string, or a well-typed castable literal
    numeric: str  # a well-typed number
    datatype: str  # rdflib's datatype: plain and language-tagged literals count as xsd:string
    lang: str

    @classmethod
    def variable(cls, v: str, compared_with: _Operand | None = None) -> _Operand:
        """A variable's term. Compared with a constant, ``valued`` is only read where the two
        share a datatype, so it is written for the constant's datatype only (far shorter)."""
        casts = " || ".join(
            f"(sameTerm(DATATYPE({v}), {_iri(d)}) && isLiteral({_iri(d)}({v})))" for d in sorted(CASTABLE)
        )
        strings = f"(DATATYPE({v}) IN ({_listed(STRING_VALUED)}))"
        if compared_with is not None:
            known = compared_with.datatype  # an IRI, as SPARQL
            if known[1:-1] in STRING_VALUED:
                valued = "true"
            elif rdflib.URIRef(known[1:-1]) in CASTABLE:
                valued = f"COALESCE(isLiteral({known}({v})), false)"
            else:
                valued = "false"
        else:
            valued = f"({strings} || COALESCE({casts}, false))"
        return cls(
            term=v,
            literal=f"isLiteral({v})",
            stringy=f"(isIRI({v}) || (isLiteral({v}) && {strings}))",
            valued=valued,
            numeric=f"isNumeric({v})",
            datatype=f'IF(LANG({v}) != "", <{XSD_STRING}>, DATATYPE({v}))',
            lang=f"LANG({v})",
        )

    @classmethod
    def constant(cls, term: rdflib.Literal, shape: Node) -> _Operand:
        """A shapes-graph literal, its facts worked out here (rdflib's own view of it)."""
        datatype = XSD_STRING if term.language or term.datatype is None else str(term.datatype)
        well_typed = getattr(term, "ill_typed", False) is not True and term.value is not None
        valued = isinstance(term.value, str) or (well_typed and term.datatype in CASTABLE)
        numeric = well_typed and isinstance(term.value, int | float | Decimal) and not isinstance(term.value, bool)
        return cls(
            term=_term(term, shape),
            literal="true",
            stringy=_bool(isinstance(term.value, str)),
            valued=_bool(valued),
            numeric=_bool(numeric),
            datatype=_iri(datatype),
            lang=_literal(term.language or ""),
        )


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _rd_gt(a: _Operand, b: _Operand) -> str:
    """rdflib's ``Literal.__gt__`` of two literals: numbers by value; else datatypes by IRI, then
    language tags, then values (one datatype, both valued), then lexical forms."""
    x, y = a.term, b.term
    return (
        f"COALESCE(IF({a.numeric} && {b.numeric}, {x} > {y}, IF({a.datatype} != {b.datatype}, "
        f'STR({a.datatype}) > STR({b.datatype}), IF({a.lang} != {b.lang}, {a.lang} != "" && '
        f'({b.lang} = "" || {a.lang} > {b.lang}), IF({a.valued} && {b.valued} && {a.datatype} != <{XSD_STRING}>, '
        f"COALESCE({x} > {y}, STR({x}) > STR({y})), STR({x}) > STR({y}))))), false)"
    )


def _rd_eq(a: _Operand, b: _Operand) -> str:
    """rdflib's ``Literal.eq``, where it answers (see :func:`_rd_undecided`)."""
    x, y = a.term, b.term
    strings = f"({a.datatype} = <{XSD_STRING}> && {b.datatype} = <{XSD_STRING}>)"
    return (
        f"COALESCE(IF({a.numeric} && {b.numeric}, {x} = {y}, IF(LCASE({a.lang}) != LCASE({b.lang}), false, "
        f"IF({strings}, STR({x}) = STR({y}), IF({a.datatype} != {b.datatype}, false, "
        f"IF({a.valued} && {b.valued}, {x} = {y}, STR({x}) = STR({y})))))), false)"
    )


def _rd_undecided(a: _Operand, b: _Operand) -> str:
    """Where rdflib's ``Literal.eq`` raises TypeError: one datatype (not a string), not both
    valued, different lexical forms (pySHACL then fails the value)."""
    return (
        f"COALESCE(!({a.numeric} && {b.numeric}) && LCASE({a.lang}) = LCASE({b.lang}) && {a.datatype} = {b.datatype} "
        f"&& {a.datatype} != <{XSD_STRING}> && !({a.valued} && {b.valued}) && STR({a.term}) != STR({b.term}), false)"
    )


def _fast(a: _Operand, b: _Operand, op: str, exact: str) -> str:
    """``a op b`` by SPARQL's operator where it agrees with rdflib's order (two numbers, or two
    literals of one castable datatype: the operator fails on an ill-typed one), else ``exact``.
    Checked first: the common case, and cheap."""
    x, y = a.term, b.term
    castable = _listed(str(d) for d in sorted(CASTABLE))
    same = f"({a.literal} && {b.literal} && sameTerm(DATATYPE({x}), DATATYPE({y})) && DATATYPE({x}) IN ({castable}))"
    return f"COALESCE(IF(({a.numeric} && {b.numeric}) || {same}, {x} {op} {y}, {ERROR}), {exact})"


Defer = Callable[[str, tuple[str, ...]], str]  # CompiledShapes._deferred


def _compare_ok(v: str, c: str, op: str, defer: Defer) -> str:
    """pySHACL's sh:lessThan ("<") / sh:lessThanOrEquals ("<=") test of a value ``v`` against
    ``c``: two strings (IRIs included) compare as strings, a string with a non-string fails, other
    literals by rdflib's order (``v < c`` is ``c > v``; ``v <= c`` is not ``v > c``); blank nodes fail."""
    a, b = _Operand.variable(v), _Operand.variable(c)
    return _fast(a, b, op, defer(_compare_exact("?_a", "?_b", op), (v, c)))


def _compare_exact(v: str, c: str, op: str) -> str:
    """:func:`_compare_ok` written out, for every pair of terms."""
    a, b = _Operand.variable(v), _Operand.variable(c)
    ordered = _rd_gt(b, a) if op == "<" else f"!{_rd_gt(a, b)}"
    return (
        f"COALESCE(IF(isBlank({v}) || isBlank({c}), false, IF({a.stringy} && {b.stringy}, STR({v}) {op} STR({c}), "
        f"IF({a.stringy} || {b.stringy}, false, {ordered}))), false)"
    )


def _range_ok(v: str, limit: rdflib.Literal, shape: Node, op: str, defer: Defer) -> str:
    """pySHACL's sh:minInclusive (``op`` ">="), sh:maxInclusive ("<="), sh:minExclusive (">") and
    sh:maxExclusive ("<"): a literal of the limit's kind (string or not) whose rdflib comparison with
    the limit is decided and on the right side (a valid xsd:dateTime or xsd:time compares by value,
    an incomparable pair failing)."""
    b = _Operand.constant(limit, shape)
    a = _Operand.variable(v, compared_with=b)
    return f"COALESCE(isLiteral({v}) && {_fast(a, b, op, defer(_range_exact('?_a', limit, shape, op), (v,)))}, false)"


def _range_exact(v: str, limit: rdflib.Literal, shape: Node, op: str) -> str:
    """:func:`_range_ok` written out, for every term."""
    b = _Operand.constant(limit, shape)
    a = _Operand.variable(v, compared_with=b)
    timed = " || ".join(
        f"(sameTerm(DATATYPE({v}), {d}) && isLiteral({d}({v})))" for d in map(_iri, (XSD.dateTime, XSD.time))
    )
    force = f"COALESCE({timed}, false)"
    above = f"IF({force}, COALESCE({v} > {b.term}, false), {_rd_gt(a, b)})"  # an incomparable pair: false
    not_above = f"IF({force}, COALESCE(!({v} > {b.term}), false), !{_rd_gt(a, b)})"  # and false here too
    equal = _rd_eq(a, b)
    side = {">=": f"({equal} || {above})", "<=": f"({equal} || {not_above})", ">": f"(!{equal} && {above})"}
    side["<"] = f"(!{equal} && {not_above})"
    return f"COALESCE(isLiteral({v}) && {a.stringy} = {b.stringy} && !{_rd_undecided(a, b)} && {side[op]}, false)"


class _Deferred:
    """The custom function of a deferred expression (:meth:`CompiledShapes._deferred`): evaluated
    by pyoxigraph on the terms given, each pair of terms once."""

    def __init__(self, expression: str, arity: int) -> None:
        self.names = [ox.Variable(n) for n in ("_a", "_b")[:arity]]
        self.query = f"SELECT {' '.join(str(n) for n in self.names)} ({expression} AS ?_r) WHERE {{}}"
        self.scratch = ox.Store()
        self.known: dict[tuple[OxTerm, ...], OxTerm | None] = {}

    def __call__(self, *terms: OxTerm) -> OxTerm | None:
        found = self.known.get(terms, self)
        if found is self:
            if len(self.known) >= 100_000:
                self.known.clear()
            row = next(iter(self.scratch.query(self.query, substitutions=dict(zip(self.names, terms, strict=True)))))
            found = self.known[terms] = row["_r"]
        return found  # type: ignore[return-value]


def _pair(shape: Node, parameter: Node, other: Node) -> rdflib.URIRef:
    if not isinstance(other, rdflib.URIRef):
        raise UnsupportedShapes(f"{_n3(parameter)} {_n3(other)} of {_n3(shape)} is not an IRI")
    return other


def _substitute(text: str, terms: dict[str, str]) -> str:
    """``text`` with each variable token named in ``terms`` (``$PATH``, ``?x``) replaced by its text,
    and ``BOUND(v)`` of such a variable by ``(true)`` (the variable is bound: SHACL's pre-binding)."""
    tokens = sparql_text.tokens(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.keyword("BOUND"):
            rest = [(j, u) for j, u in enumerate(tokens[i + 1 :], i + 1) if u.significant][:3]
            if [u.text for _j, u in rest[::2]] == ["(", ")"] and rest[1][1].kind == "var" and rest[1][1].text in terms:
                out.append("(true)")
                i = rest[2][0] + 1
                continue
        out.append(terms.get(t.text, t.text) if t.kind == "var" else t.text)
        i += 1
    return "".join(out)


def _local_name(iri: rdflib.URIRef) -> str:
    """A parameter's variable name: the local name of its path (SHACL 6.2.1)."""
    name = re.split(r"[#/:]", str(iri))[-1]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UnsupportedShapes(f"the parameter {_n3(iri)} has no local name usable as a variable")
    return name


def _count(shape: Node, n: Node) -> int:
    if not (isinstance(n, rdflib.Literal) and isinstance(n.value, int) and not isinstance(n.value, bool)):
        raise UnsupportedShapes(f"a count of {_n3(shape)} is not an integer: {_n3(n)}")
    return int(n.value)


def _mentions(node: Any, names: set[str]) -> bool:
    """Does the parse tree ``node`` mention one of the variables ``names``?"""
    if isinstance(node, rdflib.Variable):
        return str(node) in names
    if isinstance(node, CompValue):
        return any(_mentions(v, names) for v in node.values())
    if isinstance(node, list | tuple):
        return any(_mentions(v, names) for v in node)
    if hasattr(node, "asList") and not isinstance(node, str):
        return any(_mentions(v, names) for v in node)
    return False


# forbidden in the SPARQL of a shapes graph (SHACL 5.3.1, pre-binding): the shapes graph is malformed
FORBIDDEN_PARTS = {"MinusGraphPattern": "MINUS", "ServiceGraphPattern": "SERVICE", "InlineData": "VALUES"}


def _check_where(
    group: Any, where: str, *, top: bool, optional: bool = False, names: frozenset[str] | set[str] = frozenset({"this"})
) -> None:
    """Refuse the WHERE clauses whose solutions joining ?this at the start would change: MINUS,
    GRAPH, SERVICE, VALUES, sub-SELECTs, and FILTER/BIND on $this inside nested groups (they are
    evaluated before the join; an OPTIONAL's own filters are not)."""
    parts = group.get("part") if isinstance(group, CompValue) else None
    if group is not None and isinstance(group, CompValue) and group.name == "SubSelect":
        raise UnsupportedShapes(f"{where}: a sub-SELECT is not supported")
    for part in parts or []:
        name = getattr(part, "name", None)
        if name in FORBIDDEN_PARTS:
            raise InvalidShapes(f"{where}: SHACL forbids {FORBIDDEN_PARTS[name]} where variables are pre-bound")
        if name == "SubSelect":
            raise UnsupportedShapes(f"{where}: a sub-SELECT is not supported")
        if name == "Filter" and not top and not optional and _mentions(part, names):
            raise UnsupportedShapes(f"{where}: a FILTER on a pre-bound variable inside a nested group is not supported")
        if name == "Bind" and _mentions(part, names) and (not top or str(part.get("var")) in names):
            raise UnsupportedShapes(f"{where}: a BIND on or to a pre-bound variable is not supported here")
        if name == "OptionalGraphPattern":
            _check_where(part["graph"], where, top=False, optional=True, names=names)
        elif name == "GroupOrUnionGraphPattern":
            for g in part["graph"]:
                _check_where(g, where, top=False, names=names)
        elif name == "GraphGraphPattern":
            _check_where(part["graph"], where, top=False, names=names)


def _check_algebra(node: Any, where: str) -> bool:
    """Refuse LIMIT/OFFSET and aggregates not grouped by $this (they would mix focus nodes);
    True when the query groups."""
    grouped = False
    if isinstance(node, CompValue):
        if node.name == "Slice":
            raise UnsupportedShapes(f"{where}: LIMIT/OFFSET is not supported")
        if node.name == "Group":
            keys = node.get("expr") or []
            if not any(isinstance(k, rdflib.Variable) and str(k) == "this" for k in keys):
                raise UnsupportedShapes(f"{where}: aggregates must be grouped by $this")
            grouped = True
        for value in node.values():
            grouped = _check_algebra(value, where) or grouped
    elif isinstance(node, list | tuple):
        for value in node:
            grouped = _check_algebra(value, where) or grouped
    return grouped


# -- terms ---------------------------------------------------------------------------------------


_rdflib = rdflib_term  # a pyoxigraph term as rdflib's


def text(term: OxTerm | None) -> str | None:
    """A data term as :func:`allianceld.validation.validator._text` writes rdflib's (N3 for typed and
    language-tagged literals, the plain string otherwise, ``_:id`` for a blank node)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if term.language:
        return f"{_quote(term.value)}@{term.language}"
    if term.datatype.value == XSD_STRING:
        return term.value
    return f"{_quote(term.value)}^^<{term.datatype.value}>"


def _quote(s: str) -> str:
    """rdflib's Literal._quote_encode."""
    if "\n" in s:
        encoded = s.replace("\\", "\\\\")
        if '"""' in s:
            encoded = encoded.replace('"""', '\\"\\"\\"')
        if encoded[-1] == '"' and encoded[-2] != "\\":
            encoded = encoded[:-1] + "\\" + '"'
        return '"""' + encoded.replace("\r", "\\r") + '"""'
    return '"' + s.replace("\n", "\\n").replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") + '"'


# -- the engine: stores in, reports out ------------------------------------------------------------

RDFS_LABEL = ox.NamedNode(str(RDFS.label))
SHAPES_GRAPH = "<urn:x-allianceld:shapes-graph>"  # the named graph $shapesGraph names in a validation


class SparqlValidator:
    """Compiled shapes and the ontology, ready to validate data given as pyoxigraph triples, an
    rdflib graph or a store (the ontology is added to the data, as pySHACL's mixing does)."""

    def __init__(self, shapes: rdflib.Graph, ontology: rdflib.Graph, only: Iterable[Node] | None = None) -> None:
        self.shapes = shapes
        self.compiled = CompiledShapes(shapes, only)
        self.ontology_nt = ontology.serialize(format="nt", encoding="utf-8")
        # the shapes graph as $shapesGraph, in its own named graph, when a query reads it
        self.shapes_nt = shapes.serialize(format="nt", encoding="utf-8") if self.compiled.reads_shapes_graph else b""

    def store(self, *parts: Iterable[ox.Triple] | rdflib.Graph) -> ox.Store:
        """A fresh in-memory store holding the ontology and ``parts`` in its default graph."""
        store = ox.Store()
        store.load(self.ontology_nt, format=ox.RdfFormat.N_TRIPLES, lenient=True)
        if self.shapes_nt:
            to = ox.NamedNode(SHAPES_GRAPH[1:-1])
            store.load(self.shapes_nt, format=ox.RdfFormat.N_TRIPLES, to_graph=to, lenient=True)
        for part in parts:
            formats.load_into(store, triples_of(part))
        return store

    def validate(self, *parts: Iterable[ox.Triple] | rdflib.Graph, focus: AbstractSet[str] | None = None) -> Report:
        """The :class:`allianceld.validation.report.Report` of ``parts`` together (with the ontology);
        ``focus``: as :meth:`CompiledShapes.validate`."""
        store, workers = self._store_for(parts)
        return self.report(store, workers=workers, focus=focus)

    def detached(self, *parts: Iterable[ox.Triple] | rdflib.Graph) -> DetachedReport:
        """:meth:`validate`'s report as a value another process can take (pickled) and make a
        Report of (:meth:`DetachedReport.attach`)."""
        store, workers = self._store_for(parts)
        findings = self.compiled.validate(store, workers=workers)
        return DetachedReport(_results(findings, store), findings, list(_descriptions(_blank_nodes(findings), store)))

    def _store_for(self, parts: tuple[Iterable[ox.Triple] | rdflib.Graph, ...]) -> tuple[ox.Store, int]:
        """The store of ``parts`` (:meth:`store`), and how many threads validate it."""
        parts = tuple(p if isinstance(p, rdflib.Graph | list) else list(p) for p in parts)
        size = sum(len(p) for p in parts)  # type: ignore[arg-type]
        return self.store(*parts), WORKERS if size >= PARALLEL_FROM else 1

    def report(self, store: ox.Store, *, workers: int = 1, focus: AbstractSet[str] | None = None) -> Report:
        """Validate everything in ``store`` (which must hold the ontology) into a Report."""
        return build_report(self.compiled.validate(store, workers=workers, focus=focus), store, self.shapes)


def triples_of(part: Iterable[ox.Triple] | rdflib.Graph) -> list[ox.Triple]:
    """Pyoxigraph triples; an rdflib graph's written as N-Triples and read back leniently (terms
    rdflib holds that pyoxigraph would refuse to build), blank node labels kept (``Store.load``
    would rename them: results name the nodes the caller knows)."""
    if not isinstance(part, rdflib.Graph):
        return part if isinstance(part, list) else list(part)
    data = part.serialize(format="nt", encoding="utf-8")
    return [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES, lenient=True)]


def build_report(findings: list[Finding], store: ox.Store, shapes: rdflib.Graph) -> Report:
    """The findings as an :class:`allianceld.validation.report.Report`: its results now, and an
    ``sh:ValidationReport`` graph shaped as pySHACL's when it is first read (``to_turtle``)."""
    return LazyReport(_results(findings, store), lambda: report_graph(findings, shapes, store))


@dataclass
class DetachedReport:
    """A report made in another process (:mod:`allianceld.forked`), without the store it was made
    from: its results, its findings, and the data's triples about their blank nodes (what its
    graph copies from that store)."""

    results: list[Result]
    findings: list[Finding]
    described: list[ox.Triple]

    def attach(self, shapes: rdflib.Graph) -> Report:
        """The Report, its graph built when first read, with ``shapes`` (the shapes graph it was
        validated with, in this process)."""

        def graph() -> rdflib.Graph:
            store = ox.Store()
            store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.described)
            return report_graph(self.findings, shapes, store)

        return LazyReport(self.results, graph)


def _results(findings: list[Finding], store: ox.Store) -> list[Result]:
    """A report's results, one for each finding, its focus node labelled from ``store``."""
    labels: dict[OxTerm, str | None] = {}
    results = []
    for f in findings:
        if f.focus not in labels:
            labels[f.focus] = _label(store, f.focus)
        results.append(
            Result(
                severity=SEVERITIES.get(f.severity, "Violation"),
                focus_node=text(f.focus) or "",
                focus_label=labels[f.focus],
                path=None if f.path is None else "(complex path)" if isinstance(f.path, rdflib.BNode) else str(f.path),
                value=text(f.value),
                source_shape=f"_:{f.shape}" if isinstance(f.shape, rdflib.BNode) else str(f.shape),
                constraint=str(f.component),
                message=str(f.messages[0]) if f.messages else "constraint not met",
            )
        )
    return results


def report_graph(findings: list[Finding], shapes: rdflib.Graph, store: ox.Store | None = None) -> rdflib.Graph:
    """The ``sh:ValidationReport`` of ``findings``, with pySHACL's shape: a result node each with
    its focus node, path, value, source shape and constraint (blank nodes copied from the shapes
    graph), constraint component, severity and messages."""
    graph = rdflib.Graph()
    for prefix, namespace in shapes.namespaces():
        graph.bind(prefix, namespace, override=False)
    root = rdflib.BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, rdflib.Literal(not findings)))  # SHACL 1.0: any result, any severity
    for f in findings:
        node = rdflib.BNode()
        graph.add((root, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, _rdflib(f.focus)))
        graph.add((node, SH.resultSeverity, f.severity))
        graph.add((node, SH.sourceConstraintComponent, f.component))
        graph.add((node, SH.sourceShape, _copy(f.shape, shapes, graph)))
        if f.path is not None:
            graph.add((node, SH.resultPath, _copy(f.path, shapes, graph)))
        if f.value is not None:
            graph.add((node, SH.value, _rdflib(f.value)))
        if f.constraint is not None:
            graph.add((node, SH.sourceConstraint, _copy(f.constraint, shapes, graph)))
        for m in f.messages:
            graph.add((node, SH.resultMessage, m))
    if store is not None:
        graph += (
            (_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object))
            for t in _descriptions(_blank_nodes(findings), store)
        )
    return graph


def _blank_nodes(findings: list[Finding]) -> list[ox.BlankNode]:
    """The findings' focus nodes and values that are blank nodes."""
    return [t for f in findings for t in (f.focus, f.value) if isinstance(t, ox.BlankNode)]


def _descriptions(nodes: list[ox.BlankNode], store: ox.Store) -> Iterator[ox.Triple]:
    """The data's triples about the blank nodes ``nodes`` (and those they lead to): a blank node in
    a report is known by what is said about it."""
    seen: set[ox.BlankNode] = set()
    nodes = list(nodes)
    while nodes:
        node = nodes.pop()
        if node in seen:
            continue
        seen.add(node)
        for q in store.quads_for_pattern(node, None, None):
            yield q.triple
            if isinstance(q.object, ox.BlankNode):
                nodes.append(q.object)


def _label(store: ox.Store, focus: OxTerm) -> str | None:
    """The focus node's rdfs:label: an English one if there is one."""
    if isinstance(focus, ox.Literal):
        return None
    found = [q.object for q in store.quads_for_pattern(focus, RDFS_LABEL, None)]
    if not found:
        return None
    english = [
        o for o in found if isinstance(o, ox.Literal) and (o.language == "en" or (o.language or "").startswith("en-"))
    ]
    return sorted(o.value for o in english or found)[0]


def _copy(term: Node, source: rdflib.Graph, target: rdflib.Graph) -> Node:
    """A shapes-graph term for the report: a blank node is copied with what it describes."""
    if not isinstance(term, rdflib.BNode):
        return term
    copy = rdflib.BNode()
    for p, o in source.predicate_objects(term):
        target.add((copy, p, _copy(o, source, target)))
    return copy
