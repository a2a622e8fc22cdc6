"""ATOP and COW importers: sample files the tests write, the RDF they give, the gate, idempotence,
the command line, and the real files of ../shared/data/external when present."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from allianceld.cli import main
from allianceld.importers import ImportFailed, ImportIncomplete, ImportRejected, LeftOut, atop, commit_import, cow
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
    # a file that is not an ATOP file stops the import at once
    files = write(tmp_path, atop5_0a=ALLIANCES, atop5_0m=MEMBERS, other="a,b\n1,2\n")
    with pytest.raises(ImportFailed, match=r"other.csv: not an ATOP"):
        atop.build(loaded_kb, files)


def test_rows_that_cannot_be_placed_stop_the_import_unless_partial(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy, tmp_path
):
    # an alliance row whose year is not a number (its two member rows go with it), a member row
    # whose exit month is not a month, a member of an alliance the alliance-level file lacks
    members = MEMBERS.replace("3500,,,140,1972,,,0,0,0,2", "3500,,,140,1972,,,1980,13,,2")
    members += "9999,,,2,1990,1,1,0,0,0,1\n"
    files = write(
        tmp_path,
        atop5_0a=ALLIANCES.replace("1850,3,,1866", "18x0,3,,1866"),
        atop5_0m=members,
        crosswalk=CROSSWALK,
    )
    imp = atop.build(loaded_kb, files)
    a, m = str(files[0]), str(files[1])
    assert sorted(imp.skipped, key=str) == sorted(
        [
            LeftOut(f"{a}:2", "column 'begyr' is not an integer: '18x0'"),
            LeftOut(f"{m}:2", f"the row of alliance 1100 ({a}:2) cannot be placed"),
            LeftOut(f"{m}:3", f"the row of alliance 1100 ({a}:2) cannot be placed"),
            LeftOut(f"{m}:9", "1980-13 is not a date"),
            LeftOut(f"{m}:10", "ATOP alliance 9999 is not in atop5_0a.csv"),
        ],
        key=str,
    )
    before = loaded_kb.dump()
    with pytest.raises(ImportIncomplete) as caught:
        commit_import(loaded_kb, write_policy, imp)
    assert caught.value.left_out == imp.skipped and "5 row(s) cannot be placed" in caught.value.message
    assert loaded_kb.dump() == before
    # a partial import writes the rows that can be placed
    assert commit_import(loaded_kb, write_policy, imp, partial=True).report.accepted
    assert ask(loaded_kb, f"<{ID}membership/atop-3500-135> org:member <{ID}state/per>")
    assert not ask(loaded_kb, f"<{ID}alliance/atop-1100> ?p ?o")
    assert not ask(loaded_kb, f"<{ID}membership/atop-3500-140> ?p ?o")


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


def _report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_cli_import_without_the_state_list_writes_nothing_and_names_the_report(runner, store_dir: Path, sample):
    assert runner.invoke(main, ["--store", str(store_dir), "init"]).exit_code == 0
    kb = KnowledgeBase(store_dir)
    before = kb.dump()
    kb.close()
    alliances, members, _ = sample
    refused = runner.invoke(main, ["--store", str(store_dir), "import", "atop", str(alliances), str(members)])
    assert refused.exit_code == 1, refused.output
    report = store_dir.parent / "store.import-atop-5.0.csv"
    assert f"refused: 3 row(s) cannot be placed, listed in {report}; nothing was written" in refused.output
    assert f"report: {report}" in refused.output
    kb = KnowledgeBase(store_dir)
    assert kb.dump() == before
    kb.close()
    # every row of a state that is not curated (Brazil is) and that no state list names: Bavaria, Peru's two phases
    expected = [
        {
            "kind": "left out",
            "file": str(members),
            "line": line,
            "subject": "",
            "path": "",
            "value": "",
            "message": f"state code {code} is neither curated nor in the state list",
        }
        for code, line in [("245", "2"), ("135", "7"), ("135", "8")]
    ]
    assert _report_rows(report) == expected

    # asked for explicitly, a partial import writes the rest; the report lists what was left out and the warnings
    chosen = store_dir.parent / "reports" / "atop.csv"
    args = ["import", "atop", "--partial", "--report", str(chosen), str(alliances), str(members)]
    partial = runner.invoke(main, ["--store", str(store_dir), *args])
    assert partial.exit_code == 0, partial.output
    assert "3 row(s) left out" in partial.output and f"report: {chosen}" in partial.output
    rows = _report_rows(chosen)
    assert rows[:3] == expected
    warnings = [r for r in rows if r["kind"] == "warning"]
    assert warnings and all(r["file"] in (str(alliances), str(members)) and r["line"].isdigit() for r in warnings)
    assert f"{len(warnings)} warning(s)" in partial.output
    kb = KnowledgeBase(store_dir)
    try:
        assert ask(kb, f"<{ID}membership/atop-1100-200> org:member <{ID}state/gbr>")
        assert not ask(kb, f"<{ID}membership/atop-1100-245> ?p ?o")
    finally:
        kb.close()


UNKNOWN_8152 = "state code 8152 is neither curated nor in the state list"
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
    assert [str(left) for left in imp.skipped] == [f"{ATOP_FILES[1]}:203: {UNKNOWN_8152}"]


@needs_external
def test_real_atop_files_without_a_state_list(loaded_kb: KnowledgeBase):
    """Without a COW state list, every row of a member that is not a curated state is left out, each listed."""
    imp = atop.build(loaded_kb, ATOP_FILES[:2])
    assert len(imp.skipped) == 1004 and len({left.where for left in imp.skipped}) == 1004
    assert imp.counts["memberships"] == 1280


@needs_external
@pytest.mark.slow
def test_real_atop_import(loaded_kb: KnowledgeBase, write_policy: WritePolicy):
    with pytest.raises(ImportIncomplete):  # ATOP's member code 8152 is in no state list
        commit_import(loaded_kb, write_policy, atop.build(loaded_kb, ATOP_FILES))
    result = commit_import(loaded_kb, write_policy, atop.build(loaded_kb, ATOP_FILES), partial=True)
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
    assert len(imp.skipped) == 22 and all("before it starts" in left.reason for left in imp.skipped)


@needs_external
@pytest.mark.slow
def test_real_cow_dyad_file_import(loaded_kb: KnowledgeBase, write_policy: WritePolicy):
    """The terminated-only COW dyad file through the gate (15-25 s)."""
    result = commit_import(loaded_kb, write_policy, cow.build(loaded_kb, COW_FILES), partial=True)
    assert result.report.accepted
    assert ask(loaded_kb, f"<{ID}alliance/nato> ald:cowAllianceId 227")
    assert not ask(loaded_kb, f"<{ID}alliance/cow-227> ?p ?o")
