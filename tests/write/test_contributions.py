"""/contributions on an on-disk store: validated commits with PROV-O provenance, listing, conneg,
retraction by an admin; refused writes leave the store dump byte-identical."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from allianceld.vocab import PROV, SH
from conftest import TEST_DATA, Site, open_site

ID = "https://w3id.org/allianceld/id/"
VALID = (TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl").read_bytes()
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
NATO_SOURCE = "https://www.nato.int/cps/en/natohq/topics_52044.htm"  # titled in data/sources.ttl
SYNTAXES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def nato_partnership(start: str) -> bytes:
    """Australia as a NATO partner from ``start``: NATO (in the store) was founded on 1949-04-04."""
    return f"""@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}membership/nato-aus> a org:Membership ; org:member <{ID}state/aus> ;
    org:organization <{ID}alliance/nato> ; org:role ald:Partner ; ald:startDate "{start}"^^xsd:date ;
    prov:wasDerivedFrom <{NATO_SOURCE}> .
""".encode()


def contribute(
    site: Site,
    body: bytes = VALID,
    ctype: str | None = "text/turtle",
    token: str | None = None,
    accept: str = "",
    **params: str,
):
    """POST ``body`` to /contributions with the contributor's token (or ``token``); ``params`` go
    in the query string."""
    headers = site.auth(token, ctype, **({"Accept": accept} if accept else {}))
    return site.client.post("/contributions", data=body, query_string=params, headers=headers)


def graph_of(data: str, fmt: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=data, format=fmt)


def test_contribution_is_committed_with_its_provenance(tmp_path: Path, small_store) -> None:
    site = open_site(tmp_path, small_store, query_timeout=30)  # /sparql in query workers, as in production
    try:
        resp = contribute(site, source="https://example.org/test-source", license=CC_BY, comment="a test pact")
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        cid, graph, record = body["id"], body["graph"], body["record"]
        assert resp.headers["Location"] == f"/contributions/{cid}" == body["url"]
        assert graph == f"https://w3id.org/allianceld/graph/contribution/{cid}"
        assert body["triples"] == len(site.kb.triples(graph)) == len(graph_of(VALID.decode(), "turtle"))
        assert (body["agent"], body["source"], body["license"], body["comment"]) == (
            "alice",
            "https://example.org/test-source",
            CC_BY,
            "a test pact",
        )
        assert body["retracted"] is None and body["warnings"] == []
        # the record, through the public SPARQL endpoint
        query = f"""
            PREFIX prov: <http://www.w3.org/ns/prov#>
            PREFIX dcterms: <http://purl.org/dc/terms/>
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            SELECT ?name ?time ?ended ?source ?license ?comment ?n WHERE {{
              GRAPH <{record}> {{
                <{graph}> a prov:Entity ; prov:wasAttributedTo ?agent ; prov:generatedAtTime ?time ;
                  prov:wasGeneratedBy ?activity ; dcterms:source ?source ; dcterms:license ?license ;
                  rdfs:comment ?comment ; <http://rdfs.org/ns/void#triples> ?n .
                ?agent a prov:Agent ; rdfs:label ?name .
                ?activity a prov:Activity ; prov:wasAssociatedWith ?agent ; prov:endedAtTime ?ended .
                <{record}> a prov:Bundle .
              }}
            }}"""
        answer = site.client.post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
        rows = answer.get_json()["results"]["bindings"]
        assert len(rows) == 1
        row = {k: v["value"] for k, v in rows[0].items()}
        assert row["name"] == "alice" and row["time"] == row["ended"] == body["time"]
        assert rows[0]["time"]["datatype"] == "http://www.w3.org/2001/XMLSchema#dateTime"
        assert body["time"].endswith("Z")
        assert (row["source"], row["license"], row["comment"], int(row["n"])) == (
            "https://example.org/test-source",
            CC_BY,
            "a test pact",
            body["triples"],
        )
        # the data is queryable with its inferences; the record is neither validated nor reasoned over
        ask = f"ASK {{ <{ID}state/xta> <http://www.w3.org/ns/org#memberOf> <{ID}alliance/test-pact> }}"
        assert site.client.get("/sparql", query_string={"query": ask}).get_json()["boolean"] is True
        assert record not in site.kb.data_graphs() and record not in site.kb.knowledge_graphs()
        inferred = "https://w3id.org/allianceld/graph/inferred"
        assert not bool(site.kb.query(f"ASK {{ GRAPH <{inferred}> {{ <{graph}> ?p ?o }} }}"))
    finally:
        site.app.extensions["allianceld"].close()
        site.kb.close()


def test_each_rdf_syntax_then_the_list_is_paged_newest_first(site: Site) -> None:
    valid = [q.triple for q in ox.parse(VALID, format=ox.RdfFormat.TURTLE)]  # no blank nodes
    ids = []
    for mime, fmt in SYNTAXES.items():  # each with a comment of its own: the same data twice is refused
        note = ox.Triple(
            ox.NamedNode(f"{ID}alliance/test-pact"), ox.NamedNode(str(rdflib.RDFS.comment)), ox.Literal(mime)
        )
        triples = [*valid, note]
        resp = contribute(site, ox.serialize(triples, format=fmt), mime, comment=mime)
        assert resp.status_code == 201, (mime, resp.get_json())
        ids.append(resp.get_json()["id"])
        assert resp.get_json()["triples"] == len(triples)
        assert set(site.kb.triples(resp.get_json()["graph"])) == set(triples)
    newest_first = ids[::-1]
    first = site.client.get("/contributions", query_string={"limit": 3}).get_json()
    assert (first["total"], first["limit"], first["offset"]) == (4, 3, 0)
    assert [i["id"] for i in first["items"]] == newest_first[:3]
    assert [i["comment"] for i in first["items"]] == list(SYNTAXES)[::-1][:3]
    assert first["next"] == "/contributions?limit=3&offset=3"
    second = site.client.get(first["next"]).get_json()
    assert [i["id"] for i in second["items"]] == newest_first[3:] and second["next"] is None
    default = site.client.get("/contributions").get_json()
    assert default["limit"] == 50 and len(default["items"]) == 4
    for params in ({"limit": "0"}, {"limit": "501"}, {"limit": "ten"}, {"offset": "-1"}):
        bad = site.client.get("/contributions", query_string=params)
        assert bad.status_code == 400 and bad.get_json()["parameter"] == next(iter(params))
    page = site.client.get("/contributions", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html"
    for cid in ids:
        assert f'href="/contributions/{cid}"'.encode() in page.data


def test_a_membership_of_an_existing_alliance_is_checked_against_its_founding(site: Site) -> None:
    before = site.kb.dump()
    resp = contribute(site, nato_partnership("1949-01-01"))
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "validation-failed" and body["status"] == 422
    result = next(r for r in body["report"]["results"] if r["severity"] == "Violation")
    assert result["focusNode"] == f"{ID}membership/nato-aus"
    assert result["sourceShape"] == "https://w3id.org/allianceld/shapes#Membership-startAfterFounding"
    assert result["value"] == '"1949-01-01"^^<http://www.w3.org/2001/XMLSchema#date>'
    assert "1949-04-04" in result["message"]
    assert {"focusLabel", "path", "constraint"} <= set(result)
    as_turtle = contribute(site, nato_partnership("1949-01-01"), accept="text/turtle")
    assert as_turtle.status_code == 422 and as_turtle.mimetype == "text/turtle"
    report = graph_of(as_turtle.data.decode(), "turtle")
    assert (None, SH.conforms, rdflib.Literal(False)) in report
    as_html = contribute(site, nato_partnership("1949-01-01"), accept="text/html")
    assert as_html.status_code == 422 and as_html.mimetype == "text/html"
    assert b'id="refused"' in as_html.data and b"1949-04-04" in as_html.data
    assert site.kb.dump() == before
    assert site.client.get("/contributions").get_json()["total"] == 0
    assert contribute(site, nato_partnership("2012-05-20")).status_code == 201  # after the founding


def test_tokens_and_roles(site: Site) -> None:
    before = site.kb.dump()
    anonymous = site.client.post("/contributions", data=VALID, headers={"Content-Type": "text/turtle"})
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert contribute(site, token="not-a-token").status_code == 401
    assert site.kb.dump() == before
    assert site.client.get("/contributions").status_code == 200  # reads are public


def test_bad_requests_write_nothing(site: Site) -> None:
    before = site.kb.dump()
    unsupported = contribute(site, ctype="image/png")
    assert unsupported.status_code == 415 and "text/turtle" in unsupported.get_json()["accepted"]
    assert contribute(site, ctype=None).status_code == 415
    assert contribute(site, b"  \n").status_code == 400
    syntax = contribute(site, b"<a> <b> .")
    assert syntax.status_code == 400 and syntax.get_json()["line"] == 1
    for name in ("source", "license"):
        bad = contribute(site, **{name: "not an iri"})
        assert bad.status_code == 400 and bad.get_json()["parameter"] == name
    assert site.kb.dump() == before


def test_a_form_upload_carries_its_metadata(site: Site) -> None:
    form = {
        "file": (io.BytesIO(VALID), "pact.ttl", "application/octet-stream"),
        "source": "https://example.org/test-source",
        "comment": "uploaded",
    }
    resp = site.client.post("/contributions", data=form, headers=site.auth(ctype=None))
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["source"], resp.get_json()["comment"]) == ("https://example.org/test-source", "uploaded")
    pasted = {"data": nato_partnership("2012-05-20").decode(), "format": "text/turtle", "license": CC_BY}
    resp = site.client.post("/contributions", data=pasted, headers=site.auth(ctype=None))
    assert resp.status_code == 201 and resp.get_json()["license"] == CC_BY


@pytest.fixture
def contributed(site: Site) -> tuple[Site, dict]:
    resp = contribute(site, source="https://example.org/test-source", comment="to read")
    assert resp.status_code == 201
    return site, resp.get_json()


def test_one_contribution_by_content_negotiation(contributed) -> None:
    site, made = contributed
    url = made["url"]
    expected = graph_of(VALID.decode(), "turtle")
    as_json = site.client.get(url).get_json()
    assert as_json["id"] == made["id"] and as_json["comment"] == "to read"
    assert len(graph_of(as_json["data"]["text"], "turtle")) == len(expected)
    assert (None, PROV.wasAttributedTo, None) in graph_of(as_json["provenance"]["text"], "turtle")
    for mime in ("application/trig", "application/n-quads"):
        resp = site.client.get(url, headers={"Accept": mime})
        assert resp.mimetype == mime
        names = {q.graph_name.value for q in ox.parse(resp.data, format=ox.RdfFormat.from_media_type(mime))}
        assert names == {made["graph"], made["record"]}
    record_size = len(site.kb.triples(made["record"]))
    for mime, fmt in (
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ):
        resp = site.client.get(url, headers={"Accept": mime})
        assert resp.status_code == 200 and resp.mimetype == mime
        assert len(graph_of(resp.data.decode(), fmt)) == len(expected) + record_size
    page = site.client.get(url, headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and b'id="provenance"' in page.data and b"test-pact" in page.data
    assert site.client.get(url, headers={"Accept": "image/png"}).status_code == 406
    assert site.client.get("/contributions/0123456789ab").status_code == 404
    assert site.client.get("/contributions/not-an-id").status_code == 404


def test_retraction_by_an_admin_keeps_the_record(contributed) -> None:
    site, made = contributed
    url, graph = made["url"], made["graph"]
    memberof = f"ASK {{ <{ID}state/xta> <http://www.w3.org/ns/org#memberOf> <{ID}alliance/test-pact> }}"
    assert bool(site.kb.query(memberof))
    before = site.kb.dump()
    assert site.client.delete(url, headers=site.auth(ctype=None)).status_code == 403  # a contributor
    assert site.client.delete(url).status_code == 401
    assert site.kb.dump() == before
    resp = site.client.delete(url, query_string={"reason": "duplicate"}, headers=site.auth(site.admin, None))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["retracted"] and body["retractedBy"] == "root" and body["reason"] == "duplicate"
    assert graph not in site.kb.graphs() and not bool(site.kb.query(memberof))  # inferences recomputed
    record = graph_of(ox.serialize(site.kb.triples(made["record"]), format=ox.RdfFormat.N_TRIPLES).decode(), "nt")
    g = rdflib.URIRef(graph)
    activity = record.value(g, PROV.wasInvalidatedBy)
    assert record.value(g, PROV.invalidatedAtTime) is not None
    assert (activity, PROV.wasAssociatedWith, rdflib.URIRef(f"{ID}agent/root")) in record
    assert str(record.value(activity, rdflib.RDFS.comment)) == "duplicate"
    assert record.value(g, PROV.wasAttributedTo) == rdflib.URIRef(f"{ID}agent/alice")  # kept
    after = site.client.get(url).get_json()
    assert after["retracted"] == body["retracted"] and after["data"]["text"] == ""
    listed = site.client.get("/contributions").get_json()["items"]
    assert listed[0]["retracted"] == body["retracted"]
    again = site.client.delete(url, headers=site.auth(site.admin, None))
    assert again.status_code == 409
    assert site.client.delete("/contributions/0123456789ab", headers=site.auth(site.admin, None)).status_code == 404


def test_a_retraction_that_would_leave_other_data_invalid_is_refused(contributed) -> None:
    site, made = contributed
    # a second contribution: a membership of the alliance that only the first one defines
    extra = f"""@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}membership/test-pact-xtc> a org:Membership ; org:member <{ID}state/xtc> ;
    org:organization <{ID}alliance/test-pact> ; org:role ald:Member ; ald:startDate "1995-01-01"^^xsd:date ;
    prov:wasDerivedFrom <https://example.org/test-source> .
""".encode()
    assert contribute(site, extra).status_code == 201
    before = site.kb.dump()
    resp = site.client.delete(made["url"], headers=site.auth(site.admin, None))
    assert resp.status_code == 422
    focus = {r["focusNode"] for r in resp.get_json()["report"]["results"]}
    assert f"{ID}membership/test-pact-xtc" in focus
    assert site.kb.dump() == before
    assert site.client.get(made["url"]).get_json()["retracted"] is None
