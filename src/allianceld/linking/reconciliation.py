"""Entity reconciliation over states, alliances, alliance events and military exercises: an index of
their names (labels in every language, alternative labels, acronyms, generated labels) and facts (ISO and COW
codes, founding dates, the days of events and exercises, memberships, regions, Wikidata ids), built from a
KnowledgeBase, with fuzzy scoring by rapidfuzz.

The web layer (``allianceld.web.views.reconcile``) speaks the W3C Entity Reconciliation API over it.

>>> norm("  O.T.A.N. ") == norm("otan")
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rapidfuzz import fuzz, process

from allianceld.errors import BadRequest
from allianceld.store import KnowledgeBase
from allianceld.store.backends import EmbeddedBackend
from allianceld.vocab import ALD, ID_BASE, WD

STATE = str(ALD.State)
ALLIANCE = str(ALD.Alliance)
EVENT = str(ALD.AllianceEvent)
EXERCISE = str(ALD.MilitaryExercise)
TYPE_NAMES = {STATE: "state", ALLIANCE: "alliance", EVENT: "alliance event", EXERCISE: "military exercise"}

DEFAULT_LIMIT = 5
MAX_LIMIT = 100
MIN_SCORE = 40.0  # candidates scoring lower are not worth showing
MATCH_SCORE = 90.0  # a candidate is a match from this score on ...
MATCH_GAP = 10.0  # ... when the runner-up scores at least this much lower
UNKNOWN = 50.0  # a constraint on a fact the candidate has no value for: neither for nor against


@dataclass(frozen=True)
class Property:
    """A property that queries can constrain and data extension can fetch."""

    id: str
    name: str
    description: str
    types: frozenset[str]
    kind: str  # "str", "int", "date" or "entity"


PROPERTIES: dict[str, Property] = {
    p.id: p
    for p in (
        Property("iso3166Alpha2", "ISO 3166-1 alpha-2 code", "two-letter country code", frozenset({STATE}), "str"),
        Property("iso3166Alpha3", "ISO 3166-1 alpha-3 code", "three-letter country code", frozenset({STATE}), "str"),
        Property("cowCode", "Correlates of War state code", "numeric COW state number", frozenset({STATE}), "int"),
        Property("memberOf", "member of", "alliances the state is or was a member of", frozenset({STATE}), "entity"),
        Property("foundingDate", "founding date", "a year or a date", frozenset({ALLIANCE}), "date"),
        Property("member", "members", "states that are or were members", frozenset({ALLIANCE}), "entity"),
        Property("headquarters", "headquarters", "seat of the alliance", frozenset({ALLIANCE}), "str"),
        Property("startDate", "date", "the (first) day of an event or exercise", frozenset({EVENT, EXERCISE}), "date"),
        Property(
            "region", "region", "region a state lies in or an alliance covers", frozenset({STATE, ALLIANCE}), "entity"
        ),
        Property(
            "wikidata", "Wikidata item", "the same entity in Wikidata (Q-id)", frozenset({STATE, ALLIANCE}), "str"
        ),
    )
}
CURRENT_SETTING = "current"  # data extension setting of memberOf/member: current memberships only


@dataclass(frozen=True)
class Value:
    """One value of a property: a string, an integer, an ISO date or another entity (id, name)."""

    value: str | int
    name: str = ""
    current: bool = True  # memberships: not ended


@dataclass
class Entity:
    """A state or an alliance with its names and facts."""

    id: str  # the IRI relative to ID_BASE, e.g. "state/usa"
    iri: str
    type: str  # STATE or ALLIANCE
    name: str
    description: str = ""
    labels: list[tuple[str, str]] = field(default_factory=list)  # (text, language tag)
    classes: set[str] = field(default_factory=set)
    values: dict[str, list[Value]] = field(default_factory=dict)
    normed: list[str] = field(default_factory=list)  # the labels, normalised for matching


@dataclass(frozen=True)
class Constraint:
    """A property constraint of a query: the candidate's values of ``pid`` should match ``values``."""

    pid: str
    values: tuple[Any, ...]
    required: bool = False


@dataclass(frozen=True)
class Query:
    """One reconciliation query."""

    text: str | None
    types: tuple[str, ...] = ()
    type_strict: str = "any"
    limit: int = DEFAULT_LIMIT
    constraints: tuple[Constraint, ...] = ()


@dataclass
class Candidate:
    entity: Entity
    score: float
    features: list[tuple[str, str, float]]  # (feature id, name, value)
    failed: bool = False  # a constraint scored 0
    match: bool = False

    def to_json(self) -> dict[str, Any]:
        """The candidate as the API returns it (0.2 and 1.0-draft alike)."""
        e = self.entity
        return {
            "id": e.id,
            "name": e.name,
            "description": e.description,
            "score": self.score,
            "match": self.match,
            "type": [{"id": e.type, "name": TYPE_NAMES[e.type]}],
            "features": [{"id": fid, "name": name, "value": value} for fid, name, value in self.features],
        }


DROPPED = frozenset(".'\u2019")  # full stops and apostrophes vanish: "U.S." is "us", "d'Irlande" "dirlande"


def norm(text: str) -> str:
    """Text folded for matching: compatibility forms, no accents, case-folded, no punctuation.

    >>> norm("Türkiye"), norm("U.S.-Japan Alliance"), norm("ОДКБ")
    ('turkiye', 'us japan alliance', 'одкб')
    """
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch) or ch in DROPPED:
            continue
        kept.append(ch if ch.isalnum() else " ")
    return " ".join("".join(kept).casefold().split())


# the share of its similarity a name keeps when it names other numbers than the query
# ("Malabar 2021" for "Malabar 2020": a year, an edition, a number of a treaty are not typos)
OTHER_NUMBERS = 0.8


def similarity(query: str, labels: Iterable[str]) -> float:
    """The best fuzzy similarity (0-100) of a normalised query to normalised labels: the larger of
    rapidfuzz's ratio (edit distance) and token_sort_ratio (word order ignored), lowered
    (:data:`OTHER_NUMBERS`) for a label that names other numbers than the query."""
    best = 0.0
    wanted = numbers(query)
    for label in labels:
        score = max(fuzz.ratio(query, label), fuzz.token_sort_ratio(query, label))
        best = max(best, score * OTHER_NUMBERS if numbers_differ(wanted, numbers(label)) else score)
        if best >= 100:
            break
    return best


def numbers(text: str) -> frozenset[str]:
    """The numbers a normalised text names, as written.

    >>> sorted(numbers("malabar 2020 phase 2"))
    ['2', '2020']
    """
    return frozenset(word for word in text.split() if word.isdigit())


def numbers_differ(wanted: frozenset[str], theirs: frozenset[str]) -> bool:
    """Whether a label naming the numbers ``theirs`` names others than a query naming ``wanted``
    (each a :func:`numbers`); a label or a query without numbers differs from nothing."""
    return bool(wanted) and bool(theirs) and theirs != wanted


# -- building the index from the store ----------------------------------------------------------

ENTITIES = """
SELECT DISTINCT ?x ?type ?class WHERE {
  { ?x a ?class . FILTER(?class = ald:State) BIND(ald:State AS ?type) }
  UNION
  { ?x a ?class . ?class rdfs:subClassOf* ald:Alliance BIND(ald:Alliance AS ?type) }
  UNION
  { VALUES ?class { ald:AllianceEvent ald:MilitaryExercise } ?x a ?class . BIND(?class AS ?type) }
}
"""
LABELS = """
SELECT ?x ?p ?label WHERE { VALUES ?p { rdfs:label skos:altLabel ald:generatedLabel } ?x ?p ?label }
"""
# the names a state bore through time (data/state-names.ttl): "Persia", "Siam", "Soviet Union"
STATE_NAMES = """
SELECT ?x ?label WHERE { ?x ald:stateName ?n . VALUES ?p { rdfs:label skos:altLabel } ?n ?p ?label }
"""
FACTS = """
SELECT ?x ?p ?o WHERE {
  VALUES ?p { ald:iso3166Alpha2 ald:iso3166Alpha3 ald:cowCode ald:foundingDate ald:startDate ald:headquarters
              ald:region owl:sameAs dcterms:description }
  ?x ?p ?o .
}
"""
MEMBERSHIPS = """
SELECT DISTINCT ?state ?alliance ?end WHERE {
  ?m org:member ?state ; org:organization ?alliance .
  OPTIONAL { ?m ald:endDate ?end }
}
"""
REGIONS = """
SELECT ?r ?label WHERE { ?r a ald:Region ; rdfs:label ?label . FILTER(langMatches(lang(?label), "en")) }
"""
CLASSES = """
SELECT ?c ?label WHERE {
  ?c rdfs:label ?label . FILTER(STRSTARTS(STR(?c), STR(ald:))) FILTER(langMatches(lang(?label), "en"))
}
"""


def _terms(kb: KnowledgeBase, sparql: str) -> list[tuple[Any, ...]]:
    """The rows of a SELECT over the asserted graphs as tuples of pyoxigraph terms (languages kept)."""
    result = kb.query(sparql, prefixes=True, inference=False)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [tuple(row[n] for n in names) for row in result]


def short_id(iri: str) -> str:
    """The API id of a resource: its IRI without ID_BASE (``state/usa``); other IRIs stay whole."""
    return iri[len(ID_BASE) :] if iri.startswith(ID_BASE) else iri


class Index:
    """States and alliances of one version of a KnowledgeBase, ready to be matched."""

    def __init__(self, entities: Iterable[Entity], class_names: Mapping[str, str], regions: Mapping[str, str]):
        self.entities: dict[str, Entity] = {e.id: e for e in entities}
        self.class_names = dict(class_names)
        self.regions = dict(regions)  # region id -> English label
        for e in self.entities.values():
            codes = {norm(str(v.value)) for v in e.values.get("iso3166Alpha3", [])}  # "USA", "FRA" are names too
            e.normed = sorted(({norm(text) for text, _ in e.labels} | codes) - {""})
        self._choices = [label for e in self.entities.values() for label in e.normed]
        self._owners = [e.id for e in self.entities.values() for _ in e.normed]
        self._numbers = [numbers(label) for label in self._choices]  # read for every name at every query

    @classmethod
    def build(cls, kb: KnowledgeBase) -> Index:
        """Read the states and alliances, their labels and facts from ``kb`` (a handful of queries)."""
        entities: dict[str, Entity] = {}
        for row in kb.select(ENTITIES):
            iri = row["x"]
            e = entities.setdefault(iri, Entity(short_id(iri), iri, row["type"], name=""))
            if row["type"] == STATE:  # the classes are disjoint; a state stays a state
                e.type = STATE
            e.classes.add(row["class"])
        english: dict[str, str] = {}
        for subject, predicate, label in _terms(kb, LABELS):
            e = entities.get(subject.value)
            if e is None or not isinstance(label, ox.Literal):
                continue
            e.labels.append((label.value, label.language or ""))
            if predicate.value.endswith("#label") and (label.language or "").lower() in ("en", ""):
                english.setdefault(e.iri, label.value)
        for subject, label in _terms(kb, STATE_NAMES):
            e = entities.get(subject.value)
            if e is not None and isinstance(label, ox.Literal):
                e.labels.append((label.value, label.language or ""))
        regions = {short_id(r["r"]): r["label"] for r in kb.select(REGIONS)}
        for row in kb.select(FACTS, inference=False):
            e = entities.get(row["x"])
            if e is not None:
                _add_fact(e, row["p"], row["o"], regions)
        today = dt.date.today().isoformat()
        for row in kb.select(MEMBERSHIPS):
            state, alliance = entities.get(row["state"]), entities.get(row["alliance"])
            if state is None or alliance is None:
                continue
            current = row["end"] is None or row["end"] > today
            state.values.setdefault("memberOf", []).append(Value(alliance.id, alliance.iri, current))
            alliance.values.setdefault("member", []).append(Value(state.id, state.iri, current))
        for e in entities.values():
            e.name = english.get(e.iri) or (e.labels[0][0] if e.labels else e.id)
            e.description = e.description or _describe(e)
        for e in entities.values():  # the names of the entities that memberships point at
            for pid in ("memberOf", "member"):
                if pid in e.values:
                    e.values[pid] = sorted(
                        (Value(v.value, entities[v.name].name, v.current) for v in e.values[pid]),
                        key=lambda v: (not v.current, v.name),
                    )
        class_names = {r["c"]: r["label"] for r in kb.select(CLASSES)}
        return cls(entities.values(), class_names, regions)

    # -- lookups ---------------------------------------------------------------------------

    def get(self, ident: str) -> Entity | None:
        """The entity with API id ``ident`` (``state/usa``) or IRI, or None."""
        return self.entities.get(short_id(ident.strip()))

    def known_types(self) -> dict[str, str]:
        """Type id -> name of every type a query may filter on: state, alliance and the kinds of alliance."""
        out = dict(TYPE_NAMES)
        for e in self.entities.values():
            for c in e.classes:
                out.setdefault(c, self.class_names.get(c, c.rsplit("#", 1)[-1]))
        return out

    def check_type(self, t: str) -> str:
        """``t`` as a type IRI (``ald:State`` and the bare local name are accepted too), or BadRequest."""
        types = self.known_types()
        candidates = [t, str(ALD) + t.removeprefix("ald:")]
        for c in candidates:
            if c in types:
                return c
        raise BadRequest(f"unknown type {t!r}: use one of {', '.join(sorted(types))}", parameter="type")

    # -- reconciliation --------------------------------------------------------------------

    def reconcile(self, query: Query) -> list[Candidate]:
        """The best candidates for ``query``, best first; the first has ``match`` when it is certain."""
        text = norm(query.text) if query.text else ""
        names = self.name_scores(text) if text else {}
        candidates = []
        for e in self._of_types(query.types, query.type_strict):
            features: list[tuple[str, str, float]] = []
            scores: list[float] = []
            if text:
                name_score = names.get(e.id, 0.0)
                features.append(("name", "name similarity", round(name_score, 1)))
                scores.append(name_score)
            failed = unmet = False  # a constraint contradicted; a required one not met
            for c in query.constraints:
                if e.type not in PROPERTIES[c.pid].types:
                    continue  # a fact this kind of entity never has (a state's founding date) says nothing
                if not text and c.pid not in e.values:
                    continue  # without a name, only the facts the entity has can make it a candidate
                s = self._constraint_score(e, c)
                features.append((f"property/{c.pid}", PROPERTIES[c.pid].name, round(s, 1)))
                scores.append(s)
                failed = failed or s == 0
                unmet = unmet or (c.required and s < MATCH_SCORE)
            if not scores or unmet:
                continue
            score = round(sum(scores) / len(scores), 1)
            if score >= MIN_SCORE:
                candidates.append(Candidate(e, score, features, failed))
        candidates.sort(key=lambda c: (-c.score, c.entity.name))
        if candidates:
            top = candidates[0]
            runner_up = candidates[1].score if len(candidates) > 1 else 0.0
            top.match = top.score >= MATCH_SCORE and top.score - runner_up >= MATCH_GAP and not top.failed
        return candidates[: query.limit]

    def name_scores(self, text: str) -> dict[str, float]:
        """Entity id -> the best :func:`similarity` of normalised ``text`` to one of its names, for
        every entity scoring above zero (one pass of rapidfuzz over all the names), numbers weighed
        as :func:`similarity` weighs them."""
        best: dict[str, float] = {}
        wanted = numbers(text)
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            for _, score, i in process.extract(text, self._choices, scorer=scorer, limit=None, score_cutoff=1):
                if numbers_differ(wanted, self._numbers[i]):
                    score *= OTHER_NUMBERS
                owner = self._owners[i]
                if score > best.get(owner, 0.0):
                    best[owner] = score
        return best

    def _of_types(self, types: tuple[str, ...], strict: str) -> list[Entity]:
        if not types:
            return list(self.entities.values())
        if strict == "all":
            return [e for e in self.entities.values() if all(t in e.classes for t in types)]
        return [e for e in self.entities.values() if any(t in e.classes for t in types)]

    def _constraint_score(self, e: Entity, c: Constraint) -> float:
        """0-100: how well the entity's values of the property match the constraint's values (the
        best of them); UNKNOWN when the entity has none."""
        have = e.values.get(c.pid, [])
        if not have:
            return UNKNOWN
        kind = PROPERTIES[c.pid].kind
        return max(self._value_score(kind, c.pid, want, have) for want in c.values)

    def _value_score(self, kind: str, pid: str, want: Any, have: list[Value]) -> float:
        if kind == "entity":
            return self._entity_value_score(want, have)
        if kind == "int":
            try:
                number = int(str(want).strip())
            except ValueError:
                return 0.0
            return 100.0 if any(v.value == number for v in have) else 0.0
        if kind == "date":
            return max(_date_score(str(want).strip(), str(v.value)) for v in have)
        wanted = str(want).strip()
        if pid == "wikidata":
            wanted = wanted.removeprefix(str(WD))
            return 100.0 if any(str(v.value).casefold() == wanted.casefold() for v in have) else 0.0
        if pid == "headquarters":
            return similarity(norm(wanted), [norm(str(v.value)) for v in have])
        return 100.0 if any(str(v.value).casefold() == wanted.casefold() for v in have) else 0.0

    def _entity_value_score(self, want: Any, have: list[Value]) -> float:
        """An entity value given by id (``alliance/nato``, an IRI, ``{"id": ...}``) matches exactly;
        given by name it is matched fuzzily against every label of the entities the candidate points at."""
        ident, name = (want.get("id"), want.get("name")) if isinstance(want, dict) else (str(want), str(want))
        ids = {str(v.value) for v in have}
        if ident and short_id(str(ident).strip()) in ids:
            return 100.0
        if isinstance(want, dict) and ident and (self.get(str(ident)) or short_id(str(ident)) in self.regions):
            return 0.0  # a known entity given by id, and not one of the candidate's
        if not name:
            return 0.0
        wanted = norm(str(name))
        best = 0.0
        for v in have:
            target = self.entities.get(str(v.value))
            labels = target.normed if target is not None else [norm(self.regions.get(str(v.value), str(v.value)))]
            best = max(best, similarity(wanted, labels))
        return best

    # -- suggest, properties, extension ----------------------------------------------------

    def suggest_entities(self, prefix: str, types: tuple[str, ...] = (), limit: int = 10) -> list[Entity]:
        """Entities for autocompletion: a label that starts with ``prefix`` (or one of its words
        does) comes first, then fuzzy matches of the prefix with the start of a label."""
        p = norm(prefix)
        if not p:
            return []
        scored: list[tuple[float, str, Entity]] = []
        for e in self._of_types(types, "any"):
            best = 0.0
            for label in e.normed:
                if label.startswith(p):
                    best = max(best, 200.0 - len(label) / 100)
                elif any(w.startswith(p) for w in label.split()):
                    best = max(best, 150.0)
                elif len(p) >= 3:
                    best = max(best, fuzz.ratio(p, label[: len(p)]))
            if best >= 80:
                scored.append((best, e.name, e))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [e for _, _, e in scored[:limit]]

    def suggest_types(self, prefix: str, limit: int = 10) -> list[tuple[str, str]]:
        """Types (id, name) whose name or local name starts with ``prefix`` (any word of it)."""
        p = norm(prefix)
        out = []
        for tid, name in sorted(self.known_types().items(), key=lambda kv: (kv[0] not in TYPE_NAMES, kv[1])):
            words = [*norm(name).split(), norm(tid.rsplit("#", 1)[-1])]
            if not p or any(w.startswith(p) for w in words) or norm(name).startswith(p):
                out.append((tid, name))
        return out[:limit]

    def properties_for(self, type_id: str | None) -> list[Property]:
        """The properties of entities of ``type_id`` (an alliance subclass counts as alliance), or all."""
        if not type_id:
            return list(PROPERTIES.values())
        base = STATE if type_id == STATE else ALLIANCE
        return [p for p in PROPERTIES.values() if base in p.types]

    def suggest_properties(self, prefix: str, type_id: str | None = None, limit: int = 10) -> list[Property]:
        """Properties whose id or name starts with ``prefix`` (any word of the name)."""
        p = norm(prefix)
        out = [
            prop
            for prop in self.properties_for(type_id)
            if not p or norm(prop.id).startswith(p) or any(w.startswith(p) for w in norm(prop.name).split())
        ]
        return out[:limit]

    def extend(self, ids: list[str], pids: list[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
        """The data extension response body: ``meta`` for the properties, ``rows`` of values per id."""
        meta = []
        for pid, _ in pids:
            prop = PROPERTIES[pid]
            item: dict[str, Any] = {"id": pid, "name": prop.name}
            if prop.kind == "entity" and pid != "region":
                item["type"] = {
                    "id": STATE if pid == "member" else ALLIANCE,
                    "name": "state" if pid == "member" else "alliance",
                }
            meta.append(item)
        rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for ident in ids:
            e = self.get(ident)
            row: dict[str, list[dict[str, Any]]] = {}
            for pid, settings in pids:
                values = e.values.get(pid, []) if e is not None else []
                if settings.get(CURRENT_SETTING) in (True, "true", "on", 1):
                    values = [v for v in values if v.current]
                limit = settings.get("limit")
                if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
                    values = values[:limit]
                row[pid] = [_cell(PROPERTIES[pid].kind, v) for v in values]
            rows[ident] = row
        return {"meta": meta, "rows": rows}


def _add_fact(e: Entity, predicate: str, obj: str, regions: Mapping[str, str]) -> None:
    local = predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    if local == "description":
        e.description = e.description or _first_sentence(obj)
    elif local == "sameAs":
        if obj.startswith(str(WD)):
            e.values.setdefault("wikidata", []).append(Value(obj.removeprefix(str(WD))))
    elif local == "cowCode":
        with contextlib.suppress(ValueError):
            e.values.setdefault("cowCode", []).append(Value(int(obj)))
    elif local == "region":
        rid = short_id(obj)
        e.values.setdefault("region", []).append(Value(rid, regions.get(rid, rid)))
    elif local in PROPERTIES:
        e.values.setdefault(local, []).append(Value(obj))


def _first_sentence(text: str, limit: int = 160) -> str:
    sentence = text.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _describe(e: Entity) -> str:
    if e.type == STATE:
        codes = [str(v.value) for pid in ("iso3166Alpha2", "iso3166Alpha3") for v in e.values.get(pid, [])]
        return "state" + (f" ({' / '.join(codes)})" if codes else "")
    if e.type in (EVENT, EXERCISE):
        day = e.values.get("startDate")
        return TYPE_NAMES[e.type] + (f", {day[0].value}" if day else "")
    founded = e.values.get("foundingDate")
    return "alliance" + (f", founded {founded[0].value}" if founded else "")


def _date_score(want: str, have: str) -> float:
    """100 for the same day (or year, when only a year is asked), 75 for the same year, else 0."""
    want = want.split("T", 1)[0]
    if want.endswith(".0"):  # a year sent as a number: 1949.0
        want = want[:-2]
    if len(want) == 4 and want.isdigit():
        return 100.0 if have[:4] == want else 0.0
    if want == have:
        return 100.0
    return 75.0 if want[:4] == have[:4] else 0.0


def _cell(kind: str, v: Value) -> dict[str, Any]:
    if kind == "entity":
        return {"id": str(v.value), "name": v.name or str(v.value)}
    if kind == "int":
        return {"int": int(v.value)}
    if kind == "date":
        return {"date": f"{v.value}T00:00:00Z"}
    return {"str": str(v.value)}


# -- parsing queries -----------------------------------------------------------------------------


def parse_limit(raw: Any, parameter: str = "limit") -> int:
    """A positive whole number of at most MAX_LIMIT, or BadRequest naming ``parameter``."""
    if isinstance(raw, bool):
        raise BadRequest(f"{parameter} must be a positive integer, not {raw!r}", parameter="limit")
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"{parameter} must be a positive integer, not {raw!r}", parameter="limit") from None
    if not 1 <= number <= MAX_LIMIT or number != int(number):  # NaN and infinity fail the first test
        raise BadRequest(f"{parameter} must be an integer from 1 to {MAX_LIMIT}, not {raw!r}", parameter="limit")
    return int(number)


def parse_query(index: Index, raw: Any, key: str = "query") -> Query:
    """A 0.2 query object (``query``, ``type``, ``limit``, ``properties``, ``type_strict``) or a
    bare string, checked; BadRequest names what is wrong."""
    if isinstance(raw, str):
        raw = {"query": raw}
    if not isinstance(raw, dict):
        raise BadRequest(f"query {key!r} must be a JSON object or a string", parameter="queries")
    unknown = set(raw) - {"query", "type", "limit", "properties", "type_strict"}
    if unknown:
        raise BadRequest(f"query {key!r} has unknown member(s): {', '.join(sorted(unknown))}", parameter="queries")
    text = raw.get("query")
    if text is not None and not isinstance(text, str):
        raise BadRequest(f"query {key!r}: 'query' must be a string", parameter="queries")
    types = _types(index, raw.get("type"), key)
    strict = raw.get("type_strict", "any")
    if strict not in ("any", "should", "all"):
        raise BadRequest(f"query {key!r}: type_strict must be any, should or all", parameter="queries")
    limit = parse_limit(raw["limit"], f"limit of query {key!r}") if "limit" in raw else DEFAULT_LIMIT
    props = raw.get("properties", [])
    if not isinstance(props, list):
        raise BadRequest(f"query {key!r}: 'properties' must be a list", parameter="queries")
    constraints = tuple(_constraint(p, key) for p in props)
    if not (text and text.strip()) and not constraints:
        raise BadRequest(f"query {key!r} has neither a query string nor properties", parameter="queries")
    return Query(text, types, strict, limit, constraints)


def parse_draft_query(index: Index, raw: Any, position: int) -> Query:
    """A 1.0-draft query (``conditions`` of matchType name/id/property, ``type``, ``limit``)."""
    key = f"#{position}"
    if not isinstance(raw, dict) or not isinstance(raw.get("conditions"), list) or not raw["conditions"]:
        raise BadRequest(f"query {key} needs a non-empty list of conditions", parameter="queries")
    texts, constraints = [], []
    for cond in raw["conditions"]:
        if not isinstance(cond, dict) or "propertyValue" not in cond:
            raise BadRequest(f"query {key}: every condition needs matchType and propertyValue", parameter="queries")
        match_type = cond.get("matchType")
        value = cond["propertyValue"]
        if match_type == "name":
            texts.append(value if isinstance(value, str) else str(value))
        elif match_type == "property":
            constraints.append(
                _constraint({"pid": cond.get("propertyId"), "v": value}, key, required=bool(cond.get("required")))
            )
        elif match_type == "id":
            texts.append(str(value.get("id") if isinstance(value, dict) else value))
        else:
            raise BadRequest(f"query {key}: matchType must be name, id or property", parameter="queries")
    types = _types(index, raw.get("type"), key)
    limit = parse_limit(raw["limit"], f"limit of query {key}") if "limit" in raw else DEFAULT_LIMIT
    return Query(" ".join(texts) or None, types, "any", limit, tuple(constraints))


def _types(index: Index, raw: Any, key: str) -> tuple[str, ...]:
    if raw is None or raw == "" or raw == []:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(t, str) for t in items):
        raise BadRequest(f"query {key!r}: 'type' must be a string or a list of strings", parameter="type")
    return tuple(index.check_type(t) for t in items)


def _constraint(raw: Any, key: str, required: bool = False) -> Constraint:
    if not isinstance(raw, dict) or "pid" not in raw or "v" not in raw:
        raise BadRequest(f"query {key!r}: every property needs 'pid' and 'v'", parameter="queries")
    pid = raw["pid"]
    if pid not in PROPERTIES:
        raise BadRequest(
            f"query {key!r}: unknown property {pid!r}: use one of {', '.join(PROPERTIES)}", parameter="pid"
        )
    values = raw["v"] if isinstance(raw["v"], list) else [raw["v"]]
    if not values:
        raise BadRequest(f"query {key!r}: property {pid!r} has no value", parameter="queries")
    return Constraint(pid, tuple(values), required)


# -- one index per KnowledgeBase, rebuilt when the store changes --------------------------------


class Reconciler:
    """The index of one KnowledgeBase, rebuilt after a write (keyed on ``kb.version``) and, for a
    store other processes may write to (remote or read-only), at most ``ttl`` seconds old."""

    def __init__(self, kb: KnowledgeBase, ttl: float = 30.0) -> None:
        self.kb = kb
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[int, float, Index] | None = None
        self.builds = 0  # how many times the index was built (tests and benchmarks read it)

    def index(self) -> Index:
        """The index for the store's current content."""
        shared = not isinstance(self.kb.backend, EmbeddedBackend) or self.kb.read_only
        with self._lock:
            cached, now = self._cached, time.monotonic()
            if cached is not None and cached[0] == self.kb.version and not (shared and now - cached[1] > self.ttl):
                return cached[2]
            version = self.kb.version
            index = Index.build(self.kb)
            self.builds += 1
            self._cached = (version, now, index)
            return index
