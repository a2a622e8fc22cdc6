"""What the pictures draw: an alliance's memberships over time, the network of states linked by
the alliances they share on a day (whole, or around one state), and the alliances founded per
decade by type. Every value reaches the store as an RDF term in a VALUES block, never as text
pasted into a query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import combinations
from typing import Any

import pyoxigraph as ox

from allianceld.browse import alliance_record
from allianceld.browse.describe import labels, local_path, memberships
from allianceld.browse.listings import OBLIGATIONS, date_term, precision_name
from allianceld.browse.names import name_on, names_on
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
STATE = ox.NamedNode(str(ALD.State))

# memberships active on ?day: begun on or before it, not ended before it (OPTIONAL + FILTER took
# half the time of FILTER NOT EXISTS at 200k triples; who is a state is checked by the indexes).
# Pyoxigraph joins in the order written: all memberships from their start dates, or, when ?state
# or ?alliance is bound by VALUES, from those.
# "on or before" is !(?start > ?day): Virtuoso 7.2.5 answers ?start <= ?day wrongly over a range of dates.
ACTIVE = """
SELECT ?state ?alliance WHERE {{
  {values}
  ?m ald:startDate ?start .
  FILTER(!(?start > ?day))
  OPTIONAL {{ ?m ald:endDate ?end }}
  FILTER(!BOUND(?end) || ?end >= ?day)
  ?m org:member ?state ; org:organization ?alliance .
}}
"""
ACTIVE_OF = """
SELECT ?state ?alliance WHERE {{
  {values}
  ?m org:member ?state ; org:organization ?alliance ; ald:startDate ?start .
  FILTER(!(?start > ?day))
  OPTIONAL {{ ?m ald:endDate ?end }}
  FILTER(!BOUND(?end) || ?end >= ?day)
}}
"""
# the alliances ?ego was a member of on ?day
EGO_ALLIANCES = """
SELECT DISTINCT ?alliance WHERE {{
  {values}
  ?m org:member ?ego ; org:organization ?alliance ; ald:startDate ?start .
  FILTER(!(?start > ?day))
  FILTER NOT EXISTS {{ ?m ald:endDate ?end FILTER(?end < ?day) }}
}}
"""
# the first and last dates the memberships hold
SPAN = """
SELECT (MIN(?start) AS ?first) (MAX(?last) AS ?latest) WHERE {
  ?m a org:Membership ; ald:startDate ?start .
  OPTIONAL { ?m ald:endDate ?end }
  BIND(COALESCE(?end, ?start) AS ?last)
}
"""
# alliances by the decade of their founding and each type (a subclass of ald:Alliance) they have
BY_DECADE = """
SELECT ?decade ?type (COUNT(DISTINCT ?alliance) AS ?n) WHERE {
  ?alliance ald:foundingDate ?founded ; a ?type .
  ?type rdfs:subClassOf ald:Alliance .
  FILTER(?type != ald:Alliance && isIRI(?type))
  BIND(xsd:integer(FLOOR(YEAR(?founded) / 10) * 10) AS ?decade)
} GROUP BY ?decade ?type ORDER BY ?decade ?type
"""
# the alliances one of whose treaties (founding or later) has a provision of one of the kinds bound
WITH_OBLIGATION = """
SELECT DISTINCT ?alliance WHERE {{
  {values}
  ?provision a ?kind .
  ?treaty ald:hasProvision ?provision .
  ?alliance ald:foundingTreaty|ald:treaty ?treaty .
}}
"""
DEFAULT_OBLIGATION = "defence"  # a network shows defence pacts unless another obligation is asked
#: the value that shows every alliance, whatever its obligations
ANY_OBLIGATION = "any"
UNDATED = """
SELECT (COUNT(DISTINCT ?alliance) AS ?n) WHERE {
  ?alliance a ald:Alliance FILTER NOT EXISTS { ?alliance ald:foundingDate ?founded }
}
"""


def _values(var: str, terms: list[Any]) -> str:
    return f"VALUES {var} {{ {' '.join(str(t) for t in terms)} }}"


def _ref(iri: str, named: dict[str, str]) -> dict[str, Any]:
    return {"iri": iri, "id": iri.rsplit("/", 1)[-1], "label": named.get(iri), "url": local_path(iri)}


def _day(value: str | None) -> dt.date | None:
    """The day a stored date names (its first day when known only to the month or year)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10] if len(value) >= 10 else (value + "-01-01")[:10])
    except ValueError:
        return None


def timeline(kb: KnowledgeBase, alliance: str) -> dict[str, Any]:
    """The memberships of ``alliance``, one item each, by start date: the member (by the name it
    joined under), the role, the start and end dates (``end`` None while it lasts) with their precision.

    >>> from allianceld.config import Settings
    >>> from allianceld.rdf import formats
    >>> nato = (Settings().data_dir / "nato.ttl").read_bytes()  # the shipped NATO records
    >>> kb = KnowledgeBase()
    >>> kb.replace_graphs({"http://example.org/nato": formats.parse(nato, ox.RdfFormat.TURTLE, source="nato.ttl")})
    >>> timeline(kb, "https://w3id.org/allianceld/id/alliance/nato")["items"][0]["state"]["id"]
    'bel'
    """
    rows = [r for r in memberships(kb, alliance) if r["alliance"] == alliance]
    details = {
        q.predicate.value: q.object.value
        for q in kb.match(
            [ox.NamedNode(alliance)],
            [ox.NamedNode(str(ALD.foundingDate)), ox.NamedNode(str(ALD.dissolutionDate))],
            graphs=kb.graphs(),
        )
    }
    named = labels(kb, [alliance, *(v for r in rows for v in (r["state"], r["role"]) if v)])
    joined_on = {r["m"]: (r["state"], _day(r["start"])) for r in rows}  # the member, the day it joined
    joined = names_on(kb, [pair for pair in joined_on.values() if pair[0] and pair[1]])
    items = [
        {
            "membership": r["m"],
            "state": {**_ref(r["state"], named), "label": joined.get(joined_on[r["m"]], named.get(r["state"]))},
            "role": {"iri": r["role"], "label": named.get(r["role"])} if r["role"] else None,
            "start": r["start"],
            "startPrecision": precision_name(r["startPrecision"]),
            "end": r["end"],
            "endPrecision": precision_name(r["endPrecision"]),
        }
        for r in rows
    ]
    return {
        "alliance": {
            **_ref(alliance, named),
            "foundingDate": details.get(str(ALD.foundingDate)),
            "dissolutionDate": details.get(str(ALD.dissolutionDate)),
        },
        "items": items,
        "total": len(items),
        # its events and exercises, by date (the same items as the page's sections, all of them)
        "events": alliance_record.events(kb, alliance, limit=None)["items"],
        "exercises": alliance_record.exercises(kb, alliance, limit=None)["items"],
    }


def with_obligation(kb: KnowledgeBase, obligation: str) -> set[str]:
    """The alliances one of whose treaties has a provision of ``obligation`` (a key of
    :data:`OBLIGATIONS`)."""
    kind = ox.NamedNode(str(ALD) + OBLIGATIONS[obligation])
    return {r["alliance"] for r in kb.select(WITH_OBLIGATION.format(values=_values("?kind", [kind])))}


def _active(
    kb: KnowledgeBase,
    day: dt.date,
    *,
    states: list[str] | None = None,
    alliances: list[str] | None = None,
    obligation: str | None = None,
):
    """(state, alliance) of the memberships of states (``ald:State``, asserted or derived) active
    on ``day``, of ``states`` or in ``alliances`` when given, in alliances with ``obligation``
    when given (a key of :data:`OBLIGATIONS`)."""
    parts = [_values("?day", [date_term(day)])]
    if states is not None:
        parts.append(_values("?state", [ox.NamedNode(s) for s in states]))
    if alliances is not None:
        parts.append(_values("?alliance", [ox.NamedNode(a) for a in alliances]))
    query = ACTIVE if states is None and alliances is None else ACTIVE_OF
    rows = kb.select(query.format(values=" ".join(parts)))
    members = [ox.NamedNode(s) for s in sorted({r["state"] for r in rows})]
    states = {q.subject.value for q in kb.match(members, [RDF_TYPE], graphs=kb.graphs()) if q.object == STATE}
    kept = with_obligation(kb, obligation) if obligation else None
    return [r for r in rows if r["state"] in states and (kept is None or r["alliance"] in kept)]


def _graph(
    kb: KnowledgeBase, day: dt.date, rows: list[dict[str, Any]], keep: set[str] | None, centre: str | None = None
) -> dict[str, Any]:
    """Nodes (the states of ``rows``, or of ``keep``), edges (two states that share an alliance in
    ``rows``, with the ids of those alliances; only those of ``centre`` when given) and the
    alliances, labelled (an edge names its alliances by id only: the full network at 200k triples
    has tens of thousands of edges)."""
    members: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if keep is None or r["state"] in keep:
            members[r["alliance"]].add(r["state"])
    slug = {iri: iri.rsplit("/", 1)[-1] for iri in {*members, *(s for states in members.values() for s in states)}}
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    alliances_of: dict[str, int] = defaultdict(int)
    for alliance in sorted(members, key=slug.__getitem__):
        states = sorted(members[alliance])
        for s in states:
            alliances_of[s] += 1
        for a, b in combinations(states, 2):
            if centre is None or centre in (a, b):
                shared[(a, b)].append(slug[alliance])
    nodes = sorted(keep if keep is not None else alliances_of)
    named = {**labels(kb, list(members)), **name_on(kb, nodes, day)}  # each state by its name that day
    return {
        "date": day.isoformat(),
        "nodes": [{**_ref(s, named), "alliances": alliances_of[s]} for s in nodes],
        "edges": [{"source": slug[a], "target": slug[b], "alliances": shared[(a, b)]} for a, b in sorted(shared)],
        "alliances": [{**_ref(a, named), "members": len(members[a])} for a in sorted(members)],
    }


def network(
    kb: KnowledgeBase,
    day: dt.date,
    obligation: str | None = DEFAULT_OBLIGATION,
    *,
    alliance: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """The states with a membership active on ``day`` and, between each two of them that are both
    members of one alliance that day, an edge carrying those alliances; only the alliances with
    ``obligation`` (a key of :data:`OBLIGATIONS`; None: every alliance), only ``alliance`` when
    given, and only the states of ``region`` (their ``ald:region``) when given."""
    states = None
    if region is not None:
        found = kb.match([ox.NamedNode(region)], [ox.NamedNode(str(ALD.region))], incoming=True, graphs=kb.graphs())
        states = sorted({q.subject.value for q in found})
    alliances = [alliance] if alliance is not None else None
    rows = _active(kb, day, states=states, alliances=alliances, obligation=obligation) if states != [] else []
    out = _graph(kb, day, rows, None)
    out["obligation"] = obligation or ANY_OBLIGATION
    named = labels(kb, [x for x in (alliance, region) if x])
    out["alliance"] = _ref(alliance, named) if alliance else None
    out["region"] = _ref(region, named) if region else None
    return out


def ego_network(
    kb: KnowledgeBase, state: str, day: dt.date, obligation: str | None = DEFAULT_OBLIGATION
) -> dict[str, Any]:
    """``state`` and its allies on ``day`` (the states that shared an alliance with it, with
    ``obligation`` when given), an edge from it to each carrying the alliances they shared."""
    values = f"{_values('?day', [date_term(day)])} {_values('?ego', [ox.NamedNode(state)])}"
    ego = [r["alliance"] for r in kb.select(EGO_ALLIANCES.format(values=values))]
    rows = _active(kb, day, alliances=ego, obligation=obligation) if ego else []
    keep = {r["state"] for r in rows} | {state}
    out = _graph(kb, day, rows, keep, centre=state)
    out["state"] = _ref(state, name_on(kb, [state], day))
    out["obligation"] = obligation or ANY_OBLIGATION
    return out


def span(kb: KnowledgeBase) -> tuple[str | None, str | None]:
    """The earliest start date of a membership and the latest date (start or end) any holds."""
    rows = kb.select(SPAN)
    return (rows[0]["first"], rows[0]["latest"]) if rows else (None, None)


def by_decade(kb: KnowledgeBase) -> dict[str, Any]:
    """The alliances founded in each decade, counted per type (a subclass of ``ald:Alliance``,
    asserted or derived; one alliance counts once under each of its types); alliances without a
    founding date are counted apart."""
    rows = kb.select(BY_DECADE)
    types = sorted({r["type"] for r in rows})
    named = labels(kb, types)
    decades = sorted({int(r["decade"]) for r in rows})
    counts = {(int(r["decade"]), r["type"]): int(r["n"]) for r in rows}
    undated = kb.select(UNDATED)
    return {
        "types": [{"iri": t, "id": t.rsplit("#", 1)[-1], "label": named.get(t)} for t in types],
        "decades": [
            {"decade": d, "counts": {t.rsplit("#", 1)[-1]: counts[(d, t)] for t in types if (d, t) in counts}}
            for d in decades
        ],
        "undated": int(undated[0]["n"]) if undated else 0,
    }


__all__ = ["OBLIGATIONS", "by_decade", "ego_network", "network", "span", "timeline", "with_obligation"]
