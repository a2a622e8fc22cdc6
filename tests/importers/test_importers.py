"""ATOP and COW importers: sample files the tests write, the RDF they give, the gate, idempotence,
the command line, and the real files of ../shared/data/external when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from allianceld.cli import main
from allianceld.importers import ImportFailed, ImportRejected, atop, commit_import, cow
from allianceld.store import KnowledgeBase
from allianceld.write.write_policy import WritePolicy

EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"
ID = "https://w3id.org/allianceld/id/"

ALLIANCES = """atopid,cowid,cow4id,begyr,begmo,begday,endyr,endmo,endday,bilat,defense,offense,neutral,nonagg,consul
1100,,,1850,3,,1866,8,23,1,1,0,0,0,1
3180,3521,227,1949,4,4,0,0,0,0,1,0,0,1,1
3500,,,1970,6,12,0,0,0,0,0,0,1,1,0
"""
MEMBERS = """atopid,cowid,cow4id,member,yrent,moent,dayent,yrexit,moexit,dayexit,phase
1100,,,245,1850,3,,1866,8,23,0
1100,,,200,1850,3,,1866,8,23,0
3180,3521,227,2,1949,4,4,0,0,0,1
3180,3521,227,20,1949,4,4,0,0,0,1
3500,,,2,1970,6,12,0,0,0,1
3500,,,135,1970,6,12,1975,1,1,1
3500,,,135,1975,1,1,1980,,,2
3500,,,140,1972,,,0,0,0,2
"""
CROSSWALK = """ccode,stateabb,cow_statenme,iso2c,iso3c,wikidata_qid
2,USA,United States of America,US,USA,Q30
20,CAN,Canada,CA,CAN,Q16
135,PER,Peru,PE,PER,Q419
140,BRA,Brazil,BR,BRA,Q155
200,UKG,United Kingdom,GB,GBR,Q145
245,BAV,Bavaria,,,
"""
DYADS = (
    "version4id,ccode1,state_name1,ccode2,state_name2,dyad_st_day,dyad_st_month,dyad_st_year,"
    "dyad_end_day,dyad_end_month,dyad_end_year,left_censor,right_censor,defense,neutrality,nonaggression,entente,version\n"
    """9,245,Bavaria,200,United Kingdom,1,,1850,23,8,1866,0,0,0,1,1,0,4.1
9,200,United Kingdom,245,Bavaria,1,,1850,23,8,1866,0,0,0,1,1,0,4.1
"""
)
# the member-level layout of FORMATS.md (no real copy here): -9 marks an unknown day, an empty end
# a membership still in force at the data set's end
COW_MEMBERS = (
    "version4id,ccode,state_name,all_st_day,all_st_month,all_st_year,all_end_day,all_end_month,all_end_year,"
    "ss_type,mem_st_day,mem_st_month,mem_st_year,mem_end_day,mem_end_month,mem_end_year,left_censor,right_censor,"
    "defense,neutrality,nonaggression,entente,version\n"
    """12,135,Peru,-9,5,1900,,,,Type I: Defense Pact,-9,5,1900,,,,0,1,1,0,0,0,4.1
12,140,Brazil,-9,5,1900,,,,Type I: Defense Pact,10,6,1901,3,2,1910,0,0,1,0,0,0,4.1
12,200,United Kingdom,-9,5,1900,,,,Type I: Defense Pact,-9,5,1900,,,,0,1,1,0,0,0,4.1
"""
)


def write(tmp_path: Path, **files: str) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        paths.append(path)
    return paths


@pytest.fixture
def sample(tmp_path: Path) -> list[Path]:
    return write(tmp_path, atop5_0a=ALLIANCES, atop5_0m=MEMBERS, crosswalk=CROSSWALK)


def ask(kb: KnowledgeBase, where: str) -> bool:
    return bool(
        kb.query(
            "PREFIX ald: <https://w3id.org/allianceld/ontology#> PREFIX org: <http://www.w3.org/ns/org#> "
            "PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
            f"ASK {{ {where} }}",
            inference=False,
        )
    )


def test_atop_sample_gives_the_ontologys_records(loaded_kb: KnowledgeBase, write_policy: WritePolicy, sample):
    imp = atop.build(loaded_kb, sample)
    commit_import(loaded_kb, write_policy, imp)
    graph = "https://w3id.org/allianceld/graph/import/atop-5.0"
    assert graph in loaded_kb.graphs()
    # a bilateral alliance whose day of signing is unknown: month precision, no signing date invented
    assert ask(
        loaded_kb,
        f"""<{ID}alliance/atop-1100> a ald:BilateralAlliance ; ald:atopId 1100 ;
        ald:foundingDate "1850-03-01"^^<http://www.w3.org/2001/XMLSchema#date> ;
        ald:foundingDatePrecision ald:MonthPrecision ; ald:foundingTreaty ?t .
        ?t ald:hasProvision ?d , ?c . ?d a ald:DefenceProvision . ?c a ald:ConsultationProvision .
        FILTER NOT EXISTS {{ ?t ald:signingDate ?any }}""",
    )
    # the historical state, by its COW letter code; the curated United Kingdom by its COW code
    assert ask(
        loaded_kb,
        f"""<{ID}state/cow-bav> a ald:State ; ald:cowCode 245 ; rdfs:label "Bavaria"@en .
        <{ID}membership/atop-1100-245> org:member <{ID}state/cow-bav> ; org:role ald:FoundingMember ;
            ald:startDatePrecision ald:MonthPrecision ; ald:endDate "1866-08-23"^^xsd:date .
        <{ID}membership/atop-1100-200> org:member <{ID}state/gbr> .""".replace(
            "rdfs:label", "<http://www.w3.org/2000/01/rdf-schema#label>"
        ),
    )
    assert not ask(loaded_kb, f"<{ID}state/cow-bav> ald:iso3166Alpha3 ?x")
    # an uncurated state with ISO codes and its Wikidata link; two phases joined into one membership
    assert ask(
        loaded_kb,
        f"""<{ID}state/per> ald:iso3166Alpha3 "PER" ; owl:sameAs <http://www.wikidata.org/entity/Q419> .
        <{ID}membership/atop-3500-135> ald:startDate "1970-06-12"^^<http://www.w3.org/2001/XMLSchema#date> ;
            ald:endDate "1980-01-01"^^<http://www.w3.org/2001/XMLSchema#date> ; ald:endDatePrecision ald:YearPrecision .
        <{ID}membership/atop-3500-140> org:role ald:Member ; ald:startDatePrecision ald:YearPrecision .
        <{ID}alliance/atop-3500> a ald:MultilateralAlliance .""",
    )
    assert not ask(loaded_kb, f"<{ID}membership/atop-3500-135-2> ?p ?o")
    # NATO is linked, not duplicated: no alliance/atop-3180, no second set of memberships
    assert ask(loaded_kb, f"<{ID}alliance/nato> ald:atopId 3180 ; ald:cowAllianceId 227")
    assert not ask(loaded_kb, f"<{ID}alliance/atop-3180> ?p ?o")
    assert not ask(loaded_kb, "?m org:organization ?a . FILTER(CONTAINS(STR(?m), 'atop-3180'))")
    # provenance: the data set, its version, the files' checksums
    assert ask(
        loaded_kb,
        f"""GRAPH <{graph}> {{ <{graph}> <http://www.w3.org/ns/prov#wasDerivedFrom> <{ID}dataset/atop-5.0> .
        <{ID}dataset/atop-5.0/atop5_0m.csv> ald:sha256 ?sum }}""",
    )
    assert imp.counts["alliances"] == 2 and imp.counts["linked to curated"] == 1 and imp.counts["memberships"] == 5


def test_reimport_changes_nothing(loaded_kb: KnowledgeBase, write_policy: WritePolicy, sample):
    commit_import(loaded_kb, write_policy, atop.build(loaded_kb, sample))
    before = loaded_kb.dump()
    commit_import(loaded_kb, write_policy, atop.build(loaded_kb, sample))
    assert loaded_kb.dump() == before


def test_a_bad_row_is_refused_naming_file_and_line(loaded_kb: KnowledgeBase, write_policy: WritePolicy, tmp_path):
    # Peru leaves (1960) before it joins (1970): the shapes refuse it; the report names line 7
    bad = MEMBERS.replace("3500,,,135,1970,6,12,1975,1,1,1", "3500,,,135,1970,6,12,1960,1,1,1")
    files = write(
        tmp_path, atop5_0a=ALLIANCES, atop5_0m=bad.replace("3500,,,135,1975,1,1,1980,,,2\n", ""), crosswalk=CROSSWALK
    )
    before = loaded_kb.dump()
    with pytest.raises(ImportRejected) as caught:
        commit_import(loaded_kb, write_policy, atop.build(loaded_kb, files))
    assert f"{files[1]}:7: Violation: {ID}membership/atop-3500-135" in caught.value.to_text()
    assert loaded_kb.dump() == before
    # a cell that is not a number
    files = write(
        tmp_path, atop5_0a=ALLIANCES.replace("1850,3,,1866", "18x0,3,,1866"), atop5_0m=MEMBERS, crosswalk=CROSSWALK
    )
    with pytest.raises(ImportFailed, match=r"atop5_0a.csv:2: column 'begyr' is not an integer"):
        atop.build(loaded_kb, files)


def test_cow_dyads(loaded_kb: KnowledgeBase, write_policy: WritePolicy, tmp_path):
    files = write(tmp_path, dyads=DYADS, crosswalk=CROSSWALK)
    imp = cow.build(loaded_kb, files)
    commit_import(loaded_kb, write_policy, imp)
    assert ask(
        loaded_kb,
        f"""<{ID}alliance/cow-9> a ald:BilateralAlliance ; ald:cowAllianceId 9 ;
        ald:foundingDatePrecision ald:YearPrecision ; ald:foundingTreaty ?t .
        ?t ald:hasProvision ?n , ?a . ?n a ald:NeutralityProvision . ?a a ald:NonAggressionProvision .
        <{ID}membership/cow-9-245> org:member <{ID}state/cow-bav> .""",
    )
    assert "https://w3id.org/allianceld/graph/import/cow-4.1" in loaded_kb.graphs()


def test_cow_member_level_file(loaded_kb: KnowledgeBase, write_policy: WritePolicy, tmp_path):
    files = write(tmp_path, alliance_v4_1_by_member=COW_MEMBERS, crosswalk=CROSSWALK)
    imp = cow.build(loaded_kb, files)
    commit_import(loaded_kb, write_policy, imp)
    xsd = "<http://www.w3.org/2001/XMLSchema#date>"
    assert ask(
        loaded_kb,
        f"""<{ID}alliance/cow-12> a ald:MultilateralAlliance ; ald:cowAllianceId 12 ;
        ald:foundingDate "1900-05-01"^^{xsd} ; ald:foundingDatePrecision ald:MonthPrecision ; ald:foundingTreaty ?t .
        ?t ald:hasProvision ?d . ?d a ald:DefenceProvision .
        <{ID}membership/cow-12-135> org:member <{ID}state/per> ; ald:startDate "1900-05-01"^^{xsd} ;
            ald:startDatePrecision ald:MonthPrecision .
        <{ID}membership/cow-12-140> ald:startDate "1901-06-10"^^{xsd} ; ald:endDate "1910-02-03"^^{xsd} .
        <{ID}membership/cow-12-200> org:member <{ID}state/gbr> .""",
    )
    assert not ask(loaded_kb, f"<{ID}membership/cow-12-135> ald:endDate ?end")
    assert not ask(loaded_kb, f"<{ID}alliance/cow-12> ald:dissolutionDate ?end")
    assert imp.counts["memberships"] == 3


def test_cli_import_shows_progress_and_counts(runner, store_dir: Path, sample):
    assert runner.invoke(main, ["--store", str(store_dir), "init"]).exit_code == 0
    result = runner.invoke(main, ["--store", str(store_dir), "import", "atop", *map(str, sample)])
    assert result.exit_code == 0, result.output
    assert "reading atop" in result.output
    assert "2 alliances" in result.output and "1 linked to curated" in result.output


REAL_CROSSWALK = EXTERNAL / "cow-crosswalk" / "cow_iso_wikidata_geonames_crosswalk.csv"
ATOP_FILES = [EXTERNAL / "atop" / "atop5_0a.csv", EXTERNAL / "atop" / "atop5_0m.csv", REAL_CROSSWALK]
COW_FILES = [EXTERNAL / "cow-alliances-dyadr" / "alliance_v4.1_by_directed_terminated_only.csv", REAL_CROSSWALK]

needs_external = pytest.mark.skipif(
    not (EXTERNAL / "atop" / "atop5_0a.csv").exists(), reason=f"the ATOP and COW files are not in {EXTERNAL}"
)


@needs_external
def test_real_atop_files_build(loaded_kb: KnowledgeBase):
    """Building the RDF of the whole ATOP 5.0 release (0.3 s); the write through the gate is in
    test_real_atop_import (about 80 s)."""
    imp = atop.build(loaded_kb, ATOP_FILES)
    assert imp.counts["alliances"] == 761 and imp.counts["linked to curated"] == 4
    assert imp.counts["memberships"] == 2184 and imp.counts["members"] == 208
    assert len(imp.skipped) == 1 and "8152" in imp.skipped[0]


@needs_external
@pytest.mark.slow
def test_real_atop_import(loaded_kb: KnowledgeBase, write_policy: WritePolicy):
    result = commit_import(loaded_kb, write_policy, atop.build(loaded_kb, ATOP_FILES))
    assert result.report.accepted
    query = "SELECT (COUNT(*) AS ?ids) (COUNT(DISTINCT ?a) AS ?alliances) WHERE { ?a ald:atopId ?id }"
    rows = loaded_kb.select(query, inference=False)
    assert int(rows[0]["ids"]) == 765  # every ATOP alliance, once
    assert int(rows[0]["alliances"]) == 761 + 3  # NATO, CSTO and the US-Japan alliance (two ATOP ids) once each
    assert not ask(loaded_kb, f"<{ID}alliance/atop-3180> ?p ?o")


@needs_external
def test_real_cow_dyad_file_builds(loaded_kb: KnowledgeBase):
    imp = cow.build(loaded_kb, COW_FILES)
    assert imp.counts["alliances"] == 323 and imp.counts["memberships"] == 938
    assert imp.counts["linked to curated"] == 1  # NATO (227): the dyads of West Germany, ended in 1990
    assert len(imp.skipped) == 22 and all("before it starts" in line for line in imp.skipped)


@needs_external
@pytest.mark.slow
def test_real_cow_dyad_file_import(loaded_kb: KnowledgeBase, write_policy: WritePolicy):
    """The terminated-only COW dyad file through the gate (15-25 s)."""
    result = commit_import(loaded_kb, write_policy, cow.build(loaded_kb, COW_FILES))
    assert result.report.accepted
    assert ask(loaded_kb, f"<{ID}alliance/nato> ald:cowAllianceId 227")
    assert not ask(loaded_kb, f"<{ID}alliance/cow-227> ?p ?o")
