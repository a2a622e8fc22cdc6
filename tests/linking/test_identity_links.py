"""Identity links (owl:sameAs) in the shipped data: every state and alliance has its Wikidata
entity, every state its GeoNames feature, no two local resources claim the same external entity,
and the shapes refuse the wrong IRI forms."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.validator import Validator
from allianceld.vocab import ALDS

ID = "https://w3id.org/allianceld/id/"
WIKIDATA = re.compile(r"^http://www\.wikidata\.org/entity/Q[1-9][0-9]*$")
GEONAMES = re.compile(r"^https://sws\.geonames\.org/[1-9][0-9]*/$")
DBPEDIA = re.compile(r"^http://dbpedia\.org/resource/\S+$")

# alliances whose Wikidata entity could not be confirmed from a source (README, "What is in the data");
# the test fails when one of them gets a link without leaving this list, or a new alliance comes without one
ALLIANCES_WITHOUT_WIKIDATA = {
    "admm-plus",
    "african-standby-force",
    "au-psc",
    "collective-security-treaty",
    "quad",
    "us-india-partnership",
    "us-japan-alliance",
}


def _links(kb: KnowledgeBase, cls: str) -> dict[str, list[str]]:
    rows = kb.select(
        f"SELECT ?r ?o WHERE {{ ?r a {cls} OPTIONAL {{ ?r owl:sameAs ?o }} }}"  # types with inference
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["r"], [])
        if row["o"] is not None:
            out[row["r"]].append(row["o"])
    return out


def test_every_state_has_one_wikidata_entity_and_one_geonames_feature(shared_kb: KnowledgeBase) -> None:
    states = _links(shared_kb, "ald:State")
    assert len(states) == 65
    for state, links in states.items():
        assert len([o for o in links if WIKIDATA.match(o)]) == 1, state
        assert len([o for o in links if GEONAMES.match(o)]) == 1, state
        assert len([o for o in links if o.startswith("http://dbpedia.org/")]) <= 1, state


def test_every_alliance_has_its_wikidata_entity(shared_kb: KnowledgeBase) -> None:
    alliances = _links(shared_kb, "ald:Alliance")
    assert len(alliances) >= 9
    missing = {a.rsplit("/", 1)[1] for a, links in alliances.items() if not any(WIKIDATA.match(o) for o in links)}
    assert missing == ALLIANCES_WITHOUT_WIKIDATA
    for alliance, links in alliances.items():
        assert not any("geonames.org" in o for o in links), alliance
    assert [o for o in alliances[ID + "alliance/nato"] if WIKIDATA.match(o)] == ["http://www.wikidata.org/entity/Q7184"]


def test_every_link_has_a_known_form(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select("SELECT DISTINCT ?o WHERE { ?s owl:sameAs ?o }", inference=False)
    targets = [r["o"] for r in rows]
    assert targets
    odd = [o for o in targets if not (WIKIDATA.match(o) or GEONAMES.match(o) or DBPEDIA.match(o))]
    assert odd == []


def test_no_two_local_resources_claim_the_same_external_entity(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select(
        """SELECT ?o (COUNT(DISTINCT ?s) AS ?n) (GROUP_CONCAT(DISTINCT STR(?s); separator=" ") AS ?who)
           WHERE { ?s owl:sameAs ?o FILTER(isIRI(?s) && ?s != ?o) }
           GROUP BY ?o HAVING (COUNT(DISTINCT ?s) > 1)""",
        inference=False,
    )
    assert rows == []
    assert shared_kb.select("SELECT (COUNT(*) AS ?n) WHERE { ?s owl:sameAs ?o }", inference=False)[0]["n"] != "0"


def test_the_uniqueness_check_finds_a_shared_entity(loaded_kb: KnowledgeBase) -> None:
    """The query of the test above does find two records claiming one entity (so it can fail)."""
    claim = ox.Triple(
        ox.NamedNode("https://w3id.org/allianceld/id/state/fra"),
        ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"),
        ox.NamedNode("http://www.wikidata.org/entity/Q183"),  # Germany's
    )
    loaded_kb.write({}, add={"https://example.org/g": [claim]})
    with pytest.raises(AssertionError):
        test_no_two_local_resources_claim_the_same_external_entity(loaded_kb)


PREFIXES = """
@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://example.org/test-source> a prov:Entity ; dcterms:title "Test source"@en .
"""
STATE = """
<https://w3id.org/allianceld/id/state/xta> a ald:State ; rdfs:label "Test state XTA"@en ;
    ald:iso3166Alpha2 "XT" ; ald:iso3166Alpha3 "XTA" ; ald:cowCode 990 ;
    owl:sameAs <http://www.wikidata.org/entity/Q999999981> , {links} ;
    prov:wasDerivedFrom <https://example.org/test-source> .
"""
ALLIANCE = """
<https://w3id.org/allianceld/id/alliance/test-pact> a ald:MultilateralAlliance ; rdfs:label "Test Pact"@en ;
    ald:foundingDate "1990-05-01"^^xsd:date ; owl:sameAs {links} ;
    prov:wasDerivedFrom <https://example.org/test-source> .
"""


def _report(validator: Validator, template: str, links: str):
    data = (PREFIXES + template.replace("{links}", links)).encode()
    return validator.validate(formats.to_rdflib(formats.parse(data, ox.RdfFormat.TURTLE, source="test")))


def _violated(report) -> set[str]:
    return {r.source_shape.removeprefix(str(ALDS)) for r in report.violations}


@pytest.mark.parametrize(
    ("template", "links", "shape"),
    [
        (STATE, "<http://sws.geonames.org/3017382/>", "GeoNamesFeatureForm"),
        (STATE, "<https://sws.geonames.org/3017382/about.rdf>", "GeoNamesFeatureForm"),
        (STATE, "<https://www.geonames.org/3017382/france.html>", "GeoNamesFeatureForm"),
        (STATE, "<https://sws.geonames.org/1/> , <https://sws.geonames.org/2/>", "GeoNamesFeatureAtMostOne"),
        (STATE, "<http://dbpedia.org/page/France>", "DBpediaResourceForm"),
        (STATE, "<https://dbpedia.org/resource/France>", "DBpediaResourceForm"),
        (
            STATE,
            "<http://dbpedia.org/resource/France> , <http://dbpedia.org/resource/Paris>",
            "DBpediaResourceAtMostOne",
        ),
        (STATE, "<https://www.wikidata.org/wiki/Q142>", "WikidataEntityForm"),
        (STATE, "<http://www.wikidata.org/entity/Q142>", "WikidataLink"),
        (ALLIANCE, "<https://sws.geonames.org/3017382/>", "NoGeoNamesFeature"),
        (ALLIANCE, "<http://dbpedia.org/page/NATO>", "DBpediaResourceForm"),
        (ALLIANCE, "<http://www.wikidata.org/wiki/Q7184>", "WikidataEntityForm"),
    ],
)
def test_shapes_refuse_bad_link_forms(validator: Validator, template: str, links: str, shape: str) -> None:
    report = _report(validator, template, links)
    assert shape in _violated(report), report.to_text()


@pytest.mark.parametrize(
    ("template", "links"),
    [
        (STATE, "<https://sws.geonames.org/3017382/> , <http://dbpedia.org/resource/Georgia_(country)>"),
        (ALLIANCE, "<http://www.wikidata.org/entity/Q7184> , <http://dbpedia.org/resource/NATO>"),
    ],
)
def test_shapes_accept_good_link_forms(validator: Validator, template: str, links: str) -> None:
    report = _report(validator, template, links)
    assert _violated(report) == set(), report.to_text()


def test_a_state_without_geonames_or_dbpedia_is_accepted(validator: Validator) -> None:
    """Only Wikidata is required of a state; the other links are added later (allianceld link)."""
    report = _report(validator, STATE, "<http://www.wikidata.org/entity/Q999999981>")
    assert report.accepted, report.to_text()
    assert not any("owl#sameAs" in (r.path or "") for r in report.results)


def test_the_shipped_links_pass_the_link_shapes(shared_kb: KnowledgeBase, validator: Validator) -> None:
    import rdflib

    report = validator.validate(rdflib.Graph(), shared_kb, full=True)
    about_links = [
        r
        for r in report.results
        if r.path == "http://www.w3.org/2002/07/owl#sameAs"
        or (r.source_shape or "").endswith(("EntityForm", "ResourceForm", "FeatureForm"))
    ]
    assert report.accepted and about_links == [], report.to_text()


def test_void_has_a_linkset_per_target(client, shared_kb: KnowledgeBase) -> None:
    import rdflib

    resp = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200
    g = rdflib.Graph().parse(data=resp.data.decode(), format="turtle")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    counts = {
        str(g.value(ls, void.objectsTarget)): int(g.value(ls, void.triples))
        for ls in g.subjects(rdflib.RDF.type, void.Linkset)
    }
    states = int(shared_kb.select("SELECT (COUNT(*) AS ?n) WHERE { ?s a ald:State }")[0]["n"])
    assert counts["https://www.geonames.org/"] == states
    assert counts["http://dbpedia.org/"] == states + 4  # NATO, CSTO, Quad, African Standby Force
    assert counts["http://www.wikidata.org/"] > states
