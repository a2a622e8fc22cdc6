"""Link discovery: propose ``owl:sameAs`` links from the knowledge base's states, alliances, events and
exercises to the entities of an external graph (a Wikidata, DBpedia or GeoNames extract), each with a confidence
from the codes, labels and founding dates of both sides, written as a VoID linkset of reified
statements for a curator to review; accepted links are committed as a contribution through the
write gate (``allianceld.write.contributions.accept_links``). The scores are described in
docs/linking.md and docs/architecture.md ("Design notes").
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pyoxigraph as ox
import rdflib
from rapidfuzz import fuzz, process
from rdflib import RDF, RDFS, XSD, BNode, Literal, URIRef

from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, DCTERMS, VOID

OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
ALIGN = rdflib.Namespace("http://knowledgeweb.semanticweb.org/heterogeneity/alignment#")
# the allianceld dataset as a whole: the subjects' side of every linkset
DATASET = "https://w3id.org/allianceld/dataset"

# namespace of the external entities -> the dataset they belong to
TARGETS: dict[str, str] = {
    "http://www.wikidata.org/entity/": "http://www.wikidata.org/",
    "http://dbpedia.org/resource/": "http://dbpedia.org/",
    "https://sws.geonames.org/": "https://www.geonames.org/",
}
WDT = "http://www.wikidata.org/prop/direct/"
GN = "http://www.geonames.org/ontology#"
LABEL_PREDICATES = frozenset(
    {
        str(RDFS.label),
        "http://www.w3.org/2004/02/skos/core#prefLabel",
        "http://www.w3.org/2004/02/skos/core#altLabel",
        "http://schema.org/name",
        "https://schema.org/name",
        "http://xmlns.com/foaf/0.1/name",
        GN + "name",
        GN + "officialName",
        GN + "alternateName",
    }
)
# code kinds: iso2 (ISO 3166-1 alpha-2), iso3 (alpha-3), cow (Correlates of War state number)
CODE_PREDICATES: dict[str, str] = {
    WDT + "P297": "iso2",
    WDT + "P298": "iso3",
    GN + "countryCode": "iso2",
    str(ALD.iso3166Alpha2): "iso2",
    str(ALD.iso3166Alpha3): "iso3",
    str(ALD.cowCode): "cow",
}
CODE_KINDS = ("iso2", "iso3", "cow")
# the kinds of local entity each namespace may describe (GeoNames features are places: states only)
KINDS: dict[str, frozenset[str]] = {"https://sws.geonames.org/": frozenset({"State"})}
# the day an entity was founded, or an event or exercise took place (Wikidata's inception, point in time, start time)
DATE_PREDICATES = frozenset(
    {WDT + "P571", WDT + "P585", WDT + "P580", "http://dbpedia.org/ontology/foundingDate", str(ALD.foundingDate)}
)

W_LABEL, W_CODES, W_DATE = 0.4, 0.45, 0.15
LABEL_FLOOR = 0.5  # a label similarity up to this is noise: it scores 0, and 1 at 1, linearly between
NEUTRAL = 0.5  # the score of evidence that is missing on either side
DEFAULT_MIN_CONFIDENCE = 0.6  # a label alone must be close (WRatio 0.875) to be proposed
SHORT = 4  # labels this long or shorter (acronyms) count only when equal
NEAR = 10  # candidates retrieved per local label and way (similar string, shared words)


@dataclass
class Entity:
    """A local or external resource with what linking compares: labels, codes and dates."""

    iri: str
    labels: set[tuple[str, str]] = field(default_factory=set)  # (language tag or "", normalised label)
    codes: dict[str, set[str]] = field(default_factory=dict)
    dates: set[date] = field(default_factory=set)
    kind: str = ""  # local entities: State, Alliance, AllianceEvent or MilitaryExercise


@dataclass(frozen=True)
class Proposal:
    """A proposed link ``local owl:sameAs external`` with its confidence and evidence."""

    local: str
    external: str
    namespace: str
    confidence: float
    label: float
    codes: float | None
    date: float | None
    agreeing: tuple[str, ...] = ()
    disagreeing: tuple[str, ...] = ()

    def evidence(self) -> str:
        """The evidence in words, e.g. ``label 1.00; codes 2/2 (iso2, iso3); date none``."""
        codes = "none"
        if self.codes is not None:
            compared = len(self.agreeing) + len(self.disagreeing)
            codes = f"{len(self.agreeing)}/{compared}"
            if self.agreeing:
                codes += f" agree ({', '.join(self.agreeing)})"
            if self.disagreeing:
                codes += f", disagree ({', '.join(self.disagreeing)})"
        when = "none" if self.date is None else f"{self.date:.2f}"
        return f"label {self.label:.2f}; codes {codes}; date {when}"

    def to_json(self) -> dict[str, object]:
        """The proposal as JSON."""
        return {
            "local": self.local,
            "external": self.external,
            "confidence": round(self.confidence, 4),
            "label": round(self.label, 4),
            "codes": self.codes,
            "date": self.date,
            "agreeing": list(self.agreeing),
            "disagreeing": list(self.disagreeing),
        }


def normalise(label: str) -> str:
    """A label for comparison: no accents, case, punctuation or trailing disambiguation.

    >>> normalise("Georgia (country)")
    'georgia'
    >>> normalise("Türkiye")
    'turkiye'
    """
    text = re.sub(r"\s*\([^)]*\)\s*$", "", label.replace("_", " "))
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _code(kind: str, value: str) -> str:
    value = value.strip()
    return str(int(value)) if kind == "cow" and value.lstrip("+-").isdigit() else value.upper()


def _date(value: str) -> date | None:
    m = re.match(r"^\+?(\d{4})-(\d{2})-(\d{2})", value.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def namespace_of(iri: str, namespaces: Iterable[str]) -> str | None:
    """The longest of ``namespaces`` that ``iri`` starts with, or None."""
    found = [n for n in namespaces if iri.startswith(n)]
    return max(found, key=len) if found else None


def canonical(iri: str) -> str:
    """The IRI form the shapes want: GeoNames features at ``https://sws.geonames.org/<id>/``
    (older dumps write ``http://``).

    >>> canonical("http://sws.geonames.org/3017382/")
    'https://sws.geonames.org/3017382/'
    """
    m = re.match(r"^https?://sws\.geonames\.org/([1-9][0-9]*)/?$", iri)
    return f"https://sws.geonames.org/{m.group(1)}/" if m else iri


def read_dump(
    path: Path,
    *,
    namespaces: Iterable[str] = TARGETS,
    code_predicates: Mapping[str, str] | None = None,
) -> dict[str, Entity]:
    """The entities of an external graph dump (N-Triples, Turtle or any syntax known by its
    extension) whose IRIs lie in one of ``namespaces``, with their labels, codes and dates.
    Raises :class:`RdfSyntaxError` naming the file, line and column."""
    codes = {**CODE_PREDICATES, **(code_predicates or {})}
    namespaces = tuple(namespaces)
    entities: dict[str, Entity] = {}
    wanted = LABEL_PREDICATES | codes.keys() | DATE_PREDICATES
    subjects: dict[str, str | None] = {}  # a dump's IRI -> its canonical form when in a namespace
    for t in formats.parse_file(path):
        p = t.predicate.value
        if p not in wanted or not isinstance(t.subject, ox.NamedNode) or not isinstance(t.object, ox.Literal):
            continue
        subject = t.subject.value
        if subject not in subjects:
            iri = canonical(subject)
            subjects[subject] = iri if namespace_of(iri, namespaces) is not None else None
        iri = subjects[subject]
        if iri is None:
            continue
        value = t.object.value
        if p in LABEL_PREDICATES:
            entity = entities.setdefault(iri, Entity(iri))
            entity.labels.add((_lang(t.object), normalise(value)))
        elif p in codes:
            entity = entities.setdefault(iri, Entity(iri))
            entity.codes.setdefault(codes[p], set()).add(_code(codes[p], value))
        elif p in DATE_PREDICATES and (when := _date(value)) is not None:
            entities.setdefault(iri, Entity(iri)).dates.add(when)
    for entity in entities.values():  # DBpedia resources without a label: the title in the IRI
        if not entity.labels and entity.iri.startswith("http://dbpedia.org/resource/"):
            entity.labels.add(("en", normalise(unquote(entity.iri.rsplit("/", 1)[1]))))
        entity.labels = {(lang, text) for lang, text in entity.labels if text}
    return entities


_LOCAL = """
SELECT ?e ?kind ?p ?v (LANG(?v) AS ?lang) WHERE {
  VALUES ?kind { ald:State ald:Alliance ald:AllianceEvent ald:MilitaryExercise }
  ?e a ?kind .
  VALUES ?p { rdfs:label skos:altLabel ald:iso3166Alpha2 ald:iso3166Alpha3 ald:cowCode ald:foundingDate ald:startDate }
  ?e ?p ?v .
}
"""


def local_entities(kb: KnowledgeBase) -> tuple[dict[str, Entity], dict[str, set[str]]]:
    """The states, alliances, alliance events and military exercises of the knowledge base (their
    labels, codes and the day they were founded or took place), and every local resource's
    ``owl:sameAs`` targets (local IRI -> external IRIs)."""
    entities: dict[str, Entity] = {}
    for row in kb.select(_LOCAL):
        entity = entities.setdefault(row["e"], Entity(row["e"], kind=row["kind"].rsplit("#", 1)[1]))
        p, v = row["p"], row["v"]
        if p in (str(RDFS.label), "http://www.w3.org/2004/02/skos/core#altLabel"):
            entity.labels.add((row["lang"] or "", normalise(v)))
        elif p in CODE_PREDICATES:
            kind = CODE_PREDICATES[p]
            entity.codes.setdefault(kind, set()).add(_code(kind, v))
        elif p in (str(ALD.foundingDate), str(ALD.startDate)) and (when := _date(v)) is not None:
            entity.dates.add(when)
    links: dict[str, set[str]] = {}
    for row in kb.select("SELECT ?s ?o WHERE { ?s owl:sameAs ?o FILTER(isIRI(?s) && isIRI(?o)) }", inference=False):
        links.setdefault(row["s"], set()).add(row["o"])
    return entities, links


def score(
    local: Entity, external: Entity, *, kinds: tuple[str, ...] = CODE_KINDS
) -> tuple[float, float, float | None, float | None, list[str], list[str]]:
    """(confidence, label, codes, date, agreeing code kinds, disagreeing code kinds) of a pair;
    ``kinds``: the code kinds compared."""
    similarity = max(
        (_similarity(a, b) for la, a in local.labels for lb, b in external.labels if _comparable(la, lb)),
        default=0.0,
    )
    label = max(0.0, (similarity - LABEL_FLOOR) / (1 - LABEL_FLOOR))
    agreeing = [k for k in kinds if local.codes.get(k) and external.codes.get(k) and local.codes[k] & external.codes[k]]
    disagreeing = [
        k for k in kinds if local.codes.get(k) and external.codes.get(k) and not local.codes[k] & external.codes[k]
    ]
    codes = len(agreeing) / (len(agreeing) + len(disagreeing)) if agreeing or disagreeing else None
    when: float | None = None
    if local.dates and external.dates:
        when = max(_date_score(a, b) for a in local.dates for b in external.dates)
    confidence = (
        W_LABEL * label + W_CODES * (NEUTRAL if codes is None else codes) + W_DATE * (NEUTRAL if when is None else when)
    )
    return confidence, label, codes, when, agreeing, disagreeing


def _similarity(a: str, b: str) -> float:
    """rapidfuzz ``WRatio`` (0..1); a label of four letters or fewer, such as an acronym, must be
    equal (1) or counts for nothing (0): "ASF" is not found in every longer word that holds it."""
    if min(len(a), len(b)) <= SHORT:
        return 1.0 if a == b else 0.0
    return fuzz.WRatio(a, b) / 100


def _lang(term: ox.Literal) -> str:
    return (term.language or "").lower().split("-")[0]


def _comparable(a: str, b: str) -> bool:
    """Labels are compared within one language, or when either has no language tag."""
    return a == b or not a or not b


class _Names:
    """The labels of the external candidates of one namespace, by language, for retrieving the
    few worth scoring: similar as whole strings (rapidfuzz ``ratio``, cheap), or holding every
    word of the local label (an index of the words' first four letters, so "Italy" finds
    "Repubblica Italiana"), before the costlier ``WRatio`` scores them."""

    def __init__(self, candidates: list[Entity]) -> None:
        self.names: dict[str, list[str]] = {}
        self.owners: dict[str, list[Entity]] = {}
        self.words: dict[str, dict[str, list[int]]] = {}
        for entity in candidates:
            for lang, text in entity.labels:
                i = len(self.names.setdefault(lang, []))
                self.names[lang].append(text)
                self.owners.setdefault(lang, []).append(entity)
                for key in _keys(text):
                    self.words.setdefault(lang, {}).setdefault(key, []).append(i)

    def near(self, lang: str, text: str) -> dict[str, Entity]:
        """Candidates for a local label in language ``lang`` (all languages when it has none)."""
        found: dict[str, Entity] = {}
        for other in [lang, ""] if lang else list(self.names):
            names, owners = self.names.get(other, []), self.owners.get(other, [])
            for _name, _score, i in process.extract(text, names, scorer=fuzz.ratio, limit=NEAR, score_cutoff=60):
                found[owners[i].iri] = owners[i]
            postings = sorted((self.words.get(other, {}).get(k, []) for k in _keys(text)), key=len)
            if postings and postings[0]:
                common = set(postings[0]).intersection(*postings[1:])
                for i in sorted(common, key=lambda i: len(names[i]))[:NEAR]:  # the shortest: the closest
                    found[owners[i].iri] = owners[i]
        return found


def _keys(text: str) -> set[str]:
    return {word[:4] for word in text.split()}


def _date_score(a: date, b: date) -> float:
    if a == b:
        return 1.0
    if a.year == b.year:
        return 0.75
    return max(0.0, 0.5 - 0.1 * abs(a.year - b.year))


def discover(
    kb: KnowledgeBase,
    dump: Path,
    *,
    namespaces: Iterable[str] = TARGETS,
    code_predicates: Mapping[str, str] | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> list[Proposal]:
    """Propose links from the knowledge base's states, alliances, events and exercises that lack a
    link into an external entity's namespace to the entities of ``dump``: the best candidate for each, one
    to one, at least ``min_confidence``, highest confidence first."""
    namespaces = tuple(namespaces)
    external = read_dump(dump, namespaces=namespaces, code_predicates=code_predicates)
    local, links = local_entities(kb)
    claimed = {canonical(o) for targets in links.values() for o in targets}
    by_namespace: dict[str, list[Entity]] = {}
    for entity in external.values():
        if entity.iri not in claimed and entity.labels | set(entity.codes):
            by_namespace.setdefault(namespace_of(entity.iri, namespaces) or "", []).append(entity)
    scored: list[Proposal] = []
    for ns, candidates in by_namespace.items():
        by_code: dict[tuple[str, str], list[Entity]] = {}
        for entity in candidates:
            for kind, values in entity.codes.items():
                for v in values:
                    by_code.setdefault((kind, v), []).append(entity)
        names = _Names(candidates)
        for me in local.values():
            if any(namespace_of(canonical(o), [ns]) for o in links.get(me.iri, ())):
                continue  # already linked into this namespace
            if ns in KINDS and me.kind not in KINDS[ns]:
                continue
            near: dict[str, Entity] = {}
            for kind, values in me.codes.items():
                for v in values:
                    near.update((e.iri, e) for e in by_code.get((kind, v), ()))
            for lang, text in me.labels:
                near.update(names.near(lang, text))
            for other in near.values():
                confidence, label_score, codes, when, agreeing, disagreeing = score(me, other)
                if confidence >= min_confidence:
                    scored.append(
                        Proposal(
                            me.iri,
                            other.iri,
                            ns,
                            confidence,
                            label_score,
                            codes,
                            when,
                            tuple(agreeing),
                            tuple(disagreeing),
                        )
                    )
    scored.sort(key=lambda p: (-p.confidence, p.local, p.external))
    taken_local: set[tuple[str, str]] = set()
    taken_external: set[str] = set()
    chosen: list[Proposal] = []
    for p in scored:  # one to one, best first
        if (p.local, p.namespace) in taken_local or p.external in taken_external:
            continue
        taken_local.add((p.local, p.namespace))
        taken_external.add(p.external)
        chosen.append(p)
    return chosen


def linkset(proposals: list[Proposal], dump: Path, *, linkset_id: str | None = None) -> rdflib.Graph:
    """The proposals as VoID linksets (one per external namespace), every link reified with its
    confidence (``align:measure``) and evidence (``rdfs:comment``); see the module docstring."""
    g = rdflib.Graph()
    for prefix, ns in (("void", VOID), ("align", ALIGN), ("owl", rdflib.OWL), ("dcterms", DCTERMS)):
        g.bind(prefix, ns)
    base = f"https://w3id.org/allianceld/id/linkset/{linkset_id or uuid.uuid4().hex[:12]}"
    target = URIRef(dump.resolve().as_uri())
    g.add((URIRef(DATASET), RDF.type, VOID.Dataset))
    g.add((target, RDF.type, VOID.Dataset))
    g.add((target, VOID.dataDump, target))
    namespaces = sorted({p.namespace for p in proposals}) or [""]  # none found: an empty linkset
    for ns in namespaces:
        ls = URIRef(base if len(namespaces) == 1 else f"{base}-{len(g)}")
        mine = [p for p in proposals if p.namespace == ns]
        g.add((ls, RDF.type, VOID.Linkset))
        g.add((ls, VOID.linkPredicate, rdflib.OWL.sameAs))
        g.add((ls, VOID.subjectsTarget, URIRef(DATASET)))
        g.add((ls, VOID.objectsTarget, target))
        g.add((ls, VOID.triples, Literal(len(mine), datatype=XSD.integer)))
        g.add((ls, DCTERMS.source, target))
        if ns:
            g.add((target, VOID.uriSpace, Literal(ns)))
            if ns in TARGETS:
                g.add((target, DCTERMS.isPartOf, URIRef(TARGETS[ns])))
        for p in mine:
            link = BNode()
            g.add((link, RDF.type, RDF.Statement))
            g.add((link, RDF.subject, URIRef(p.local)))
            g.add((link, RDF.predicate, rdflib.OWL.sameAs))
            g.add((link, RDF.object, URIRef(p.external)))
            g.add((link, VOID.inDataset, ls))
            g.add((link, ALIGN.measure, Literal(f"{p.confidence:.4f}", datatype=XSD.float)))
            g.add((link, RDFS.comment, Literal(p.evidence())))
    return g
