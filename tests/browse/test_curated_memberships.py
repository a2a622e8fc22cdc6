"""The curated memberships through time: the 1992 Collective Security Treaty's parties, Uzbekistan's
suspension from the CSTO, the Quad's founding and revival, and the stated basis of every start date."""

from __future__ import annotations

from allianceld.store import KnowledgeBase
from allianceld.vocab import data_graph_iri

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"


def parties_on(kb: KnowledgeBase, alliance: str, day: str) -> set[str]:
    """The members of an alliance on a day: begun by then and not ended before it (end date included)."""
    rows = kb.select(
        f"""SELECT ?state WHERE {{
          ?m org:organization <{ID}alliance/{alliance}> ; org:member ?state ; ald:startDate ?start .
          OPTIONAL {{ ?m ald:endDate ?end }}
          FILTER(?start <= "{day}"^^xsd:date && (!BOUND(?end) || ?end >= "{day}"^^xsd:date))
        }}""",
        inference=False,
    )
    return {r["state"].rsplit("/", 1)[1] for r in rows}


def test_parties_of_the_collective_security_treaty_on_1995_01_01(shared_kb: KnowledgeBase) -> None:
    nine = {"arm", "aze", "blr", "geo", "kaz", "kgz", "rus", "tjk", "uzb"}
    assert parties_on(shared_kb, "collective-security-treaty", "1995-01-01") == nine
    # not in force before 20 April 1994; Azerbaijan, Georgia and Uzbekistan left when its first term expired
    assert parties_on(shared_kb, "collective-security-treaty", "1994-04-19") == set()
    assert parties_on(shared_kb, "collective-security-treaty", "1999-04-20") == nine
    assert parties_on(shared_kb, "collective-security-treaty", "1999-04-21") == nine - {"aze", "geo", "uzb"}
    rows = shared_kb.select(
        f"""SELECT ?treaty WHERE {{ <{ID}alliance/collective-security-treaty> ald:foundingTreaty ?treaty ;
              ald:foundingDate "1992-05-15"^^xsd:date }}"""
    )
    assert rows == [{"treaty": ID + "treaty/collective-security-treaty"}]


def test_uzbekistan_is_suspended_from_the_csto_not_ended(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select(
        f"""SELECT ?role ?start ?end WHERE {{
          ?m org:organization <{ID}alliance/csto> ; org:member <{ID}state/uzb> ; org:role ?role ;
             ald:startDate ?start .
          OPTIONAL {{ ?m ald:endDate ?end }}
        }} ORDER BY ?start""",
        inference=False,
    )
    assert rows == [
        {"role": ALD + "Member", "start": "2006-08-16", "end": "2012-12-18"},
        {"role": ALD + "Suspended", "start": "2012-12-19", "end": None},
    ]
    # the six others are members from the Charter's entry into force
    assert parties_on(shared_kb, "csto", "2003-09-17") == set()
    assert parties_on(shared_kb, "csto", "2003-09-18") == {"arm", "blr", "kaz", "kgz", "rus", "tjk"}


def test_the_quad_was_founded_in_2007_and_revived_in_2017(shared_kb: KnowledgeBase) -> None:
    founded = shared_kb.select(
        f"""SELECT ?day ?precision WHERE {{
          <{ID}alliance/quad> ald:foundingDate ?day ; ald:foundingDatePrecision ?precision }}"""
    )
    assert founded == [{"day": "2007-01-01", "precision": ALD + "YearPrecision"}]
    rows = shared_kb.select(
        f"""SELECT ?year ?role (COUNT(?m) AS ?n) WHERE {{
          ?m org:organization <{ID}alliance/quad> ; org:role ?role ; ald:startDate ?start .
          BIND(YEAR(?start) AS ?year)
        }} GROUP BY ?year ?role ORDER BY ?year""",
        inference=False,
    )
    assert rows == [
        {"year": "2007", "role": ALD + "FoundingMember", "n": "4"},
        {"year": "2017", "role": ALD + "Member", "n": "4"},
    ]


def test_every_curated_membership_states_its_start_basis(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select(
        f"""SELECT ?m ?basis WHERE {{
          GRAPH ?g {{ ?m a org:Membership }}
          FILTER(STRSTARTS(STR(?g), "{data_graph_iri("")}"))
          OPTIONAL {{ ?m ald:startDateBasis ?basis }}
        }}""",
        inference=False,
    )
    assert len(rows) >= 85
    missing = sorted(r["m"] for r in rows if r["basis"] is None)
    assert missing == []
    # the policy: entry into force wherever a treaty is in force (NATO, US-Japan, the CSTO, the 1992 treaty)
    by_alliance = shared_kb.select(
        """SELECT DISTINCT ?alliance ?basis WHERE {
          ?m org:organization ?alliance ; ald:startDateBasis ?basis ; org:role ?role .
          FILTER(?role != ald:Suspended)
        }""",
        inference=False,
    )
    bases: dict[str, set[str]] = {}
    for r in by_alliance:
        bases.setdefault(r["alliance"].rsplit("/", 1)[1], set()).add(r["basis"].rsplit("#", 1)[1])
    for alliance in ("nato", "us-japan-alliance", "collective-security-treaty", "gcc"):
        assert bases[alliance] == {"EntryIntoForce"}, alliance
    assert bases["csto"] == {"EntryIntoForce", "Signature"}  # Uzbekistan's 2006 protocol: signature only known
    assert bases["quad"] == bases["admm-plus"] == {"FirstMeeting"}
