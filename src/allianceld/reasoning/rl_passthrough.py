"""Which triples the OWL 2 RL reasoner has to read, and which can pass around it.

:func:`split` gives ``reasonable`` a *summary* of the triples that take part in no rule but prp-dom
and prp-rng (the types their properties' domains and ranges give, and ``owl:Thing``) and adds those
triples to the closure unchanged, with those of inverse pairs read backwards, allianceld's chain
conclusions, and the types of classes no rule reads but cax-sco with their superclasses';
:func:`violations` checks on the closure that nothing was lost and names the triples that must be
reasoned over after all. Why the closure is the same is argued
in docs/architecture.md ("Design notes").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter, itemgetter, or_
from typing import Any

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, XSD, BNode, Literal, URIRef

from allianceld.rdf import formats

Triple = tuple[Any, Any, Any]

#: Property declarations no rule reads.
DECLARATIONS = frozenset({OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property, OWL.Thing})

_TYPE, _DOMAIN, _RANGE, _FIRST = RDF.type, RDFS.domain, RDFS.range, RDF.first
_INVERSE, _CHAIN = OWL.inverseOf, OWL.propertyChainAxiom
_THING, _SAME_AS = OWL.Thing, frozenset({OWL.sameAs})
_RDFS_RULE_PREDICATES = frozenset({RDFS.subClassOf, RDFS.subPropertyOf, _DOMAIN, _RANGE})
_RDF_NS, _OWL_NS = str(RDF), str(OWL)
_NOWHERE_AS_OBJECT = frozenset({_TYPE, _DOMAIN, _RANGE, RDFS.subClassOf})
_SUBJECT, _OBJECT = itemgetter(0), itemgetter(2)


def is_rule_predicate(p: Any) -> bool:
    """Whether some OWL 2 RL rule (of ``reasonable`` or allianceld) reads triples with predicate
    ``p`` by its name: the RDF and OWL vocabularies and four RDFS properties."""
    return p in _RDFS_RULE_PREDICATES or p.startswith(_RDF_NS) or p.startswith(_OWL_NS)


@dataclass
class Profile:
    """The simple properties of a set of triples (see the module docstring), with their domains
    and ranges, and the inverse pairs; ``complex`` are the properties named in any other way."""

    complex: set[Any] = field(default_factory=set)
    domains: dict[Any, set[Any]] = field(default_factory=dict)
    ranges: dict[Any, set[Any]] = field(default_factory=dict)
    inverses: dict[Any, set[Any]] = field(default_factory=dict)

    def simple(self, p: Any) -> bool:
        return p not in self.complex and p not in self.inverses and not is_rule_predicate(p)

    def partner(self, p: Any) -> Any:
        """The property ``q`` when ``p`` and ``q`` are an *inverse pair*: each is named, besides
        in the ways a simple property is, only in ``p owl:inverseOf q`` or ``q owl:inverseOf p``
        (and ``p`` is not ``q``); otherwise None."""
        found = self.inverses.get(p)
        if found is None or len(found) != 1 or p in self.complex or is_rule_predicate(p):
            return None
        (q,) = found
        if self.inverses.get(q) != {p} or q in self.complex or is_rule_predicate(q):
            return None
        return q


def profile(triples: Iterable[Triple]) -> Profile:
    """Which properties are simple in ``triples``. (The functional and inverse-functional
    declarations allianceld applies itself are not among them: ``reasonable`` never sees them.)"""
    out = Profile()
    complex_, domains, ranges = out.complex, out.domains, out.ranges
    kinds: dict[Any, Any] = {}
    for s, q, o in triples:
        kind = kinds.get(q, kinds)
        if kind is kinds:
            kind = kinds[q] = _kind(q)
        if kind is None:
            continue
        if kind is _TYPE:
            if o not in DECLARATIONS:
                complex_.add(s)
            complex_.add(o)  # a property used as a class
        elif kind is _DOMAIN:
            domains.setdefault(s, set()).add(o)
            complex_.add(o)
        elif kind is _RANGE:
            ranges.setdefault(s, set()).add(o)
            complex_.add(o)
        elif kind is _CHAIN:
            # reasonable has no rule reading a chain; allianceld applies it to every triple
            complex_.add(o)
        elif kind is _INVERSE and s != o:
            out.inverses.setdefault(s, set()).add(o)
            out.inverses.setdefault(o, set()).add(s)
        elif kind is _FIRST:
            # a list member: reasonable reads only intersectionOf and unionOf lists, as classes
            # (through rdf:type triples, never passed); property chains are allianceld's, which
            # reads passed triples too; keys and AllDisjointProperties have no rule here
            complex_.add(s)
        else:
            complex_.add(s)
            complex_.add(o)
    return out


def _kind(q: Any) -> Any:
    """How :func:`profile` reads a triple with predicate ``q``: as one of the six properties it
    names (that property), as another rule predicate (``True``), or not (None)."""
    if not is_rule_predicate(q):
        return None
    return next((named for named in (_TYPE, _DOMAIN, _RANGE, _FIRST, _INVERSE, _CHAIN) if q == named), True)


def as_reasoned(o: Any) -> Any:
    """A term as ``reasonable`` gives it back: a plain literal becomes an ``xsd:string``."""
    if isinstance(o, Literal) and o.language is None and o.datatype is None:
        return Literal(str(o), datatype=XSD.string)
    return o


_CLASS_DECLARATIONS = DECLARATIONS | {OWL.Class, RDFS.Class}
_VOCABULARIES = (_RDF_NS, str(RDFS), _OWL_NS, str(XSD))


def class_shapes(triples: Iterable[Triple]) -> tuple[set[Any], dict[Any, set[Any]]]:
    """How the rule triples ``triples`` name classes: the terms named otherwise than as a class
    whose members no rule reads but cax-sco (as the object of ``rdf:type``, either side of
    ``rdfs:subClassOf``, the object of ``rdfs:domain`` or ``rdfs:range``, the subject of a class
    declaration), and each class's stated superclasses."""
    elsewhere: set[Any] = set()
    above: dict[Any, set[Any]] = {}
    for s, q, o in triples:
        if q == _TYPE:
            if o not in _CLASS_DECLARATIONS:
                elsewhere.add(s)
        elif q == RDFS.subClassOf:
            above.setdefault(s, set()).add(o)
        elif q != _DOMAIN and q != _RANGE:
            elsewhere.add(s)
            elsewhere.add(o)
    return elsewhere, above


def _superclasses(c: Any, above: Mapping[Any, set[Any]]) -> set[Any]:
    """``c``'s superclasses by ``above`` (transitively), without ``c`` itself."""
    found: set[Any] = set()
    todo = list(above.get(c, ()))
    while todo:
        d = todo.pop()
        if d not in found:
            found.add(d)
            todo.extend(above.get(d, ()))
    found.discard(c)
    return found


def passing_classes(
    triples: Iterable[Triple], candidates: Iterable[Any], thing_leads_nowhere: bool
) -> dict[Any, frozenset[Any]]:
    """Those of ``candidates`` whose members' types can pass around the reasoner, given the rule
    triples ``triples``: the class and each of its superclasses is an IRI outside the RDF, RDFS,
    OWL and XSD vocabularies (but ``owl:Thing`` as a superclass, when it leads nowhere) and is
    named only as :func:`class_shapes` allows; each with its superclasses."""
    elsewhere, above = class_shapes(triples)

    def plain(d: Any) -> bool:
        return type(d) is URIRef and not str.startswith(d, _VOCABULARIES) and d not in elsewhere  # not rdflib's

    out: dict[Any, frozenset[Any]] = {}
    for c in candidates:
        if not plain(c):
            continue
        ups = _superclasses(c, above)
        if all(plain(d) or (d == _THING and thing_leads_nowhere) for d in ups):
            out[c] = frozenset(ups)
    return out


def leads_somewhere(classes: Collection[Any], triples: Iterable[Triple]) -> set[Any]:
    """Those of ``classes`` that some rule could read a membership of: in ``triples`` they are
    the subject of a rule predicate other than rdf:type, or the object of one other than
    rdf:type, rdfs:domain, rdfs:range and rdfs:subClassOf. (Empty: they all lead nowhere.)"""
    found: set[Any] = set()
    if not classes:
        return found
    for s, q, o in triples:
        if s in classes and q != _TYPE and is_rule_predicate(q):
            found.add(s)
        if o in classes and q not in _NOWHERE_AS_OBJECT and is_rule_predicate(q):
            found.add(o)
    return found


@dataclass
class Split:
    """The input divided: ``core`` for the reasoner, ``passed`` around it (``groups``: the same by
    predicate), ``summary`` (what the passed triples give the rules) for the reasoner too;
    ``literal_classes`` are the classes ``reasonable`` would have typed passed literals with.
    ``core`` and ``summary`` are made of rdflib terms; the passed triples are as given, and
    ``terms`` converts theirs to rdflib's. ``made`` are the passed triples that were not given:
    allianceld's rules' conclusions (:func:`with_conclusions`) and those an inverse pair's rule
    made (:func:`with_inverses`), as the given ones' kind; ``concluded`` the other conclusions of
    allianceld's rules, for the reasoner. ``typed`` are the ``rdf:type`` triples passed, of the
    ``classes`` that pass (:func:`passing_classes`, each with its superclasses), and ``made``
    holds their superclasses' types too; with ``things_here`` (owl:Thing leads nowhere), also the
    owl:Thing types of the passed triples' subjects, which are otherwise in the summary."""

    core: list[Triple]
    passed: list[Any]
    summary: list[Triple]
    profile: Profile
    literal_classes: set[Any]
    groups: dict[Any, list[Any]] = field(default_factory=dict)
    terms: formats.RdflibTerms = field(default_factory=formats.RdflibTerms)
    made: list[Any] = field(default_factory=list)
    concluded: list[Triple] = field(default_factory=list)
    classes: dict[Any, frozenset[Any]] = field(default_factory=dict)
    typed: list[Triple] = field(default_factory=list)
    things_here: bool = False


def _is_literal(term: Any) -> bool:
    kind = type(term)
    if kind is ox.Literal:
        return True
    return kind is Literal or (
        kind is not URIRef and kind is not BNode and kind is not ox.NamedNode and isinstance(term, Literal)
    )


_RESOURCE_KINDS = frozenset({URIRef, BNode, ox.NamedNode, ox.BlankNode})


def _resources_only(group: list[Any]) -> bool:
    """Whether every subject and object in ``group`` is an IRI or a blank node (by their kinds)."""
    return _RESOURCE_KINDS.issuperset(map(type, map(_SUBJECT, group))) and _RESOURCE_KINDS.issuperset(
        map(type, map(_OBJECT, group))
    )


def inverse_pairs(grouped: Mapping[Any, list[Any]], prof: Profile, forced: Collection[Any] = ()) -> dict[Any, Any]:
    """The inverse pairs (:meth:`Profile.partner`) that pass around the reasoner, each property to
    its partner: neither ``forced``, nothing but IRIs and blank nodes in their triples."""
    pairs = {}
    for p in prof.inverses:
        q = prof.partner(p)
        if q is None or p in forced or q in forced:
            continue
        if _resources_only(grouped.get(p, [])) and _resources_only(grouped.get(q, [])):
            pairs[p] = q
    return pairs


def with_inverses(
    grouped: Mapping[Any, list[Any]], pairs: Mapping[Any, Any], convert: formats.RdflibTerms
) -> tuple[dict[Any, list[Any]], list[Any]]:
    """``grouped`` with the groups of each of ``pairs`` closed under prp-inv1 and prp-inv2: each
    holds its own triples and its partner's read backwards (rdflib's, when the two groups' kinds
    differ). Also: the triples so made."""
    out = dict(grouped)
    made: list[Any] = []
    for p, q in pairs.items():
        own = grouped.get(p, [])
        backwards = _backwards(grouped.get(q, []), p)
        if own and backwards and type(own[0]) is not type(backwards[0]):
            own, backwards = convert.triples(own), convert.triples(backwards)
        if backwards:
            out[p], added = _joined(own, backwards)
            made.extend(added)
    return out, made


def with_conclusions(
    grouped: Mapping[Any, list[Any]],
    concluded: Mapping[Any, list[Triple]],
    passes: Collection[Any],
    convert: formats.RdflibTerms,
) -> tuple[dict[Any, list[Any]], list[Triple], list[Triple]]:
    """``grouped`` with the ``concluded`` triples (rdflib's, by predicate: allianceld's own rules'
    conclusions over the input) of the properties that pass around the reasoner added to their
    groups, each such group then rdflib's. Also: the triples so added (those not given), and the
    conclusions of the other properties (for the reasoner, beside the input)."""
    out = dict(grouped)
    added: list[Triple] = []
    elsewhere: list[Triple] = []
    for p, triples in concluded.items():
        if p not in passes:
            elsewhere.extend(triples)
            continue
        out[p], new = _joined(convert.triples(grouped.get(p, [])), triples)
        added.extend(new)
    return out, added, elsewhere


def _joined(own: list[Any], more: list[Any]) -> tuple[list[Any], list[Any]]:
    """A group's triples ``own`` with those of ``more`` that are not among them, and those."""
    given = set(own)
    new = [t for t in more if t not in given]
    return [*own, *new], new


def _backwards(group: list[Any], p: Any) -> list[Any]:
    """``group``'s triples read backwards with predicate ``p`` (an rdflib IRI), each as its kind."""
    if not group:
        return []
    if type(group[0]) is ox.Triple:
        return list(
            map(ox.Triple, map(attrgetter("object"), group), repeat(ox.NamedNode(p)), map(attrgetter("subject"), group))
        )
    return [(o, p, s) for s, _, o in group]


def _any_literal(terms: Iterable[Any]) -> bool:
    """Whether one of ``terms`` is a literal (by their kinds: a group's terms have few)."""
    return any(kind is ox.Literal or issubclass(kind, Literal) for kind in set(map(type, terms)))


def _passes_whole(subjects: list[Any], literal_objects: bool, literals_stay: bool) -> bool:
    """Whether every triple of a simple property's group passes around the reasoner: none has a
    literal subject, nor a literal object that must stay."""
    return not (literal_objects and literals_stay) and not _any_literal(subjects)


def _pass_one_by_one(
    group: list[Any], literals_stay: bool, core: list[Triple], convert: formats.RdflibTerms
) -> tuple[list[Any], bool]:
    """The triples of ``group`` that pass around the reasoner, the others added to ``core``: a
    literal subject stays (``reasonable`` refuses it, as it did before), and so does a literal
    object when ``literals_stay``. Also: whether a passed triple has a literal object."""
    through: list[Any] = []
    stay: list[Any] = []
    literal_seen = False
    for t in group:
        if _is_literal(t[0]):
            stay.append(t)
            continue
        if _is_literal(t[2]):
            if literals_stay:
                stay.append(t)
                continue
            literal_seen = True
        through.append(t)
    core.extend(convert.triples(stay))
    return through, literal_seen


def by_predicate(triples: Iterable[Triple]) -> dict[Any, list[Triple]]:
    """``triples`` grouped by predicate. (Keyed by hash first: rdflib compares terms in Python,
    which cost more than the rest of the split; each group is then checked to hold one term.)"""
    by_hash: dict[int, list[Triple]] = {}
    for t in triples:
        h = hash(t[1])
        group = by_hash.get(h)
        if group is None:
            by_hash[h] = [t]
        else:
            group.append(t)
    out: dict[Any, list[Triple]] = {}
    for group in by_hash.values():
        first = group[0][1]
        kind = type(first)
        if all(map(str.__eq__, repeat(first), (t[1] for t in group))) and all(type(t[1]) is kind for t in group):
            out[first] = group
        else:  # a hash collision
            for t in group:
                out.setdefault(t[1], []).append(t)
    return out


def split(triples: Iterable[Triple], forced: Collection[Any] = ()) -> Split:
    """Divide ``triples`` (the input without the declarations allianceld applies itself) as the
    module docstring describes. ``forced`` are properties whose triples go to the reasoner
    regardless (after :func:`violations` named them)."""
    return split_groups(by_predicate(triples), forced)


def split_groups(
    grouped: Mapping[Any, list[Any]],
    forced: Collection[Any] = (),
    *,
    terms: formats.RdflibTerms | None = None,
    concluded: Iterable[Triple] = (),
) -> Split:
    """:func:`split` of triples grouped by predicate (an rdflib term). The triples may be
    pyoxigraph's, a group's all of one kind: ``terms`` converts them, and only the triples that go
    to the reasoner, and the terms of the summary, are converted. The groups of rule predicates
    (:func:`is_rule_predicate`) must be rdflib's already. ``concluded`` are allianceld's own
    rules' conclusions over the input: passed with their property's triples when it passes, for
    the reasoner (``Split.concluded``) otherwise; they are not given (``Split.made``)."""
    convert = terms if terms is not None else formats.RdflibTerms()
    rule_triples = [t for p, group in grouped.items() if is_rule_predicate(p) for t in group]
    prof = profile(rule_triples)
    domains, ranges = prof.domains, prof.ranges
    by_conclusion = by_predicate(concluded)
    pairs = inverse_pairs({**grouped, **by_conclusion}, prof, forced)
    passes = {p for p in {*grouped, *by_conclusion, *pairs} if (prof.simple(p) or p in pairs) and p not in forced}
    grouped, made, elsewhere = with_conclusions(grouped, by_conclusion, passes, convert)
    grouped, backwards = with_inverses(grouped, pairs, convert)
    made += backwards
    literal_ranges = {
        r for p, rs in ranges.items() if prof.simple(p) and _any_literal(map(_OBJECT, grouped.get(p, ()))) for r in rs
    }
    blocked = leads_somewhere({*literal_ranges, _THING}, rule_triples)
    types = grouped.get(_TYPE, [])
    typed = {(s, o) for s, _, o in types}  # in the reasoner's input, or passed with their superclasses
    things_here = _THING not in blocked and _THING not in forced  # owl:Thing types made here
    classes = {}
    if types and _TYPE not in forced:
        candidates = {o for _, o in typed}.difference(forced)
        classes = passing_classes(rule_triples, candidates, things_here)
    passed_types: list[Triple] = []
    made_types: list[Triple] = []
    if classes:
        passed_types = [t for t in types if t[2] in classes]
        grouped = {**grouped, _TYPE: [t for t in types if t[2] not in classes]}
        made_types = [(s, _TYPE, d) for s, _, c in passed_types for d in classes[c]]
        made += made_types
    core: list[Triple] = []
    passed: list[Any] = [*passed_types, *made_types]
    groups: dict[Any, list[Any]] = {}
    summary: set[tuple[Any, Any]] = set()
    all_subjects: set[Any] = {s for s, _, _ in passed_types}
    literal_classes: set[Any] = set()
    for p, group in grouped.items():
        if p not in passes:
            core.extend(convert.triples(group))
            continue
        doms, rngs = domains.get(p, ()), ranges.get(p, ())
        literals_stay = bool(rngs) and (_THING in blocked or not blocked.isdisjoint(rngs))
        subjects = list(map(_SUBJECT, group))
        objects = list(map(_OBJECT, group))
        literal_seen = _any_literal(objects)
        if _passes_whole(subjects, literal_seen, literals_stay):
            through = group
        else:
            through, literal_seen = _pass_one_by_one(group, literals_stay, core, convert)
            subjects = list(map(_SUBJECT, through))
            objects = list(map(_OBJECT, through))
        if through:
            passed.extend(through)
            groups[p] = through
        subject_terms = set(convert.terms(subjects))
        all_subjects |= subject_terms
        summary.update((s, d) for d in doms for s in subject_terms)
        if rngs:
            resources = [o for o in objects if not _is_literal(o)] if literal_seen else objects
            summary.update((o, r) for r in rngs for o in set(convert.terms(resources)))
        if literal_seen:
            literal_classes.update(rngs)
    if literal_classes:
        literal_classes.add(_THING)
    things = {s for s, _, _ in grouped.get(_TYPE, ())}  # reasonable types every subject of its input owl:Thing
    summary_triples = [(s, _TYPE, c) for s, c in summary if (s, c) not in typed]
    thing_types = [(s, _TYPE, _THING) for s in all_subjects - things]
    if things_here:  # no rule reads them
        made += thing_types
        passed += thing_types
    else:
        summary_triples += thing_types
    return Split(
        core,
        passed,
        summary_triples,
        prof,
        literal_classes,
        groups,
        convert,
        made=made,
        concluded=elsewhere,
        classes=classes,
        typed=passed_types,
        things_here=things_here,
    )


def violations(closure: Iterable[Triple], parts: Split) -> set[Any]:
    """The passed properties whose triples must be reasoned over after all, given the
    ``closure`` of the core and summary: empty when the split was sound."""
    props = set(parts.groups)
    classes = parts.classes
    watch = props | parts.literal_classes | set(classes) | set().union(*classes.values())
    if parts.things_here:
        watch.add(_THING)
    closure = closure if isinstance(closure, list) else list(closure)
    watched = map(or_, map(watch.__contains__, map(_SUBJECT, closure)), map(watch.__contains__, map(_OBJECT, closure)))
    hits = list(compress(closure, watched))  # chosen in C: the closure is mostly of other triples
    same = list(compress(closure, map(_SAME_AS.__contains__, map(itemgetter(1), closure))))
    after = profile(hits)
    before = parts.profile
    bad = {
        p
        for p in props
        if after.partner(p) != before.partner(p)
        or (before.partner(p) is None and not after.simple(p))
        or after.domains.get(p, set()) != before.domains.get(p, set())
        or after.ranges.get(p, set()) != before.ranges.get(p, set())
    }
    if parts.things_here and leads_somewhere({_THING}, hits):
        bad.add(_THING)  # its types go to the reasoner after all
    if classes:  # each passed class still passes, with the same superclasses
        elsewhere, above = class_shapes(hits)
        bad |= {
            c
            for c, ups in classes.items()
            if c in elsewhere or not elsewhere.isdisjoint(ups - {_THING}) or _superclasses(c, above) != ups
        }
    terms = {s for s, _, o in same if s != o}
    if terms:
        term = parts.terms
        bad |= {
            p for p, group in parts.groups.items() if any(term(t[0]) in terms or term(t[2]) in terms for t in group)
        }
        bad |= {c for s, _, c in parts.typed if s in terms}
    if leads_somewhere(parts.literal_classes, hits):
        bad |= {
            p for p, group in parts.groups.items() if before.ranges.get(p) and any(_is_literal(t[2]) for t in group)
        }
    return bad | {q for p in bad if (q := before.partner(p)) is not None}  # a pair passes together
