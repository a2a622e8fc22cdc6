"""What an alliance did and what is said of it: its events (``ald:AllianceEvent``), its exercises
(``ald:MilitaryExercise``, its ``ald:cooperationActivity``), the claims of its benefits and challenges
(``ald:Claim``) and, when its members have indicator observations, how many met NATO's 2% guideline
in the latest year. Each list is sorted by date and read a page at a time; every value reaches the
store as an RDF term in a VALUES block or through the indexes, never as text pasted into a query."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyoxigraph as ox

from allianceld.browse import indicators
from allianceld.browse.describe import labels, local_path, memberships
from allianceld.browse.listings import precision_name
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, DCTERMS, ORG, PROV

#: at most this many events, exercises or claims on one page of an alliance
PAGE_SIZE = 50
#: the chart of the indicator (defence expenditure as a share of GDP)
CHART = "/charts/defence-expenditure"

# the resources of one kind linked to the alliance, with their first day (for the order)
EVENTS = """
SELECT DISTINCT ?x ?start WHERE {{
  {values}
  ?x ald:alliance ?alliance ; a ald:AllianceEvent .
  OPTIONAL {{ ?x ald:startDate ?start }}
}}
"""
EXERCISES = """
SELECT DISTINCT ?x ?start WHERE {{
  {values}
  ?alliance ald:cooperationActivity ?x . ?x a ald:MilitaryExercise .
  OPTIONAL {{ ?x ald:startDate ?start }}
}}
"""
CLAIMS = """
SELECT DISTINCT ?x ?start WHERE {{
  {values}
  ?x ald:alliance ?alliance ; a ald:Claim .
  OPTIONAL {{ ?x ald:startDate ?start }}
}}
"""
KINDS = {"events": EVENTS, "exercises": EXERCISES, "claims": CLAIMS}

P = {
    name: ox.NamedNode(iri)
    for name, iri in {
        "type": ALD.eventType,
        "start": ALD.startDate,
        "startPrecision": ALD.startDatePrecision,
        "end": ALD.endDate,
        "endPrecision": ALD.endDatePrecision,
        "state": ALD.stateInvolved,
        "participant": ALD.participant,
        "startsMembership": ALD.startsMembership,
        "endsMembership": ALD.endsMembership,
        "commitment": ALD.commitment,
        "resultingOrganization": ORG.resultingOrganization,
        "benefit": ALD.claimsBenefit,
        "challenge": ALD.claimsChallenge,
        "evidence": ALD.evidence,
        "evidenceText": ALD.evidenceText,
        "description": DCTERMS.description,
        "source": PROV.wasDerivedFrom,
    }.items()
}
#: what an event changed, in the order shown
CHANGES = ("startsMembership", "endsMembership", "resultingOrganization", "commitment")


def _ref(iri: str, named: dict[str, str]) -> dict[str, Any]:
    """An IRI with its label and where to follow it (here, or out for a source)."""
    return {"iri": iri, "label": named.get(iri), "url": local_path(iri) or iri}


def _ids(kb: KnowledgeBase, kind: str, alliance: str) -> list[str]:
    """The resources of ``kind`` (a key of :data:`KINDS`) of ``alliance``, by first day (undated last)."""
    values = f"VALUES ?alliance {{ {ox.NamedNode(alliance)} }}"
    firsts: dict[str, str] = {}
    for r in kb.select(KINDS[kind].format(values=values)):
        firsts[r["x"]] = min(firsts.get(r["x"]) or "9999", r["start"] or "9999")
    return sorted(firsts, key=lambda x: (firsts[x], x))


def _values_of(kb: KnowledgeBase, nodes: list[str]) -> dict[str, dict[str, list[ox.Term]]]:
    """Per resource, per short name of :data:`P`, its values (read by the indexes, in all graphs)."""
    if not nodes:
        return {}
    name = {p: n for n, p in P.items()}
    out: dict[str, dict[str, list[ox.Term]]] = defaultdict(lambda: defaultdict(list))
    for q in kb.match([ox.NamedNode(n) for n in nodes], list(P.values()), graphs=kb.graphs()):
        values = out[q.subject.value][name[q.predicate]]
        if q.object not in values:
            values.append(q.object)
    return out


def _first(values: list[ox.Term]) -> str | None:
    """The first value, an English one when there is one (a date, a precision, a text)."""
    ranked = sorted(values, key=lambda v: 0 if isinstance(v, ox.Literal) and (v.language or "en") == "en" else 1)
    return ranked[0].value if ranked else None


def _iris(values: list[ox.Term]) -> list[str]:
    return sorted(v.value for v in values if isinstance(v, ox.NamedNode))


def _dates(v: dict[str, list[ox.Term]]) -> dict[str, Any]:
    return {
        "start": _first(v["start"]),
        "startPrecision": precision_name(_first(v["startPrecision"])),
        "end": _first(v["end"]),
        "endPrecision": precision_name(_first(v["endPrecision"])),
    }


def _page(kb: KnowledgeBase, kind: str, alliance: str, offset: int, limit: int | None) -> tuple[list[str], int, dict]:
    """The ids of one page of ``kind``, the total, and their values."""
    ids = _ids(kb, kind, alliance)
    chosen = ids[offset : offset + limit] if limit is not None else ids[offset:]
    return chosen, len(ids), _values_of(kb, chosen)


def _named(kb: KnowledgeBase, chosen: list[str], values: dict, keys: tuple[str, ...]) -> dict[str, str]:
    return labels(kb, [*chosen, *(i for x in chosen for k in keys for i in _iris(values[x][k]))])


def _listed(items: list[dict[str, Any]], total: int, offset: int, limit: int | None) -> dict[str, Any]:
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def linked(page: dict[str, Any], kind: str, path: str) -> dict[str, Any]:
    """``page`` (its ``total``, ``offset`` and ``limit``) with the URLs of the pages before and after it
    on ``path`` (``previous``, ``next``; None at either end), by the parameter ``<kind>_offset``."""
    at, size = page["offset"], page["limit"]
    page["previous"] = f"{path}?{kind}_offset={max(at - size, 0)}#{kind}" if at > 0 else None
    page["next"] = f"{path}?{kind}_offset={at + size}#{kind}" if at + size < page["total"] else None
    return page


def events(kb: KnowledgeBase, alliance: str, *, offset: int = 0, limit: int | None = PAGE_SIZE) -> dict[str, Any]:
    """The events of ``alliance`` by date, ``limit`` from ``offset`` (None: all): each with its
    label, type, dates and their precision, the states involved, what it changed (the memberships it
    started or ended, the organisation it resulted in, the commitments made), its description and sources."""
    chosen, total, values = _page(kb, "events", alliance, offset, limit)
    keys = ("type", "state", "source", *CHANGES)
    named = _named(kb, chosen, values, keys)
    items = []
    for x in chosen:
        v = values[x]
        kind = _iris(v["type"])
        items.append(
            {
                **_ref(x, named),
                "type": _ref(kind[0], named) if kind else None,
                **_dates(v),
                "states": [_ref(s, named) for s in _iris(v["state"])],
                "changed": [{"how": how, **_ref(i, named)} for how in CHANGES for i in _iris(v[how])],
                "description": _first(v["description"]),
                "sources": [_ref(s, named) for s in _iris(v["source"])],
            }
        )
    return _listed(items, total, offset, limit)


def exercises(kb: KnowledgeBase, alliance: str, *, offset: int = 0, limit: int | None = PAGE_SIZE) -> dict[str, Any]:
    """The exercises of ``alliance`` by first day: each with its label, dates and their precision,
    participants, description and sources."""
    chosen, total, values = _page(kb, "exercises", alliance, offset, limit)
    named = _named(kb, chosen, values, ("participant", "source"))
    items = [
        {
            **_ref(x, named),
            **_dates(values[x]),
            "participants": [_ref(s, named) for s in _iris(values[x]["participant"])],
            "description": _first(values[x]["description"]),
            "sources": [_ref(s, named) for s in _iris(values[x]["source"])],
        }
        for x in chosen
    ]
    return _listed(items, total, offset, limit)


def claims(kb: KnowledgeBase, alliance: str, *, offset: int = 0, limit: int | None = PAGE_SIZE) -> dict[str, Any]:
    """The claims about ``alliance`` by the start of their period: each with the benefit or
    challenge it claims (``kind`` and the concept), its period, its evidence (resources and text) and
    sources. Claims that disagree are each listed."""
    chosen, total, values = _page(kb, "claims", alliance, offset, limit)
    named = _named(kb, chosen, values, ("benefit", "challenge", "evidence", "source"))
    items = []
    for x in chosen:
        v = values[x]
        kind = "benefit" if v["benefit"] else "challenge" if v["challenge"] else None
        concepts = _iris(v[kind]) if kind else []
        items.append(
            {
                **_ref(x, named),
                "kind": kind,
                "concept": _ref(concepts[0], named) if concepts else None,
                **_dates(v),
                "evidence": [_ref(e, named) for e in _iris(v["evidence"])],
                "evidenceText": _first(v["evidenceText"]),
                "sources": [_ref(s, named) for s in _iris(v["source"])],
            }
        )
    return _listed(items, total, offset, limit)


def member_indicators(kb: KnowledgeBase, memberships: list[dict[str, Any]]) -> dict[str, Any] | None:
    """For an alliance with ``memberships`` (:func:`describe.memberships` rows): the latest year in
    which some member that year has a defence expenditure observation, how many members observed that
    year met the 2% guideline, and the chart's URL; None when no member has an observation."""
    spans: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for r in memberships:
        if r["state"] and r["start"]:
            spans[r["state"]].append((int(r["start"][:4]), int(r["end"][:4]) if r["end"] else None))

    def member(o: indicators.Observation) -> bool:
        return any(s <= o.year and (e is None or e >= o.year) for s, e in spans.get(o.state, []))

    that_year: list[indicators.Observation] = []
    for year in indicators.years(kb, states=spans):  # the latest first: usually the only one read
        that_year = [o for o in indicators.observations(kb, year=year, states=spans, membership=False) if member(o)]
        if that_year:
            break
    if not that_year:
        return None
    meeting = sorted(o.state for o in that_year if o.share >= indicators.GUIDELINE)
    named = labels(kb, [indicators.DATASET])
    return {
        "dataset": indicators.DATASET,
        "label": named.get(indicators.DATASET),
        "guideline": float(indicators.GUIDELINE),
        "year": year,
        "observed": len(that_year),
        "meetingGuideline": len(meeting),
        "meeting": meeting,
        "chart": f"{CHART}?year={year}",
    }


def record(
    kb: KnowledgeBase,
    alliance: str,
    offsets: dict[str, int],
    path: str,
    *,
    rows: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What an alliance's page adds to its description: ``events``, ``exercises`` and ``claims`` (one
    page each, from ``offsets[kind]``, with ``previous``/``next`` links on ``path``) and ``indicators``
    (:func:`member_indicators`, or None). ``rows``: the alliance's :func:`memberships`, when the
    caller has them already."""
    out: dict[str, Any] = {}
    for kind, read in (("events", events), ("exercises", exercises), ("claims", claims)):
        at = offsets.get(kind, 0)
        out[kind] = linked(read(kb, alliance, offset=at, limit=PAGE_SIZE), kind, path)
    rows = [r for r in (memberships(kb, alliance) if rows is None else rows) if r["alliance"] == alliance]
    out["indicators"] = member_indicators(kb, rows)
    return out


__all__ = ["CHART", "PAGE_SIZE", "claims", "events", "exercises", "linked", "member_indicators", "record"]
