"""Linked Data pages over the shipped data: /id/<kind>/<slug> by content negotiation (each RDF
syntax parsed back), derived facts linked to their explanations, 404s, /ontology, and the
listings /alliances, /states and /states/<slug>/alliances with their filters."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, Literal, URIRef

from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, ID_BASE, INFERRED_GRAPH, ONTOLOGY_GRAPH, ORG, data_graph_iri, is_inferred_graph
from conftest import ROOT, Site

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
USA, NATO = URIRef(ID_BASE + "state/usa"), URIRef(ID_BASE + "alliance/nato")
RDF_SYNTAXES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
# the members of NATO on 1 January 1990 (docs/queries/nato-members-on-1990-01-01.rq)
NATO_1990 = {"bel", "can", "dnk", "fra", "isl", "ita", "lux", "nld", "nor", "prt", "gbr", "usa", "grc", "tur", "deu"}
NATO_1990 |= {"esp"}


class Links(HTMLParser):
    """The links of a page: (class, href, text) of every <a>, and every element id."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "a" and a.get("href"):
            self.links.append((a.get("class") or "", a["href"] or ""))

    @classmethod
    def of(cls, html: bytes) -> Links:
        parser = cls()
        parser.feed(html.decode("utf-8"))
        return parser


def ids(items: list[dict]) -> list[str]:
    return [i["id"] for i in items]


# -- /id/<kind>/<slug> -----------------------------------------------------------------------------


def test_a_browser_gets_the_state_page(client) -> None:
    resp = client.get("/id/state/usa", headers=BROWSER)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert resp.headers["Vary"] == "Accept"
    assert '<https://w3id.org/allianceld/id/state/usa>; rel="canonical"' in resp.headers["Link"]
    assert '</id/state/usa?format=ttl>; rel="alternate"; type="text/turtle"' in resp.headers["Link"]
    html = resp.get_data(as_text=True)
    assert '<h1 id="label">United States</h1>' in html
    assert "United States of America" in html  # an alternative label
    links = Links.of(resp.data)
    hrefs = {h for _, h in links.links}
    # its memberships, by the labels of the alliances, with dates and roles
    assert "/id/alliance/nato" in hrefs and "North Atlantic Treaty Organization" in html
    assert "1949-08-24" in html and "founding member" in html
    assert "known to the year" in html  # the first Quad dialogue's dates are known to the year only
    assert ("link-out", "http://www.wikidata.org/entity/Q30") in links.links
    assert "data file <code>data/states.ttl</code>" in html  # where its asserted facts come from
    assert "/id/region/north-america" in hrefs


def test_an_alliance_page_lists_its_members_and_derived_types(client) -> None:
    html = client.get("/id/alliance/nato", headers=BROWSER).get_data(as_text=True)
    for member in ("/id/state/esp", "/id/state/fin", "/id/state/swe", "/id/state/deu"):
        assert f'href="{member}"' in html
    assert "<th>Member</th>" in html
    assert 'href="/id/treaty/north-atlantic-treaty"' in html  # the founding treaty, by its label
    assert "North Atlantic Treaty</a>" in html
    # NATO is a collective-defence alliance by reasoning, and the page says why
    links = Links.of(html.encode())
    why = [h for c, h in links.links if c == "why" and "CollectiveDefenceAlliance" in h]
    assert why == ["/reasoning/explain?s=id:alliance/nato&p=rdf:type&o=ald:CollectiveDefenceAlliance"]


@pytest.mark.parametrize("mime", list(RDF_SYNTAXES))
def test_each_rdf_syntax_parses_back(client, mime: str) -> None:
    resp = client.get("/id/state/usa", headers={"Accept": mime})
    assert resp.status_code == 200 and resp.mimetype == mime
    g = rdflib.Graph().parse(data=resp.data, format=RDF_SYNTAXES[mime])
    assert (USA, RDFS.label, Literal("United States", lang="en")) in g
    assert (USA, URIRef(str(ORG.memberOf)), NATO) in g  # derived
    membership = URIRef(ID_BASE + "membership/nato-usa")  # the n-ary membership node, with its triples
    assert (membership, URIRef(str(ORG.member)), USA) in g
    assert (membership, URIRef(str(ALD.startDate)), Literal("1949-08-24", datatype=rdflib.XSD.date)) in g
    assert (URIRef(ID_BASE + "state/can"), URIRef(str(ALD.alliedWith)), USA) in g  # what points at it


def test_curl_gets_turtle_and_format_overrides_accept(client) -> None:
    assert client.get("/id/state/usa", headers={"Accept": "*/*"}).mimetype == "text/turtle"
    assert client.get("/id/state/usa").mimetype == "text/turtle"
    resp = client.get("/id/state/usa?format=nt", headers=BROWSER)
    assert resp.mimetype == "application/n-triples"
    assert len(rdflib.Graph().parse(data=resp.data, format="nt")) > 50
    assert client.get("/id/state/usa?format=json", headers=BROWSER).json["label"] == "United States"


def test_trig_keeps_derived_triples_in_their_graphs(client) -> None:
    resp = client.get("/id/state/usa", headers={"Accept": "application/trig"})
    ds = rdflib.Dataset()
    ds.parse(data=resp.data, format="trig")
    member_of = (USA, URIRef(str(ORG.memberOf)), NATO)
    assert member_of in ds.graph(URIRef(INFERRED_GRAPH))
    assert member_of not in ds.graph(URIRef(data_graph_iri("states")))
    assert (USA, RDFS.label, Literal("United States", lang="en")) in ds.graph(URIRef(data_graph_iri("states")))


def test_inference_false_leaves_derived_triples_out(client) -> None:
    g = rdflib.Graph().parse(data=client.get("/id/state/usa?inference=false&format=ttl").data, format="turtle")
    assert (USA, URIRef(str(ORG.memberOf)), NATO) not in g
    assert (USA, RDF.type, URIRef(str(ALD.State))) in g


def test_nothing_acceptable_is_406(client) -> None:
    resp = client.get("/id/state/usa", headers={"Accept": "image/png"})
    assert resp.status_code == 406 and resp.json["error"] == "not-acceptable"
    resp = client.get("/id/state/usa?format=docx")
    assert resp.status_code == 400 and resp.json["parameter"] == "format"


def test_every_derived_fact_links_to_its_explanation(client, shared_kb: KnowledgeBase) -> None:
    links = Links.of(client.get("/id/state/usa", headers=BROWSER).data).links
    why = {h for c, h in links if c == "why"}
    store = shared_kb.backend.store
    asserted = {q.triple for q in store.quads_for_pattern(ox.NamedNode(USA), None, None) if not _inferred(q)}
    derived = {q.triple for q in store.quads_for_pattern(ox.NamedNode(USA), None, None) if _inferred(q)} - asserted
    assert len(derived) > 40  # memberOf, hasMembership, types, alliedWith
    pointing = {q.triple for q in store.quads_for_pattern(None, None, ox.NamedNode(USA)) if _inferred(q)}
    pointing -= {q.triple for q in store.quads_for_pattern(None, None, ox.NamedNode(USA)) if not _inferred(q)}
    assert len(pointing) > 30  # hasMember from each alliance, alliedWith from each ally
    assert len(why) == len(derived) + len(pointing)
    assert "/reasoning/explain?s=id:alliance/nato&p=org:hasMember&o=id:state/usa" in why
    assert "/reasoning/explain?s=id:state/usa&p=org:memberOf&o=id:alliance/nato" in why
    assert "/reasoning/explain?s=id:state/usa&p=ald:alliedWith&o=id:state/jpn" in why
    for url in sorted(why)[:: max(1, len(why) // 8)]:  # a sample of each kind of derivation
        resp = client.get(url, headers=JSON)
        assert resp.status_code == 200, url
        assert str(USA) in (resp.json["triple"]["s"]["value"], resp.json["triple"]["o"]["value"])
        assert resp.json["status"] in ("inferred", "derived")
    page = client.get("/reasoning/explain?s=id:state/usa&p=org:memberOf&o=id:alliance/nato", headers=BROWSER)
    assert page.status_code == 200 and b"membership/nato-usa" in page.data


def _inferred(q: ox.Quad) -> bool:
    return isinstance(q.graph_name, ox.NamedNode) and is_inferred_graph(q.graph_name.value)


def test_json_twin_marks_sources_and_derivations(client) -> None:
    data = client.get("/id/state/usa", headers=JSON).json
    assert data["iri"] == str(USA) and data["url"] == "/id/state/usa"
    types = {t["short"]: t for t in data["types"]}
    assert types["ald:State"]["derived"] is False
    assert types["ald:State"]["sources"][0]["name"] == "data/states.ttl"
    assert types["org:Organization"]["derived"] is True and types["org:Organization"]["by"]["kind"] == "owl-rl"
    derived = {g["property"]["short"]: g["values"] for g in data["derived"]}
    allies = {v["iri"]: v for v in derived["ald:alliedWith"]}
    assert allies[ID_BASE + "state/jpn"]["by"] == {
        "graph": "https://w3id.org/allianceld/graph/inferred/rule/allied-states",
        "kind": "rule",
        "name": "allied-states",
        "url": "/reasoning#rule-allied-states",
    }
    nato = next(m for m in data["memberships"] if m["alliance"]["iri"] == str(NATO))
    assert nato["startDate"] == "1949-08-24" and nato["role"]["label"] == "founding member"
    assert nato["other"]["label"] == "North Atlantic Treaty Organization"


def test_other_kinds_of_resource_dereference(client) -> None:
    for path, text in (
        ("/id/membership/nato-usa", "United States"),
        ("/id/region/europe", "Europe"),
        ("/id/treaty/north-atlantic-treaty", "Washington Treaty"),
        ("/id/provision/north-atlantic-treaty-article-5", "Article 5"),
    ):
        resp = client.get(path, headers=BROWSER)
        assert resp.status_code == 200, path
        assert text in resp.get_data(as_text=True), path
    region = client.get("/id/region/europe", headers=JSON).json  # the states that point at it
    assert {r["subject"]["iri"] for r in region["referencedBy"]} >= {ID_BASE + "state/fra", str(NATO)}


@pytest.mark.parametrize(
    "path",
    [
        "/id/state/zzz",
        "/id/state/..",
        "/id/../state/usa",
        "/id/state/%2e%2e",
        "/id/STATE/usa",
        "/id/state/usa%00",
        "/id/state/a%2Fb",
        "/id/state/%3Cscript%3E",
        "/id/state/usa/extra",
        "/id/" + "x" * 3000 + "/y",
    ],
)
def test_unknown_resources_and_path_tricks_are_404(client, path: str) -> None:
    html = client.get(path, headers=BROWSER)
    assert html.status_code in (400, 404), path
    turtle = client.get(path, headers={"Accept": "text/turtle"})
    assert turtle.status_code in (400, 404)
    if path == "/id/state/zzz":
        assert html.mimetype == "text/html" and b"no resource https://w3id.org/allianceld/id/state/zzz" in html.data
        assert turtle.json["error"] == "not-found"


def test_a_contributed_record_links_to_its_contribution_and_is_escaped(site: Site) -> None:
    record = f"""@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<https://example.org/test-source> a prov:Entity ; dcterms:title "Test source"@en .
<{ID_BASE}state/xte> a ald:State ; rdfs:label "Test <script>alert(1)</script> & co"@en ;
    ald:iso3166Alpha2 "XE" ; ald:iso3166Alpha3 "XTE" ; ald:cowCode 901 ; ald:region <{ID_BASE}region/europe> ;
    owl:sameAs <http://www.wikidata.org/entity/Q999999984> ; prov:wasDerivedFrom <https://example.org/test-source> .
""".encode()
    created = site.client.post("/contributions", data=record, headers=site.auth())
    assert created.status_code == 201, created.json
    cid = created.json["id"]
    html = site.client.get("/id/state/xte", headers=BROWSER).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "Test &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert f'href="/contributions/{cid}"' in html
    # the contributor's prov:Agent is a resource of the store too (in the provenance graph)
    agent = site.client.get("/id/agent/alice", headers=JSON)
    assert agent.status_code == 200 and agent.json["iri"] == ID_BASE + "agent/alice"


# -- /ontology -------------------------------------------------------------------------------------


def test_ontology_documentation_is_generated_from_the_stored_ontology(client, shared_kb: KnowledgeBase) -> None:
    resp = client.get("/ontology", headers=BROWSER)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = Links.of(resp.data)
    assert len(page.ids) == len(set(page.ids))  # anchors are unique
    terms = {
        t.subject.value[len(str(ALD)) :]
        for t in shared_kb.triples(ONTOLOGY_GRAPH)
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(str(ALD))
    }
    assert "Alliance" in terms and "alliedWith" in terms
    assert terms <= set(page.ids)  # every term IRI …/ontology#Term lands on its anchor
    html = resp.get_data(as_text=True)
    assert "An alliance whose founding treaty obliges its parties to defend one another" in html
    assert "(ald:Alliance and (ald:foundingTreaty some (ald:hasProvision some ald:DefenceProvision)))" in html
    doc = client.get("/ontology", headers=JSON).json
    founding = next(p for p in doc["properties"] if p["short"] == "ald:foundingDate")
    assert [r["short"] for r in founding["domain"]] == ["ald:Alliance"]
    assert [r["short"] for r in founding["range"]] == ["xsd:date"]
    assert founding["characteristics"] == ["functional"]
    allied = next(p for p in doc["properties"] if p["short"] == "ald:alliedWith")
    assert allied["characteristics"] == ["symmetric"]
    member_of = next(p for p in doc["properties"] if p["short"] == "org:memberOf")
    assert [[r["short"] for r in chain] for chain in member_of["propertyChains"]] == [
        ["org:hasMembership", "org:organization"]
    ]
    benefits = next(s for s in doc["conceptSchemes"] if s["short"] == "ald:Benefits")
    assert "deterrence" in [c["label"] for c in benefits["concepts"]]
    alliance = next(c for c in doc["classes"] if c["short"] == "ald:Alliance")
    assert "ald:BilateralAlliance" in [c["short"] for c in alliance["subClasses"]]


@pytest.mark.parametrize("mime", list(RDF_SYNTAXES))
def test_the_ontology_in_each_rdf_syntax(client, shared_kb: KnowledgeBase, mime: str) -> None:
    resp = client.get("/ontology", headers={"Accept": mime})
    assert resp.status_code == 200 and resp.mimetype == mime
    g = rdflib.Graph().parse(data=resp.data, format=RDF_SYNTAXES[mime])
    assert len(g) == len(shared_kb.triples(ONTOLOGY_GRAPH))
    assert (URIRef("https://w3id.org/allianceld/ontology"), RDF.type, OWL.Ontology) in g


# -- listings --------------------------------------------------------------------------------------


def test_alliances_active_on_a_day(client) -> None:
    # NATO (founded 1949), the US-Japan alliance (1952) and the GCC (1981); the CSTO dates from 2002
    data = client.get("/alliances?active_on=1990-01-01").json
    assert sorted(ids(data["items"])) == ["gcc", "nato", "us-japan-alliance"]
    assert data["total"] == 3 and data["filters"] == {"active_on": "1990-01-01"}
    assert "csto" in ids(client.get("/alliances?active_on=2003-01-01").json["items"])


def test_alliances_by_type_and_region(client) -> None:
    bilateral = client.get("/alliances?type=bilateral").json["items"]
    assert sorted(ids(bilateral)) == ["us-india-partnership", "us-japan-alliance"]
    regional = ids(client.get("/alliances?type=regional").json["items"])
    assert "nato" in regional and "csto" in regional and "quad" not in regional
    for region in ("europe", "id:region/europe", ID_BASE + "region/europe"):
        assert ids(client.get("/alliances", query_string={"region": region}).json["items"]) == ["nato"]
    both = client.get("/alliances?region=eurasia&type=multilateral&active_on=2010-01-01").json
    assert ids(both["items"]) == ["collective-security-treaty", "csto"]


def test_members_of_nato_on_a_day(client) -> None:
    data = client.get("/states?alliance=nato&active_on=1990-01-01&limit=100").json
    assert set(ids(data["items"])) == NATO_1990 and data["total"] == 16
    spain = next(s for s in data["items"] if s["id"] == "esp")
    assert [(m["alliance"]["label"], m["startDate"]) for m in spain["memberships"]] == [
        ("North Atlantic Treaty Organization", "1982-05-30")
    ]


def test_states_active_on_a_day_respect_end_dates(client) -> None:
    # Azerbaijan was a party to the Collective Security Treaty from 1994 to 1999
    cst = "/states?alliance=collective-security-treaty&active_on="
    assert "aze" in ids(client.get(cst + "1995-01-01").json["items"])
    assert "aze" not in ids(client.get(cst + "2000-01-01").json["items"])
    europe = ids(client.get("/states?region=europe&type=bilateral&limit=500").json["items"])
    assert europe == []  # the bilateral alliances in the data are the US-Japan and US-India ones
    pacific = ids(client.get("/states?type=bilateral&active_on=2000-01-01").json["items"])
    assert sorted(pacific) == ["jpn", "usa"]


def test_alliances_of_a_state_in_a_year(client) -> None:
    def alliances(slug: str, year: int) -> list[str]:
        return ids(client.get(f"/states/{slug}/alliances?year={year}").json["items"])

    assert alliances("aze", 1999) == ["collective-security-treaty"]
    assert alliances("aze", 2000) == []
    # the first Quad dialogue (2007 to 2008, known to the year) counts in 2008, not in 2009
    assert "quad" in alliances("usa", 2008) and "quad" not in alliances("usa", 2009)
    assert sorted(alliances("usa", 2009)) == ["nato", "us-india-partnership", "us-japan-alliance"]
    ever = client.get("/states/usa/alliances").json
    assert ever["total"] == 5 and ever["year"] is None
    quad = next(a for a in ever["items"] if a["id"] == "quad")
    assert [m["startDatePrecision"] for m in quad["memberships"]] == ["year", None]
    html = client.get("/states/usa/alliances?year=2008", headers=BROWSER).get_data(as_text=True)
    assert "Alliances of <a" in html and "Quadrilateral Security Dialogue" in html
    assert client.get("/states/zzz/alliances").status_code == 404


def test_listings_are_paged_with_next_links(client) -> None:
    first = client.get("/states?limit=10").json
    assert len(first["items"]) == 10 and first["total"] > 20 and first["previous"] is None
    seen, page = [], first
    while True:
        seen.extend(ids(page["items"]))
        if page["next"] is None:
            break
        page = client.get(page["next"]).json
    assert len(seen) == len(set(seen)) == first["total"]
    assert client.get("/states?limit=10&page=2").json["items"] == client.get("/states?limit=10&offset=10").json["items"]
    filtered = client.get("/states?alliance=nato&active_on=1990-01-01&limit=5").json
    query = parse_qs(urlsplit(filtered["next"]).query)
    assert query == {"alliance": ["nato"], "active_on": ["1990-01-01"], "limit": ["5"], "offset": ["5"]}


def test_listings_in_html_for_browsers(client) -> None:
    html = client.get("/alliances?active_on=1990-01-01", headers=BROWSER).get_data(as_text=True)
    assert 'href="/id/alliance/nato"' in html and "csto" not in html
    html = client.get("/states?alliance=nato&active_on=1990-01-01", headers=BROWSER).get_data(as_text=True)
    assert 'href="/id/state/esp"' in html and 'href="/id/state/pol"' not in html
    assert client.get("/alliances?format=json", headers=BROWSER).mimetype == "application/json"


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/alliances?active_on=1990-13-01", "active_on"),
        ("/alliances?active_on=1990-02-30", "active_on"),
        ("/alliances?active_on=yesterday", "active_on"),
        ("/alliances?active_on=1990-01-01%22%20.%20%7D", "active_on"),
        ("/alliances?region=atlantis", "region"),
        ("/alliances?region=%3Chttp://x%3E%20%7D", "region"),
        ("/alliances?type=trilateral", "type"),
        ("/alliances?limit=0", "limit"),
        ("/alliances?limit=many", "limit"),
        ("/alliances?limit=501", "limit"),
        ("/states?offset=-1", "offset"),
        ("/states?page=0", "page"),
        ("/states?page=2&offset=10", "page"),
        ("/states?alliance=warsaw-pact", "alliance"),
        ("/states?alliance=europe", "alliance"),
        ("/states/usa/alliances?year=19x", "year"),
        ("/states/usa/alliances?year=2000&active_on=2000-01-01", "year"),
        ("/id/state/usa?inference=maybe", "inference"),
        ("/alliances?format=ttl", "format"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, url: str, parameter: str) -> None:
    resp = client.get(url)
    assert resp.status_code == 400, resp.data
    assert resp.json["parameter"] == parameter
    assert parameter in resp.json["message"]


def test_the_home_page_links_to_the_listings_and_the_ontology(client) -> None:
    hrefs = {h for _, h in Links.of(client.get("/", headers=BROWSER).data).links}
    assert {"/alliances", "/states", "/ontology"} <= hrefs
    links = client.get("/", headers=JSON).json["links"]
    assert links["alliances"] == "/alliances" and links["ontology"] == "/ontology"


def test_documented_listing_output_is_what_the_service_answers(client) -> None:
    from docs.test_readme import _output_after

    http_api = (ROOT / "docs" / "http-api.md").read_text(encoding="utf-8")

    items = client.get("/alliances?active_on=1990-01-01").json["items"]
    shown = "".join(f"{a['id']} {a['foundingDate']}\n" for a in items)
    assert _output_after("/alliances?active_on=1990-01-01", http_api) == shown


def test_pages_and_listings_over_a_remote_store(remote_kb: KnowledgeBase, settings, write_policy) -> None:
    """The same pages over the SPARQL backend (`oxigraph serve` or Virtuoso on 127.0.0.1)."""
    from allianceld.web import create_app
    from allianceld.write import gate
    from conftest import SMALL_WORLD

    remote = remote_kb
    files = [settings.data_dir / f"{name}.ttl" for name in SMALL_WORLD]  # NATO's records
    gate.commit(remote, write_policy, gate.shipped_sources(settings.ontology_file, files))
    client = create_app({"SETTINGS": settings, "KB": remote, "TESTING": True}).test_client()
    page = client.get("/id/state/usa", headers=JSON).json
    assert page["label"] == "United States"
    assert any(g["property"]["short"] == "ald:alliedWith" for g in page["derived"])
    g = rdflib.Graph().parse(data=client.get("/id/alliance/nato?format=ttl").data, format="turtle")
    assert (NATO, URIRef(str(ORG.hasMember)), USA) in g
    members = client.get("/states?alliance=nato&active_on=1990-01-01&limit=100").json
    assert set(ids(members["items"])) == NATO_1990
    assert client.get("/ontology", headers=BROWSER).status_code == 200
    assert client.get("/id/state/zzz").status_code == 404
