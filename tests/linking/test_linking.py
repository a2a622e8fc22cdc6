"""Link discovery (allianceld.linking.discovery, `allianceld link`): proposals for states and alliances that
lack a link, scored by codes, labels and dates, against small external dumps built here
(N-Triples and Turtle, with the right entities and decoys); the VoID linkset; accepting links
above a threshold as a contribution with provenance; a second run proposing nothing new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib import RDF, URIRef

from allianceld.cli import main
from allianceld.config import Settings
from allianceld.linking import discovery
from allianceld.store import KnowledgeBase
from allianceld.vocab import VOID
from allianceld.write import contributions, gate
from allianceld.write.write_policy import WritePolicy

STATE = "https://w3id.org/allianceld/id/state/"
ALLIANCE = "https://w3id.org/allianceld/id/alliance/"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
UNLINKED = {"fra", "deu", "ita", "esp"}  # their GeoNames links are left out of the test store

# GeoNames features (N-Triples; Germany in the older http:// form): France and Germany with their
# names and country codes; Spain by its name only; Italy's look-alike "Italy, Texas" (country US);
# a France look-alike with the wrong code; Georgia, already linked, must not come back
GEONAMES_NT = """
<https://sws.geonames.org/3017382/> <http://www.geonames.org/ontology#name> "France" .
<https://sws.geonames.org/3017382/> <http://www.geonames.org/ontology#countryCode> "FR" .
<http://sws.geonames.org/2921044/> <http://www.geonames.org/ontology#name> "Federal Republic of Germany" .
<http://sws.geonames.org/2921044/> <http://www.geonames.org/ontology#countryCode> "DE" .
<https://sws.geonames.org/2510769/> <http://www.geonames.org/ontology#name> "Spain" .
<https://sws.geonames.org/4700000/> <http://www.geonames.org/ontology#name> "Italy, Texas" .
<https://sws.geonames.org/4700000/> <http://www.geonames.org/ontology#countryCode> "US" .
<https://sws.geonames.org/4800000/> <http://www.geonames.org/ontology#name> "France" .
<https://sws.geonames.org/4800000/> <http://www.geonames.org/ontology#countryCode> "US" .
<https://sws.geonames.org/614540/> <http://www.geonames.org/ontology#name> "Georgia" .
<https://sws.geonames.org/614540/> <http://www.geonames.org/ontology#countryCode> "GE" .
"""

# Wikidata entities (Turtle; made-up QIDs): ADMM-Plus with its founding date, and the ADMM itself
# (founded 2006) as a look-alike; the Quad by name; NATO's entity and a France entity, whose local
# resources are linked already
WIKIDATA_TTL = """
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
wd:Q999999901 rdfs:label "ASEAN Defence Ministers' Meeting-Plus"@en ;
    wdt:P571 "2010-10-12T00:00:00Z"^^xsd:dateTime .
wd:Q999999902 rdfs:label "ASEAN Defence Ministers' Meeting"@en ;
    wdt:P571 "2006-05-09T00:00:00Z"^^xsd:dateTime .
wd:Q999999903 rdfs:label "Quadrilateral Security Dialogue"@en , "Quadrilaterale"@it .
wd:Q7184 rdfs:label "NATO"@en .
wd:Q999999904 rdfs:label "France"@en ; wdt:P297 "FR" ; wdt:P298 "FRA" .
"""


def _without_some_links(source: gate.Source) -> gate.Source:
    kept = [
        t
        for t in source.triples
        if not (
            t.predicate.value == SAME_AS
            and t.object.value.startswith("https://sws.geonames.org/")
            and t.subject.value.removeprefix(STATE) in UNLINKED
        )
    ]
    return gate.Source(source.graph, kept, source.name)


def _load(kb: KnowledgeBase, settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    sources = gate.shipped_sources(settings.ontology_file, settings.data_files())
    gate.commit(kb, write_policy, [_without_some_links(s) for s in sources])
    return kb


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("dumps")
    (folder / "geonames.nt").write_text(GEONAMES_NT, encoding="utf-8")
    (folder / "wikidata.ttl").write_text(WIKIDATA_TTL, encoding="utf-8")
    return {"geonames": folder / "geonames.nt", "wikidata": folder / "wikidata.ttl"}


@pytest.fixture(scope="module")
def base(tmp_path_factory, settings: Settings, write_policy: WritePolicy) -> Iterator[KnowledgeBase]:
    """An on-disk store of the shipped data without some GeoNames links, loaded once; tests get copies."""
    kb = _load(KnowledgeBase(tmp_path_factory.mktemp("linking") / "store"), settings, write_policy)
    yield kb
    kb.close()


@pytest.fixture
def kb(base: KnowledgeBase) -> KnowledgeBase:
    """A fresh in-memory copy of :func:`base`."""
    copy = KnowledgeBase()
    copy.load_dataset(base.dump())
    return copy


def _pairs(proposals: list[discovery.Proposal]) -> dict[str, str]:
    return {p.local.rsplit("/", 1)[1]: p.external for p in proposals}


def test_geonames_proposals_by_codes_and_labels(kb: KnowledgeBase, dumps: dict[str, Path]) -> None:
    proposals = discovery.discover(kb, dumps["geonames"])
    assert _pairs(proposals) == {
        "fra": "https://sws.geonames.org/3017382/",
        "deu": "https://sws.geonames.org/2921044/",  # the http:// form, canonicalised
        "esp": "https://sws.geonames.org/2510769/",
    }
    by = {p.local.rsplit("/", 1)[1]: p for p in proposals}
    # name and code beat the name alone; the look-alike with the wrong code is not proposed
    assert by["fra"].confidence > by["deu"].confidence > by["esp"].confidence
    assert by["fra"].agreeing == ("iso2",) and by["fra"].label == 1.0
    assert by["esp"].codes is None and by["esp"].confidence == pytest.approx(0.7)
    assert [p.confidence for p in proposals] == sorted((p.confidence for p in proposals), reverse=True)
    # the decoys score lower than the real features for the same state
    local, _ = discovery.local_entities(kb)
    dump = discovery.read_dump(dumps["geonames"])
    real = discovery.score(local[STATE + "fra"], dump["https://sws.geonames.org/3017382/"])[0]
    fake = discovery.score(local[STATE + "fra"], dump["https://sws.geonames.org/4800000/"])
    assert fake[0] < 0.5 < real and fake[5] == ["iso2"]
    assert "ita" not in _pairs(proposals)  # only "Italy, Texas", in the US


def test_wikidata_proposals_by_labels_and_dates(kb: KnowledgeBase, dumps: dict[str, Path]) -> None:
    proposals = discovery.discover(kb, dumps["wikidata"])
    pairs = _pairs(proposals)
    assert pairs == {
        "admm-plus": "http://www.wikidata.org/entity/Q999999901",
        "quad": "http://www.wikidata.org/entity/Q999999903",
    }
    admm = next(p for p in proposals if p.local == ALLIANCE + "admm-plus")
    quad = next(p for p in proposals if p.local == ALLIANCE + "quad")
    # no codes for alliances (neutral 0.5): exact label and founding date give 0.4 + 0.225 + 0.15
    assert admm.date == 1.0 and admm.confidence == pytest.approx(0.775)
    assert quad.date is None and quad.confidence == pytest.approx(0.7)
    local, _ = discovery.local_entities(kb)
    dump = discovery.read_dump(dumps["wikidata"])
    look_alike = discovery.score(local[ALLIANCE + "admm-plus"], dump["http://www.wikidata.org/entity/Q999999902"])
    assert look_alike[0] < admm.confidence and look_alike[3] < 0.5  # founded four years earlier


def test_min_confidence_filters(kb: KnowledgeBase, dumps: dict[str, Path]) -> None:
    assert _pairs(discovery.discover(kb, dumps["geonames"], min_confidence=0.8)).keys() == {"fra", "deu"}
    assert discovery.discover(kb, dumps["geonames"], min_confidence=1.0) == []


def test_void_linkset(kb: KnowledgeBase, dumps: dict[str, Path], tmp_path: Path) -> None:
    proposals = discovery.discover(kb, dumps["geonames"])
    out = tmp_path / "links.ttl"
    out.write_text(discovery.linkset(proposals, dumps["geonames"]).serialize(format="turtle"), encoding="utf-8")
    g = rdflib.Graph().parse(out, format="turtle")
    (ls,) = list(g.subjects(RDF.type, VOID.Linkset))
    assert g.value(ls, VOID.linkPredicate) == rdflib.OWL.sameAs
    assert g.value(ls, VOID.subjectsTarget) == URIRef(discovery.DATASET)
    target = g.value(ls, VOID.objectsTarget)
    assert target == URIRef(dumps["geonames"].resolve().as_uri())
    assert str(g.value(target, VOID.uriSpace)) == "https://sws.geonames.org/"
    assert int(g.value(ls, VOID.triples)) == len(proposals)
    links = {
        (str(g.value(s, RDF.subject)), str(g.value(s, RDF.object))): float(g.value(s, discovery.ALIGN.measure))
        for s in g.subjects(RDF.type, RDF.Statement)
        if g.value(s, VOID.inDataset) == ls and g.value(s, RDF.predicate) == rdflib.OWL.sameAs
    }
    assert links == {(p.local, p.external): pytest.approx(p.confidence, abs=1e-4) for p in proposals}
    assert (None, rdflib.OWL.sameAs, None) not in g  # reified only: loading it asserts no link

    empty = discovery.linkset([], dumps["geonames"])
    (ls,) = list(empty.subjects(RDF.type, VOID.Linkset))
    assert int(empty.value(ls, VOID.triples)) == 0


def test_accept_above_commits_only_those_with_provenance(
    kb: KnowledgeBase, write_policy: WritePolicy, dumps: dict[str, Path]
) -> None:
    proposals = discovery.discover(kb, dumps["geonames"])
    accepted, contribution, result = contributions.accept_links(
        kb, write_policy, proposals, above=0.8, dump=dumps["geonames"], agent="curator"
    )
    assert _pairs(accepted).keys() == {"fra", "deu"}
    assert contribution is not None and result is not None
    written = {(t.subject.value, t.predicate.value, t.object.value) for t in contributions.data(kb, contribution)}
    assert written == {(p.local, SAME_AS, p.external) for p in accepted}
    assert contribution.agent == "curator"
    assert contribution.source == dumps["geonames"].resolve().as_uri()
    assert contribution.triples == 2 and "above 0.8" in (contribution.comment or "")
    esp = kb.select(
        "SELECT ?o WHERE { ?s owl:sameAs ?o FILTER(STRSTARTS(STR(?o), 'https://sws.geonames.org/')) }",
        substitutions={"s": ox.NamedNode(STATE + "esp")},
    )
    assert esp == []  # 0.7: below the threshold, not written

    again = discovery.discover(kb, dumps["geonames"])
    assert _pairs(again) == {"esp": "https://sws.geonames.org/2510769/"}  # nothing new
    assert (
        contributions.accept_links(kb, write_policy, again, above=0.8, dump=dumps["geonames"], agent="curator")[1]
        is None
    )


def test_an_accepted_link_must_pass_the_shapes(kb: KnowledgeBase, write_policy: WritePolicy, tmp_path: Path) -> None:
    """An alliance is never owl:sameAs a GeoNames feature: the gate refuses it, nothing is written."""
    from allianceld.errors import ValidationFailed

    bad = discovery.Proposal(
        ALLIANCE + "quad", "https://sws.geonames.org/1/", "https://sws.geonames.org/", 0.9, 1, None, None
    )
    before = kb.count()
    with pytest.raises(ValidationFailed) as failed:
        contributions.accept_links(kb, write_policy, [bad], above=0.5, dump=tmp_path / "x.nt", agent="curator")
    assert any(r.source_shape.endswith("#NoGeoNamesFeature") for r in failed.value.report.violations)
    assert kb.count() == before


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, base: KnowledgeBase) -> Path:
    """A copy (RocksDB checkpoint) of :func:`base` for the command line."""
    base.snapshot(tmp_path / "store")
    return tmp_path / "store"


def test_cli_link_proposes_writes_void_and_accepts(
    store: Path, dumps: dict[str, Path], tmp_path: Path, runner: CliRunner
) -> None:
    out = tmp_path / "proposed.ttl"
    args = ["--store", str(store), "link", "--against", str(dumps["geonames"]), "--output", str(out)]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "3 link(s) proposed" in first.output and out.exists()
    assert f"{STATE}fra  owl:sameAs  https://sws.geonames.org/3017382/" in first.output

    accepted = runner.invoke(main, [*args, "--accept-above", "0.8", "--agent", "cli-curator", "--format", "json"])
    assert accepted.exit_code == 0, accepted.output
    body = json.loads(accepted.output)
    assert {p["local"] for p in body["accepted"]} == {STATE + "fra", STATE + "deu"}
    assert body["contribution"]["agent"] == "cli-curator"
    assert body["contribution"]["source"] == dumps["geonames"].resolve().as_uri()

    second = runner.invoke(main, [*args, "--format", "json"])
    assert second.exit_code == 0, second.output
    assert [p["local"] for p in json.loads(second.output)["proposals"]] == [STATE + "esp"]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--accept-above", "1.5"], "--accept-above"),
        (["--min-confidence", "-1"], "--min-confidence"),
        (["--code", "fips=http://example.org/fips"], "--code"),
        (["--code", "iso2"], "--code"),
        (["--namespace", "wikidata"], "--namespace"),
    ],
)
def test_cli_bad_options_are_named(
    store: Path, dumps: dict[str, Path], runner: CliRunner, extra: list[str], named: str
) -> None:
    result = runner.invoke(main, ["--store", str(store), "link", "--against", str(dumps["geonames"]), *extra])
    assert result.exit_code == 2
    assert named in result.output


def test_cli_bad_dump_names_file_and_line(store: Path, tmp_path: Path, runner: CliRunner) -> None:
    dump = tmp_path / "broken.nt"
    dump.write_text('<https://sws.geonames.org/1/> <http://www.geonames.org/ontology#name> "x" .\n<oops\n')
    result = runner.invoke(main, ["--store", str(store), "link", "--against", str(dump)])
    assert result.exit_code == 2
    assert "broken.nt" in result.output and "2" in result.output


def test_cli_code_option_reads_another_predicate(store: Path, tmp_path: Path, runner: CliRunner) -> None:
    dump = tmp_path / "other.nt"
    dump.write_text(
        '<https://sws.geonames.org/3175395/> <http://example.org/cow> "325" .\n'
        '<https://sws.geonames.org/3175395/> <http://www.w3.org/2000/01/rdf-schema#label> "Repubblica Italiana" .\n'
    )

    def link(output: str, *extra: str):
        args = ["--store", str(store), "link", "--against", str(dump), "--format", "json", "--output", output]
        return runner.invoke(main, [*args, *extra])

    plain = link(str(tmp_path / "a.ttl"))
    with_code = link(str(tmp_path / "b.ttl"), "--code", "cow=http://example.org/cow")
    assert plain.exit_code == with_code.exit_code == 0, plain.output + with_code.output
    (by_name,) = json.loads(plain.output)["proposals"]
    (by_code,) = json.loads(with_code.output)["proposals"]
    assert by_name["local"] == by_code["local"] == STATE + "ita"
    assert by_name["codes"] is None and by_code["agreeing"] == ["cow"]
    assert by_code["confidence"] == pytest.approx(by_name["confidence"] + 0.45 * 0.5, abs=1e-3)


def test_acronyms_count_only_when_equal_and_languages_are_kept_apart() -> None:
    local = discovery.Entity("https://w3id.org/allianceld/id/alliance/x", labels={("en", "asf"), ("fr", "force")})
    assert discovery.score(local, discovery.Entity("http://example.org/a", labels={("en", "kasfv")}))[1] == 0.0
    assert discovery.score(local, discovery.Entity("http://example.org/b", labels={("en", "asf")}))[1] == 1.0
    assert discovery.score(local, discovery.Entity("http://example.org/c", labels={("de", "force")}))[1] == 0.0
    assert discovery.score(local, discovery.Entity("http://example.org/d", labels={("", "force")}))[1] == 1.0


def test_events_and_exercises_are_linked_by_label_and_day(kb: KnowledgeBase, tmp_path: Path) -> None:
    dump = tmp_path / "wikidata-events.ttl"
    dump.write_text(
        """@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
wd:Q999999911 rdfs:label "Malabar 2020"@en ; wdt:P580 "2020-11-03T00:00:00Z"^^xsd:dateTime .
wd:Q999999912 rdfs:label "NATO Summit in Wales"@en ; wdt:P585 "2014-09-04T00:00:00Z"^^xsd:dateTime .
wd:Q999999913 rdfs:label "Malabar 2019"@en ; wdt:P580 "2019-09-26T00:00:00Z"^^xsd:dateTime .
""",
        encoding="utf-8",
    )
    by = {p.local.rsplit("/", 2)[-2] + "/" + p.local.rsplit("/", 1)[1]: p for p in discovery.discover(kb, dump)}
    malabar, wales = by["activity/malabar-2020"], by["event/nato-wales-summit-2014"]
    assert malabar.external.endswith("Q999999911") and malabar.date == 1.0 and malabar.label == 1.0
    assert wales.external.endswith("Q999999912") and wales.date == 1.0
    # the 2019 edition (not in the data) is not the 2020 one: its day disagrees, and 2020 is taken by the better one
    assert all(p.external != "http://www.wikidata.org/entity/Q999999913" or p.date < 1.0 for p in by.values())
