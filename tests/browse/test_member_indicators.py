"""An alliance's indicator summary: the latest year in which one of its members (a member that year)
has an observation, read year by year from the latest."""

from __future__ import annotations

import pyoxigraph as ox

from allianceld.browse import alliance_record, indicators
from allianceld.store import KnowledgeBase
from allianceld.vocab import ID_BASE

QB = "http://purl.org/linked-data/cube#"
ALD = "https://w3id.org/allianceld/ontology#"
STATE = ID_BASE + "state/tst"
OTHER = ID_BASE + "state/oth"


def _store(observed: dict[tuple[str, int], str]) -> KnowledgeBase:
    lines = []
    for (state, year), share in observed.items():
        obs = f"<{ID_BASE}observation/{state.rsplit('/', 1)[-1]}-{year}>"
        lines.append(
            f"{obs} <{QB}dataSet> <{indicators.DATASET}> ; <{ALD}refState> <{state}> ; "
            f"<{ALD}refYear> <{indicators.YEAR_BASE}{year}> ; "
            f'<{ALD}defenceExpenditureShareOfGDP> "{share}"^^<http://www.w3.org/2001/XMLSchema#decimal> .'
        )
    kb = KnowledgeBase()
    triples = [q.triple for q in ox.parse("\n".join(lines).encode(), format=ox.RdfFormat.TURTLE)]
    kb.replace_graphs({"https://w3id.org/allianceld/graph/data/indicators": triples})
    return kb


def _membership(state: str, start: str, end: str | None) -> dict[str, str | None]:
    return {"state": state, "start": start, "end": end}


def test_the_latest_year_a_member_was_observed_is_summed_up() -> None:
    kb = _store({(STATE, 2019): "2.5", (STATE, 2020): "1.5", (STATE, 2023): "3.0", (OTHER, 2024): "2.1"})
    # a member from 2015 to 2021: its 2023 figure is not a member's; the other state is not a member
    found = alliance_record.member_indicators(kb, [_membership(STATE, "2015-01-01", "2021-06-30")])
    assert found is not None and found["year"] == 2020
    assert found["observed"] == 1 and found["meetingGuideline"] == 0 and found["meeting"] == []


def test_no_member_observed_in_a_year_of_membership_gives_none() -> None:
    kb = _store({(STATE, 2010): "2.5", (OTHER, 2020): "2.5"})
    assert alliance_record.member_indicators(kb, [_membership(STATE, "2015-01-01", None)]) is None
    assert alliance_record.member_indicators(kb, []) is None


def test_years_are_read_latest_first_and_only_of_the_states_asked() -> None:
    kb = _store({(STATE, 2019): "2.5", (STATE, 2020): "1.5", (OTHER, 2024): "2.1"})
    assert indicators.years(kb) == [2024, 2020, 2019]
    assert indicators.years(kb, states=[STATE]) == [2020, 2019]
    assert indicators.years(kb, states=[]) == []
