"""The events, exercises and claims in the shipped data, asked through /sparql: the documented questions
(docs/queries/what-happened-to-an-alliance-between-two-dates.rq, exercises-of-two-states.rq) answer with the
known rows, accessions are linked to the memberships they start, and sources that disagree are both kept."""

from __future__ import annotations

import re

from browse.docs_queries import QUERIES, bindings, query_text

PREFIXES = """PREFIX ald: <https://w3id.org/allianceld/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


def _select(client, query: str) -> list[dict[str, str]]:
    return [
        {k: " ".join(re.split("[/#]", w)[-1] for w in v.split(" ")) for k, v in row.items()}
        for row in bindings(client, query)
    ]


def _rows(client, name: str, replace: tuple[str, str] | None = None) -> list[dict[str, str]]:
    assert (QUERIES / f"{name}.rq").read_text(encoding="utf-8").startswith("# Title: ")
    return _select(client, query_text(name, replace))


def test_what_happened_to_the_csto_between_2020_and_2024(client) -> None:
    rows = _rows(client, "what-happened-to-an-alliance-between-two-dates")
    assert [(r["day"], r["kind"], r["what"]) for r in rows] == [
        ("2021-10-18", "military exercise", "csto-combat-brotherhood-2021"),
        ("2022-01-06", "invocation of the defence clause", "csto-kazakhstan-2022"),
        ("2024-02-22", "freeze", "csto-armenia-freeze-2024"),
    ]


def test_what_happened_to_the_quad_from_its_founding_to_its_revival(client) -> None:
    replace = (
        'alliance/csto> "2020-01-01"^^xsd:date "2024-12-31"',
        'alliance/quad> "2007-01-01"^^xsd:date "2017-12-31"',
    )
    rows = _rows(client, "what-happened-to-an-alliance-between-two-dates", replace)
    assert [(r["day"], r["kind"], r.get("precision")) for r in rows] == [
        ("2007-01-01", "founding", "YearPrecision"),
        ("2007-09-04", "military exercise", None),
        ("2008-01-01", "lapse", "YearPrecision"),
        ("2017-11-12", "revival", None),
    ]


def test_exercises_india_and_japan_both_took_part_in(client) -> None:
    rows = _rows(client, "exercises-of-two-states")
    assert [r["exercise"] for r in rows] == [
        "malabar-2007",
        "admm-plus-hadr-mm-exercise-2013",  # through their ADMM-Plus membership
        "malabar-2015",
        "malabar-2016",
        "admm-plus-mm-hadr-exercise-2016",
        "malabar-2020",
        "malabar-2021",
        "malabar-2022",
        "malabar-2023",
        "malabar-2024",
    ]
    assert set(rows[0]["alliances"].split()) == {"quad", "us-india-partnership"}


def test_frances_withdrawal_from_natos_integrated_command_and_its_return_are_known_to_the_day(client) -> None:
    replace = (
        'alliance/csto> "2020-01-01"^^xsd:date "2024-12-31"',
        'alliance/nato> "1966-01-01"^^xsd:date "2009-12-31"',
    )
    rows = _rows(client, "what-happened-to-an-alliance-between-two-dates", replace)
    france = [(r["day"], r["kind"], r.get("precision")) for r in rows if "france" in r["what"]]
    assert france == [("1966-07-01", "partial withdrawal", None), ("2009-04-04", "reintegration", None)]


def test_exercise_days_the_sources_give(client) -> None:
    rows = _select(
        client,
        PREFIXES
        + """SELECT ?what ?start ?end ?precision WHERE {
            VALUES ?what { <https://w3id.org/allianceld/id/activity/steadfast-defender-2024>
                <https://w3id.org/allianceld/id/activity/gcc-peninsula-shield-2013>
                <https://w3id.org/allianceld/id/activity/gcc-arab-gulf-security-3>
                <https://w3id.org/allianceld/id/activity/malabar-2015>
                <https://w3id.org/allianceld/id/activity/malabar-2021>
                <https://w3id.org/allianceld/id/activity/malabar-2022> }
            ?what ald:startDate ?start .
            OPTIONAL { ?what ald:endDate ?end } OPTIONAL { ?what ald:startDatePrecision ?precision }
        } ORDER BY ?start""",
    )
    assert rows == [
        {"what": "gcc-peninsula-shield-2013", "start": "2013-02-10"},  # its last day: the sources disagree
        {"what": "malabar-2015", "start": "2015-10-14"},  # its last day: 19 or 21 October
        {"what": "malabar-2021", "start": "2021-08-26", "end": "2021-10-15"},  # two phases
        {"what": "gcc-arab-gulf-security-3", "start": "2022-01-15"},
        {"what": "malabar-2022", "start": "2022-11-08", "end": "2022-11-15"},
        {"what": "steadfast-defender-2024", "start": "2024-01-24", "end": "2024-05-31"},
    ]
    quad = "SELECT ?what WHERE { <https://w3id.org/allianceld/id/alliance/quad> ald:cooperationActivity ?what }"
    quads = {r["what"] for r in _select(client, PREFIXES + quad)}
    assert "malabar-2021" in quads and "malabar-2015" not in quads  # Australia took part in 2021, not in 2015


def test_exercises_of_the_united_states_and_japan_include_keen_sword(client) -> None:
    replace = (
        "state/ind> <https://w3id.org/allianceld/id/state/jpn>",
        "state/usa> <https://w3id.org/allianceld/id/state/jpn>",
    )
    exercises = [r["exercise"] for r in _rows(client, "exercises-of-two-states", replace)]
    assert {"keen-sword-17", "keen-sword-25", "malabar-2016"} <= set(exercises)
    # Sweden took part in Trident Juncture 2018 as a partner, the United States as a member of NATO
    replace = (
        "state/ind> <https://w3id.org/allianceld/id/state/jpn>",
        "state/swe> <https://w3id.org/allianceld/id/state/usa>",
    )
    exercises = [r["exercise"] for r in _rows(client, "exercises-of-two-states", replace)]
    assert exercises == ["trident-juncture-2018", "steadfast-defender-2024"]


def test_every_later_nato_member_has_the_accession_that_started_its_membership(client) -> None:
    rows = _select(
        client,
        PREFIXES
        + """SELECT ?m ?e ?day ?joined WHERE {
            ?m org:organization <https://w3id.org/allianceld/id/alliance/nato> ; org:role ald:Member ;
               ald:startDate ?joined .
            OPTIONAL { ?e ald:startsMembership ?m ; ald:eventType ald:Accession ; ald:startDate ?day }
        }""",
    )
    assert len(rows) == 20
    assert all(r.get("e") and r["day"] == r["joined"] for r in rows), rows


def test_two_sources_that_disagree_on_the_quads_lapse_are_both_kept(client) -> None:
    rows = _select(
        client,
        PREFIXES
        + """SELECT ?claim ?source WHERE {
            ?claim a ald:Claim ; ald:alliance <https://w3id.org/allianceld/id/alliance/quad> ;
                   ald:evidence <https://w3id.org/allianceld/id/event/quad-lapse> ; prov:wasDerivedFrom ?source .
        } ORDER BY ?claim""",
    )
    assert [r["claim"] for r in rows] == ["quad-lapse-lowy", "quad-lapse-rudd"]
    assert len({r["source"] for r in rows}) == 2


def test_the_wales_pledge_is_the_evidence_of_nato_burden_sharing(client) -> None:
    rows = _select(
        client,
        PREFIXES
        + """SELECT ?claim ?challenge WHERE {
            ?claim ald:alliance <https://w3id.org/allianceld/id/alliance/nato> ; ald:claimsChallenge ?challenge ;
                   ald:evidence <https://w3id.org/allianceld/id/commitment/nato-defence-investment-pledge-2014> .
        }""",
    )
    assert rows == [{"claim": "nato-burden-sharing-2014", "challenge": "CapabilityDisparity"}]
