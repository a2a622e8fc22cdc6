"""Names of imported alliances: the curated names of data/alliance-names.ttl on the IRIs the ATOP
importer mints, generated labels for the others (kept as ald:generatedLabel, a curated name winning),
and reconciliation by all of them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.browse.describe import labels
from allianceld.errors import ValidationFailed
from allianceld.importers import atop, commit_import
from allianceld.importers.atop_labels import generated_label
from allianceld.linking.reconciliation import Index, Query
from allianceld.store import KnowledgeBase
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
ID = "https://w3id.org/allianceld/id/"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
GENERATED = ox.NamedNode("https://w3id.org/allianceld/ontology#generatedLabel")

# four alliances data/alliance-names.ttl names (their real ATOP ids, dates and some members) and two it
# does not: 1100 (not an ATOP id of a named alliance) and 2999 (four members)
ALLIANCES = """atopid,cowid,cow4id,begyr,begmo,begday,endyr,endmo,endday,bilat,defense,offense,neutral,nonagg,consul
3285,,,1955,5,14,1991,7,1,0,1,0,0,1,1
1485,,,1912,11,23,1918,11,11,1,0,0,0,0,1
3215,,,1951,9,1,0,0,0,0,1,0,0,1,1
3260,,,1954,9,8,0,0,0,0,1,0,0,1,1
1100,,,1850,3,,1866,8,23,1,1,0,0,0,1
2999,,,1925,10,16,1937,,,0,0,0,1,0,1
"""
MEMBERS = "atopid,cowid,cow4id,member,yrent,moent,dayent,yrexit,moexit,dayexit,phase\n" + "".join(
    f"{atopid},,,{member},{start},0,0,0,0\n"
    for atopid, start, members in (
        (3285, "1955,5,14", (365, 290)),
        (1485, "1912,11,23", (200, 220)),
        (3215, "1951,9,1", (2, 900, 920)),
        (3260, "1954,9,8", (2, 200, 220, 770, 800, 840, 900, 920)),
        (1100, "1850,3,", (245, 200)),
        (2999, "1925,10,16", (200, 220, 255, 325)),
    )
    for member in members
)
CROSSWALK = """ccode,stateabb,cow_statenme,iso2c,iso3c,wikidata_qid
2,USA,United States of America,US,USA,Q30
200,UKG,United Kingdom,GB,GBR,Q145
220,FRN,France,FR,FRA,Q142
245,BAV,Bavaria,,,
255,GMY,Germany,DE,DEU,Q183
290,POL,Poland,PL,POL,Q36
325,ITA,Italy,IT,ITA,Q38
365,RUS,Russia,RU,RUS,Q159
770,PAK,Pakistan,PK,PAK,Q843
800,THI,Thailand,TH,THA,Q869
840,PHI,Philippines,PH,PHL,Q928
900,AUL,Australia,AU,AUS,Q408
920,NEW,New Zealand,NZ,NZL,Q664
"""


@pytest.fixture
def imported(tmp_path: Path, loaded_kb: KnowledgeBase, write_policy: WritePolicy) -> KnowledgeBase:
    paths = []
    for name, text in (("atop5_0a", ALLIANCES), ("atop5_0m", MEMBERS), ("crosswalk", CROSSWALK)):
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        paths.append(path)
    commit_import(loaded_kb, write_policy, atop.build(loaded_kb, paths))
    return loaded_kb


def english_labels(kb: KnowledgeBase, slug: str, prop: ox.NamedNode = RDFS_LABEL) -> set[str]:
    node = ox.NamedNode(ID + "alliance/" + slug)
    return {q.object.value for q in kb.match([node], [prop], graphs=kb.graphs()) if q.object.language == "en"}


def test_generated_labels_read_as_english():
    assert generated_label(["DefenceProvision"], ["United Kingdom", "Portugal"], "1899") == (
        "Defence pact of the United Kingdom and Portugal, 1899"
    )
    assert generated_label(["NeutralityProvision", "ConsultationProvision"], ["A", "B", "C", "D"], "1925") == (
        "Neutrality and consultation pact of four states, 1925"
    )
    assert generated_label(
        ["OffenceProvision", "DefenceProvision", "NonAggressionProvision"], ["Russia", "Holy See", "Yemen"], "1900"
    ) == ("Defence, offence and non-aggression pact of Russia, the Holy See and Yemen, 1900")


def test_a_curated_name_wins_and_the_others_get_generated_labels(imported: KnowledgeBase):
    # the curated name is the alliance's only English label; the generated one is kept as such
    assert english_labels(imported, "atop-3285") == {"Warsaw Pact"}
    assert english_labels(imported, "atop-3285", GENERATED) == {
        "Defence, non-aggression and consultation pact of Poland and the Soviet Union, 1955"
    }
    assert english_labels(imported, "atop-3260") == {"SEATO"}
    assert labels(imported, [ID + "alliance/atop-3215"]) == {ID + "alliance/atop-3215": "ANZUS"}
    treaty = ox.NamedNode(ID + "treaty/atop-3285")
    assert {q.object.value for q in imported.match([treaty], [RDFS_LABEL], graphs=imported.graphs())} == {
        "Agreement of Warsaw Pact"
    }
    # without a curated name, the generated label is the label (members in COW code order)
    assert english_labels(imported, "atop-1100") == {
        "Defence and consultation pact of the United Kingdom and Bavaria, 1850"
    }
    assert english_labels(imported, "atop-1100", GENERATED) == english_labels(imported, "atop-1100")
    assert english_labels(imported, "atop-2999") == {"Neutrality and consultation pact of four states, 1925"}


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Warsaw Pact", "atop-3285"),
        ("ANZUS", "atop-3215"),
        ("SEATO", "atop-3260"),
        ("Southeast Asia Collective Defense Treaty", "atop-3260"),  # an alternative name
        ("Manila Pact", "atop-3260"),
        ("Grey-Cambon letters", "atop-1485"),
        ("Warsaw Treaty Organization", "atop-3285"),
        ("Defence pact of Poland and the Soviet Union", "atop-3285"),  # its generated label
        ("consultation pact of the United Kingdom and Bavaria 1850", "atop-1100"),
    ],
)
def test_reconciliation_finds_alliances_by_every_name(imported: KnowledgeBase, text: str, slug: str):
    found = Index.build(imported).reconcile(Query(text))
    assert found and found[0].entity.id == "alliance/" + slug, [(c.entity.id, c.score) for c in found]


def test_the_names_file_names_only_atop_alliances_it_can_match():
    """Every record of data/alliance-names.ttl is an ATOP 5.0 alliance with the founding date its
    comment gives, not one curated in its own file, and cites a described source."""
    text = (ROOT / "data" / "alliance-names.ttl").read_text()
    graph = ox.Store()
    graph.load(text.encode(), ox.RdfFormat.TURTLE)
    named = {
        int(q.subject.value.rsplit("-", 1)[1])
        for q in graph.quads_for_pattern(None, RDFS_LABEL, None)
        if q.subject.value.startswith(ID + "alliance/atop-")
    }
    assert len(named) >= 25
    assert not named & set(atop.CURATED)
    derived = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
    for atopid in named:
        sources = list(graph.quads_for_pattern(ox.NamedNode(f"{ID}alliance/atop-{atopid}"), derived, None))
        assert sources, atopid
        assert list(graph.quads_for_pattern(sources[0].object, None, None)), sources[0].object
    alliance_file = EXTERNAL / "atop" / "atop5_0a.csv"
    if not alliance_file.exists():
        pytest.skip("the ATOP 5.0 files are not here")
    with alliance_file.open(newline="") as handle:
        rows = {int(r["atopid"]): r for r in csv.DictReader(handle)}
    for atopid, date in re.findall(r"^# ATOP (\d+): (\d{4}-\d\d-\d\d)", text, flags=re.M):
        row = rows[int(atopid)]
        assert date == f"{row['begyr']}-{int(row['begmo']):02d}-{int(row['begday']):02d}", atopid
    assert {int(a) for a in re.findall(r"^# ATOP (\d+):", text, flags=re.M)} == named


def test_the_alliances_once_left_out_for_an_uncertain_match_are_named_from_sources():
    """ATOP 1315, 1375, 1470, 1475, 1485, 2050, 2440 and 2490 are matched to their treaties by date and
    members; no record rests on the Simple English Wikipedia any longer."""
    text = (ROOT / "data" / "alliance-names.ttl").read_text()
    graph = ox.Store()
    graph.load(text.encode(), ox.RdfFormat.TURTLE)
    expected = {
        1315: "Schönbrunn Convention",
        1375: "Second Mediterranean Agreement",
        1470: "Treaty of Friendship and Alliance between Bulgaria and Serbia",
        1475: "Treaty of Alliance and Defense between Bulgaria and Greece",
        1485: "Grey-Cambon letters",
        2050: "Defence Alliance Treaty between the Kingdom of Serbs, Croats and Slovenes"
        " and the Republic of Czechoslovakia",
        2440: "Anglo-Polish alliance",
        2490: "Anglo-French-Turkish Treaty of 1939",
    }
    for atopid, label in expected.items():
        node = ox.NamedNode(f"{ID}alliance/atop-{atopid}")
        assert [q.object.value for q in graph.quads_for_pattern(node, RDFS_LABEL, None)] == [label]
    assert "simple.wikipedia.org" not in text


def test_a_name_loaded_after_the_import_that_labelled_the_alliance_is_refused(
    imported: KnowledgeBase, write_policy: WritePolicy
):
    """The docs' rule: load names before importing; a second English label is a violation, not a tie."""
    alliance = ox.NamedNode(ID + "alliance/atop-1100")
    source = ox.NamedNode("https://en.wikipedia.org/wiki/Bavaria")
    triples = [
        ox.Triple(alliance, RDFS_LABEL, ox.Literal("Anglo-Bavarian pact", language="en")),
        ox.Triple(alliance, ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom"), source),
        ox.Triple(source, ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal("Bavaria", language="en")),
    ]
    graph = "https://w3id.org/allianceld/graph/data/late-names"
    with pytest.raises(ValidationFailed) as refused:
        gate.commit(imported, write_policy, [gate.Source(graph, triples, graph)])
    assert any(r.focus_node == alliance.value for r in refused.value.report.results)
    assert english_labels(imported, "atop-1100") == {
        "Defence and consultation pact of the United Kingdom and Bavaria, 1850"
    }
