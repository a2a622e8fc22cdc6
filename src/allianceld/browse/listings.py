"""The alliances and the states, filtered (active on a day, region, alliance type, alliance) and
paged; the alliances one state belonged to in a year. Every value reaches the store as an RDF
term in a VALUES block, never as text pasted into a query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from allianceld.browse.describe import labels
from allianceld.browse.names import name_on, names_on
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, ID_BASE

XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")

#: the ``type=`` keywords and the ontology classes they stand for (asserted or inferred)
ALLIANCE_TYPES: dict[str, str] = {
    "bilateral": str(ALD.BilateralAlliance),
    "multilateral": str(ALD.MultilateralAlliance),
    "regional": str(ALD.RegionalPartnership),
}

# the things (?x) that meet the filters, by English label (ordered by the aggregate itself, as a
# string: Virtuoso refuses ORDER BY an aggregate's alias, and LCASE of a COALESCE of a tagged literal)
ORDERED = """
SELECT ?x (MIN(?l) AS ?label) WHERE {{
  {{ SELECT DISTINCT ?x WHERE {{
    ?x a {cls} .
    {filters}
  }} }}
  OPTIONAL {{ ?x rdfs:label ?l FILTER(langMatches(lang(?l), "en")) }}
}} GROUP BY ?x ORDER BY LCASE(COALESCE(STR(MIN(?l)), STR(?x))) ?x
"""
MATCHED = """
SELECT DISTINCT ?x ?m WHERE {{
  {filters}
}}
"""

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
ALLIANCE_DETAILS = [ox.NamedNode(str(p)) for p in (ALD.foundingDate, ALD.dissolutionDate, ALD.region)] + [RDF_TYPE]
STATE_DETAILS = [ox.NamedNode(str(p)) for p in (ALD.iso3166Alpha3, ALD.region)]

MEMBERSHIP_DETAILS = """
SELECT ?m ?alliance ?role ?start ?startPrecision ?end ?endPrecision WHERE {{
  VALUES ?m {{ {nodes} }}
  ?m org:organization ?alliance .
  OPTIONAL {{ ?m org:role ?role }}
  OPTIONAL {{ ?m ald:startDate ?start }}
  OPTIONAL {{ ?m ald:startDatePrecision ?startPrecision }}
  OPTIONAL {{ ?m ald:endDate ?end }}
  OPTIONAL {{ ?m ald:endDatePrecision ?endPrecision }}
}}
"""


#: the obligations a listing or a network may be filtered by (the ATOP kinds of ald:Provision)
OBLIGATIONS = {
    "defence": "DefenceProvision",
    "offence": "OffenceProvision",
    "neutrality": "NeutralityProvision",
    "non-aggression": "NonAggressionProvision",
    "consultation": "ConsultationProvision",
}


@dataclass(frozen=True)
class Filters:
    """What a listing is restricted to; None means no restriction."""

    active_on: dt.date | None = None
    region: str | None = None  # a region IRI
    alliance_type: str | None = None  # a class IRI (one of ALLIANCE_TYPES)
    alliance: str | None = None  # states only: members of this alliance
    year: int | None = None  # memberships held at any time in this year
    obligation: str | None = None  # alliances only: a kind of provision (a key of OBLIGATIONS)


@dataclass(frozen=True)
class Page:
    """One page of a listing and the number of items on all pages."""

    items: list[dict[str, Any]]
    total: int


def date_term(day: dt.date) -> ox.Literal:
    return ox.Literal(f"{day.year:04d}-{day.month:02d}-{day.day:02d}", datatype=XSD_DATE)


def _values(var: str, *terms: ox.NamedNode | ox.Literal) -> str:
    return f"VALUES {var} {{ {' '.join(str(t) for t in terms)} }}"


def _alliance_filters(f: Filters, var: str = "?x") -> list[str]:
    out = []
    if f.alliance_type:
        out.append(f"{_values('?type', ox.NamedNode(f.alliance_type))} {var} a ?type .")
    if f.active_on:
        out.append(
            f"{_values('?day', date_term(f.active_on))} {var} ald:foundingDate ?founded FILTER(!(?founded > ?day)) "
            f"OPTIONAL {{ {var} ald:dissolutionDate ?dissolved }} FILTER(!BOUND(?dissolved) || ?dissolved >= ?day)"
        )
    return out


def _membership_window(f: Filters) -> tuple[ox.Literal, ox.Literal] | None:
    """The days a membership must overlap: ``active_on``, or the whole of ``year``."""
    if f.active_on:
        return date_term(f.active_on), date_term(f.active_on)
    if f.year:
        return date_term(dt.date(f.year, 1, 1)), date_term(dt.date(f.year, 12, 31))
    return None


def _membership_filters(f: Filters) -> list[str]:
    """``?m`` a membership of ``?x`` in ``?a`` that meets the filters (an alliance, its type, the days)."""
    # "on or before" is written !(a > b): Virtuoso 7.2.5 answers a <= b wrongly over a range of dates
    out = ["?m org:member ?x ; org:organization ?a ."]
    if f.alliance:
        out.append(_values("?a", ox.NamedNode(f.alliance)))
    if f.alliance_type:
        out.append(f"{_values('?type', ox.NamedNode(f.alliance_type))} ?a a ?type .")
    window = _membership_window(f)
    if window:
        out.append(
            f"{_values('?first', window[0])} {_values('?last', window[1])} "
            "?m ald:startDate ?start FILTER(!(?start > ?last)) "
            "FILTER NOT EXISTS { ?m ald:endDate ?end FILTER(?end < ?first) }"
        )
    return out


def _page(kb: KnowledgeBase, cls: Any, parts: list[str], limit: int, offset: int) -> tuple[list[str], int]:
    """The IRIs of one page of the members of ``cls`` that meet ``parts``, sorted by the store, and
    how many there are on all pages. One query (a LIMIT query and a COUNT query would evaluate the
    filters twice, which costs more than reading the ordered IRIs)."""
    filters = "\n    ".join(parts)
    rows = kb.query(ORDERED.format(cls=ox.NamedNode(str(cls)), filters=filters), prefixes=True)
    assert isinstance(rows, ox.QuerySolutions)
    iris = [row["x"].value for row in rows]  # type: ignore[union-attr]
    return iris[offset : offset + limit], len(iris)


def _slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _url(iri: str) -> str:
    return "/id/" + iri[len(ID_BASE) :] if iri.startswith(ID_BASE) else iri


def _details(kb: KnowledgeBase, properties: list[ox.NamedNode], iris: list[str]) -> dict[str, dict[str, list[str]]]:
    """The values of ``properties`` of each IRI (lexical forms and IRIs), read by the store's indexes."""
    out: dict[str, dict[str, list[str]]] = {i: {} for i in iris}
    for q in kb.match([ox.NamedNode(i) for i in iris], properties, graphs=kb.graphs()):
        values = out[q.subject.value].setdefault(q.predicate.value, [])
        if q.object.value not in values:
            values.append(q.object.value)
    return out


def _one(details: dict[str, list[str]], prop: Any) -> str | None:
    values = details.get(str(prop), [])
    return values[0] if values else None


def _region_views(kb: KnowledgeBase, regions: list[str], named: dict[str, str]) -> list[dict[str, Any]]:
    return [{"iri": r, "id": _slug(r), "label": named.get(r), "url": _url(r)} for r in sorted(regions)]


def alliances(kb: KnowledgeBase, filters: Filters, *, limit: int, offset: int) -> Page:
    """The alliances that meet ``filters`` (``active_on``: founded on or before that day and not
    dissolved before it; ``region``; ``alliance_type``; ``obligation``), by label, ``limit`` from ``offset``."""
    parts = _alliance_filters(filters)
    if filters.region:
        parts.append(f"{_values('?region', ox.NamedNode(filters.region))} ?x ald:region ?region .")
    if filters.obligation:  # one of its treaties has a provision of that kind
        kind = ox.NamedNode(str(ALD) + OBLIGATIONS[filters.obligation])
        parts.append(
            f"{_values('?kind', kind)} ?x ald:foundingTreaty|ald:treaty ?treaty . ?treaty ald:hasProvision/a ?kind ."
        )
    iris, total = _page(kb, ALD.Alliance, parts, limit, offset)
    details = _details(kb, ALLIANCE_DETAILS, iris)
    kinds = {v: k for k, v in ALLIANCE_TYPES.items()}
    regions = sorted({r for d in details.values() for r in d.get(str(ALD.region), [])})
    named = labels(kb, [*iris, *regions])
    items = []
    for iri in iris:
        d = details[iri]
        items.append(
            {
                "iri": iri,
                "id": _slug(iri),
                "label": named.get(iri),
                "url": _url(iri),
                "types": sorted(kinds[t] for t in d.get(RDF_TYPE.value, []) if t in kinds),
                "foundingDate": _one(d, ALD.foundingDate),
                "dissolutionDate": _one(d, ALD.dissolutionDate),
                "regions": _region_views(kb, d.get(str(ALD.region), []), named),
            }
        )
    return Page(items, total)


def _membership_views(kb: KnowledgeBase, nodes: list[str]) -> dict[str, dict[str, Any]]:
    if not nodes:
        return {}
    rows = kb.select(MEMBERSHIP_DETAILS.format(nodes=" ".join(str(ox.NamedNode(m)) for m in nodes)))
    named = labels(kb, [v for r in rows for v in (r["alliance"], r["role"]) if v])
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        out.setdefault(
            r["m"],
            {
                "membership": r["m"],
                "alliance": {"iri": r["alliance"], "label": named.get(r["alliance"]), "url": _url(r["alliance"])},
                "role": {"iri": r["role"], "label": named.get(r["role"])} if r["role"] else None,
                "startDate": r["start"],
                "startDatePrecision": precision_name(r["startPrecision"]),
                "endDate": r["end"],
                "endDatePrecision": precision_name(r["endPrecision"]),
            },
        )
    return out


def _day(lexical: str | None) -> dt.date | None:
    """An xsd:date's day, or None (absent, or a form with a time zone or a year past 9999)."""
    try:
        return dt.date.fromisoformat(lexical) if lexical else None
    except ValueError:
        return None


def precision_name(iri: str | None) -> str | None:
    """``year`` or ``month`` for an imprecise date, None for a date known to the day."""
    if not iri or iri == str(ALD.DayPrecision):
        return None
    return iri.rsplit("#", 1)[-1].removesuffix("Precision").lower()


def states(kb: KnowledgeBase, filters: Filters, *, limit: int, offset: int) -> Page:
    """The states that meet ``filters``, by label. ``region`` is the state's own region; with
    ``active_on``, ``alliance`` or ``alliance_type`` a state needs a membership that meets them
    (active that day: begun on or before it and not ended before it), and each item lists those
    memberships."""
    parts = []
    if filters.region:
        parts.append(f"{_values('?region', ox.NamedNode(filters.region))} ?x ald:region ?region .")
    by_membership = bool(filters.active_on or filters.alliance or filters.alliance_type)
    if by_membership:
        parts.extend(_membership_filters(filters))
    iris, total = _page(kb, ALD.State, parts, limit, offset)
    matched: dict[str, list[str]] = {i: [] for i in iris}
    if by_membership and iris:
        query = MATCHED.format(filters="\n  ".join([_values("?x", *map(ox.NamedNode, iris)), *parts]))
        for r in kb.select(query):
            matched[r["x"]].append(r["m"])
    details = _details(kb, STATE_DETAILS, iris)
    regions = sorted({r for d in details.values() for r in d.get(str(ALD.region), [])})
    named = labels(kb, [*iris, *regions])
    then = name_on(kb, iris, filters.active_on) if filters.active_on else {}  # the names of that day
    views = _membership_views(kb, [m for i in iris for m in matched[i]]) if by_membership else {}
    items = []
    for iri in iris:
        d = details[iri]
        item: dict[str, Any] = {
            "iri": iri,
            "id": _slug(iri),
            "label": then.get(iri) or named.get(iri),
            "url": _url(iri),
            "iso3166Alpha3": _one(d, ALD.iso3166Alpha3),
            "regions": _region_views(kb, d.get(str(ALD.region), []), named),
        }
        if then.get(iri) and then[iri] != named.get(iri):
            item["todayLabel"] = named.get(iri)
        if by_membership:
            item["memberships"] = sorted(
                (views[m] for m in matched[iri] if m in views), key=lambda v: (v["startDate"] or "", v["membership"])
            )
        items.append(item)
    return Page(items, total)


def state_alliances(kb: KnowledgeBase, state: str, filters: Filters) -> list[dict[str, Any]]:
    """The alliances ``state`` belonged to (at any time in ``filters.year``, or on
    ``filters.active_on``, or ever), each with the memberships that put it there; ``stateName``
    is the state's name on the day each membership began (the alliance's: its first membership's)."""
    parts = [_values("?x", ox.NamedNode(state)), *_membership_filters(filters)]
    rows = kb.select(MATCHED.format(filters="\n  ".join(parts)))
    views = _membership_views(kb, sorted({r["m"] for r in rows if r["m"]}))
    starts = {m: _day(v["startDate"]) for m, v in views.items()}
    then = names_on(kb, ((state, day) for day in starts.values() if day is not None))
    by_alliance: dict[str, dict[str, Any]] = {}
    for view in sorted(views.values(), key=lambda v: (v["startDate"] or "", v["membership"])):
        a = view["alliance"]
        day = starts[view["membership"]]
        name = then.get((state, day)) if day is not None else None
        entry = by_alliance.setdefault(a["iri"], {**a, "id": _slug(a["iri"]), "stateName": name, "memberships": []})
        entry["memberships"].append({**{k: v for k, v in view.items() if k != "alliance"}, "stateName": name})
    return sorted(by_alliance.values(), key=lambda e: ((e["label"] or e["iri"]).casefold(), e["iri"]))


__all__ = ["ALLIANCE_TYPES", "Filters", "Page", "alliances", "precision_name", "state_alliances", "states"]
