"""The curated data: the facts the README promises, identity links, provenance."""

from __future__ import annotations

import pytest

from allianceld.store import KnowledgeBase

ID = "https://w3id.org/allianceld/id/"


def members_on(kb: KnowledgeBase, alliance: str, day: str) -> set[str]:
    rows = kb.select(
        f"""SELECT ?state WHERE {{
          ?m org:organization <{ID}alliance/{alliance}> ; org:member ?state ; ald:startDate ?start .
          OPTIONAL {{ ?m ald:endDate ?end }}
          FILTER(?start <= "{day}"^^xsd:date && (!BOUND(?end) || ?end > "{day}"^^xsd:date))
        }}""",
        inference=False,
    )
    return {r["state"].rsplit("/", 1)[1] for r in rows}


def test_nato_has_32_members_today(shared_kb: KnowledgeBase) -> None:
    assert len(members_on(shared_kb, "nato", "2026-01-01")) == 32


@pytest.mark.parametrize(
    ("day", "count", "newest"),
    [
        ("1949-12-31", 12, "usa"),
        ("1990-01-01", 16, "esp"),
        ("2004-03-29", 26, "svn"),
        ("2023-04-04", 31, "fin"),
        ("2024-03-07", 32, "swe"),
    ],
)
def test_nato_enlargements(shared_kb: KnowledgeBase, day: str, count: int, newest: str) -> None:
    members = members_on(shared_kb, "nato", day)
    assert len(members) == count
    assert newest in members


def test_gcc_has_six_founding_members(shared_kb: KnowledgeBase) -> None:
    assert members_on(shared_kb, "gcc", "1981-05-25") == {"bhr", "kwt", "omn", "qat", "sau", "are"}


def test_us_japan_alliance_is_bilateral(shared_kb: KnowledgeBase) -> None:
    assert members_on(shared_kb, "us-japan-alliance", "2000-01-01") == {"usa", "jpn"}


def test_every_record_cites_a_described_source(shared_kb: KnowledgeBase) -> None:
    uncited = shared_kb.select(
        """SELECT ?x WHERE {
          { ?x a ald:State } UNION { ?x a ald:Alliance } UNION { ?x a ald:Treaty } UNION { ?x a org:Membership }
          FILTER NOT EXISTS { ?x prov:wasDerivedFrom ?src . ?src dcterms:title ?t }
        }""",
    )
    assert uncited == []


def test_states_have_iso_codes_matching_their_iri(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select("SELECT ?s ?a3 WHERE { ?s a ald:State ; ald:iso3166Alpha3 ?a3 }")
    assert len(rows) >= 40
    for r in rows:
        assert r["s"] == f"{ID}state/{r['a3'].lower()}"


def test_emerging_powers(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select("SELECT ?s WHERE { ?s a ald:EmergingPower }", inference=False)
    assert {r["s"].rsplit("/", 1)[1] for r in rows} >= {"ind", "bra", "zaf"}


def test_treaty_and_organisation_are_separate_resources(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select(
        f"""SELECT ?signed ?inforce ?founded WHERE {{
          <{ID}alliance/nato> ald:foundingTreaty ?t ; ald:foundingDate ?founded .
          ?t ald:signingDate ?signed ; ald:entryIntoForceDate ?inforce ; ald:hasProvision ?p .
          ?p a ald:DefenceProvision ; ald:article "Article 5" .
        }}"""
    )
    assert rows and rows[0]["signed"] == "1949-04-04" and rows[0]["inforce"] == "1949-08-24"


def test_csto_organisation_and_treaty_have_their_own_dates(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select(
        f"""SELECT ?founded ?signed WHERE {{
          <{ID}alliance/csto> ald:foundingDate ?founded ; ald:foundingTreaty ?t .
          ?t ald:signingDate ?signed }}"""
    )
    assert rows == [{"founded": "2002-10-07", "signed": "1992-05-15"}]
    assert members_on(shared_kb, "csto", "2010-01-01") == {"arm", "blr", "kaz", "kgz", "rus", "tjk", "uzb"}
    assert "uzb" in members_on(shared_kb, "csto", "2020-01-01")  # suspended since 2012, not ended


def test_collective_defence_alliances_are_derived(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select("SELECT ?a WHERE { ?a a ald:CollectiveDefenceAlliance }")
    derived = {r["a"].rsplit("/", 1)[1] for r in rows}
    assert {"nato", "csto"} <= derived
    assert "quad" not in derived
    asserted = shared_kb.select("SELECT ?a WHERE { ?a a ald:CollectiveDefenceAlliance }", inference=False)
    assert asserted == []
