"""NATO members' defence expenditure as a share of GDP: the observations of the RDF Data Cube data set
``id:indicator/nato-defence-expenditure``, by state and year, each with its status (estimate or
not), its report, and whether the state was a member of NATO in that year. Every value reaches the
store as an RDF term in a VALUES block, never as text pasted into a query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from allianceld.browse.describe import labels, local_path
from allianceld.store import KnowledgeBase
from allianceld.vocab import ID_BASE

DATASET = ID_BASE + "indicator/nato-defence-expenditure"
NATO = ID_BASE + "alliance/nato"
#: the reference periods of the observations (ald:refYear), as in the Data Cube recommendation
YEAR_BASE = "http://reference.data.gov.uk/id/year/"
#: the share of GDP the Allies pledged at the Wales Summit (2014) to move towards within a decade
GUIDELINE = Decimal(2)
ESTIMATE = "http://purl.org/linked-data/sdmx/2009/code#obsStatus-E"

OBSERVATIONS = """
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
SELECT ?state ?period ?share ?status ?report WHERE {{
  {values}
  ?obs qb:dataSet ?set ; ald:refState ?state ; ald:refYear ?period ; ald:defenceExpenditureShareOfGDP ?share .
  OPTIONAL {{ ?obs sdmx-attribute:obsStatus ?status }}
  OPTIONAL {{ ?obs prov:wasDerivedFrom ?report }}
}}
"""
YEARS = """
PREFIX qb: <http://purl.org/linked-data/cube#>
SELECT DISTINCT ?period WHERE {{
  {values}
  ?obs qb:dataSet ?set ; ald:refState ?state ; ald:refYear ?period ; ald:defenceExpenditureShareOfGDP ?share .
}}
"""
# the NATO memberships of the states observed: when each began and ended
MEMBERSHIPS = """
SELECT ?state ?start ?end WHERE {{
  {values}
  ?m org:organization ?alliance ; org:member ?state ; ald:startDate ?start .
  OPTIONAL {{ ?m ald:endDate ?end }}
}}
"""


@dataclass(frozen=True)
class Observation:
    """One state's share of GDP in one year, as one report gives it."""

    state: str
    year: int
    share: Decimal
    estimate: bool
    report: str | None
    member: bool


def _values(var: str, terms: list[ox.Term]) -> str:
    return f"VALUES {var} {{ {' '.join(str(t) for t in terms)} }}"


def _selection(states: Iterable[str] | None, year: int | None) -> str | None:
    """The VALUES blocks that choose the data set's observations: of ``states`` (all when None) and of
    ``year`` (all when None); None when ``states`` is empty (no observation is chosen)."""
    values = [_values("?set", [ox.NamedNode(DATASET)])]
    if states is not None:
        chosen = sorted(set(states))
        if not chosen:
            return None
        values.append(_values("?state", [ox.NamedNode(s) for s in chosen]))
    if year is not None:
        values.append(_values("?period", [ox.NamedNode(f"{YEAR_BASE}{year}")]))
    return " ".join(values)


def _member_years(kb: KnowledgeBase, states: set[str]) -> dict[str, list[tuple[int, int | None]]]:
    """For each state, the years its NATO memberships began and ended (None: not ended)."""
    if not states:
        return {}
    values = _values("?alliance", [ox.NamedNode(NATO)]) + " " + _values("?state", [ox.NamedNode(s) for s in states])
    spans: dict[str, list[tuple[int, int | None]]] = {}
    for r in kb.select(MEMBERSHIPS.format(values=values)):
        end = int(r["end"][:4]) if r["end"] else None
        spans.setdefault(r["state"], []).append((int(r["start"][:4]), end))
    return spans


def observations(
    kb: KnowledgeBase,
    state: str | None = None,
    year: int | None = None,
    *,
    states: Iterable[str] | None = None,
    membership: bool = True,
) -> list[Observation]:
    """The data set's observations, of one state (or of ``states``) and one year when given, by year
    then highest share. When a state and year have several (which the shapes refuse), the first read is
    kept. ``membership=False`` leaves the NATO memberships unread (every ``member`` is False)."""
    values = _selection([state] if state is not None else states, year)
    if values is None:
        return []
    rows = kb.select(OBSERVATIONS.format(values=values))
    spans = _member_years(kb, {r["state"] for r in rows}) if membership else {}
    found: dict[tuple[str, int], Observation] = {}
    for r in rows:
        period = r["period"].removeprefix(YEAR_BASE)
        if not period.isdigit():
            continue
        y = int(period)
        member = any(start <= y and (end is None or end >= y) for start, end in spans.get(r["state"], []))
        obs = Observation(r["state"], y, Decimal(r["share"]), r["status"] == ESTIMATE, r["report"], member)
        found.setdefault((obs.state, obs.year), obs)
    return sorted(found.values(), key=lambda o: (o.year, -o.share, o.state))


def years(kb: KnowledgeBase, *, states: Iterable[str] | None = None) -> list[int]:
    """The years the data set has observations for (of ``states`` when given), the latest first."""
    values = _selection(states, None)
    if values is None:
        return []
    rows = kb.select(YEARS.format(values=values))
    found = {int(p) for r in rows if (p := r["period"].removeprefix(YEAR_BASE)).isdigit()}
    return sorted(found, reverse=True)


def defence_expenditure(kb: KnowledgeBase, state: str | None = None, year: int | None = None) -> dict[str, Any]:
    """The JSON of the series: the data set, the guideline, the years it has figures for, and the
    observations (of ``state`` and ``year`` when given), each with the state's label and page, the
    report's title, and whether the share meets the guideline."""
    chosen = observations(kb, state, year)
    every = sorted(years(kb)) if state is not None or year is not None else None
    named = labels(kb, [DATASET, *(o.state for o in chosen), *(o.report for o in chosen if o.report)])
    return {
        "dataset": DATASET,
        "label": named.get(DATASET),
        "unit": "percent of GDP",
        "guideline": float(GUIDELINE),
        "years": every if every is not None else sorted({o.year for o in chosen}),
        "state": state,
        "year": year,
        "observations": [
            {
                "state": o.state,
                "stateLabel": named.get(o.state),
                "url": local_path(o.state),
                "year": o.year,
                "share": float(o.share),
                "meetsGuideline": o.share >= GUIDELINE,
                "estimate": o.estimate,
                "member": o.member,
                "report": o.report,
                "reportTitle": named.get(o.report) if o.report else None,
            }
            for o in chosen
        ],
    }


__all__ = ["DATASET", "GUIDELINE", "Observation", "defence_expenditure", "observations"]
