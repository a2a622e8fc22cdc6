"""The SPARQL 1.1 Query Protocol at /sparql: methods, result formats, errors."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import rdflib

NATO_1990 = """
PREFIX ald: <https://w3id.org/allianceld/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?state WHERE {
  ?m org:organization <https://w3id.org/allianceld/id/alliance/nato> ; org:member ?state ; ald:startDate ?start .
  OPTIONAL { ?m ald:endDate ?end }
  FILTER(?start <= "1990-01-01"^^<http://www.w3.org/2001/XMLSchema#date>
         && (!BOUND(?end) || ?end > "1990-01-01"^^<http://www.w3.org/2001/XMLSchema#date>))
} ORDER BY ?state
"""
CONSTRUCT = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { <https://w3id.org/allianceld/id/alliance/nato> rdfs:label ?l }
WHERE { <https://w3id.org/allianceld/id/alliance/nato> rdfs:label ?l }
"""
SR = "application/sparql-results+json"


def _states(body: bytes) -> list[str]:
    return [b["state"]["value"].rsplit("/", 1)[1] for b in json.loads(body)["results"]["bindings"]]


def test_get_query_returns_sparql_json(client) -> None:
    resp = client.get("/sparql", query_string={"query": NATO_1990}, headers={"Accept": SR})
    assert resp.status_code == 200
    assert resp.mimetype == SR
    states = _states(resp.data)
    assert len(states) == 16
    assert {"usa", "deu", "esp", "tur", "grc"} <= set(states)
    assert "pol" not in states


def test_post_form_and_post_direct_agree(client) -> None:
    form = client.post("/sparql", data={"query": NATO_1990}, headers={"Accept": SR})
    direct = client.post("/sparql", data=NATO_1990, headers={"Accept": SR, "Content-Type": "application/sparql-query"})
    assert form.status_code == direct.status_code == 200
    assert _states(form.data) == _states(direct.data)


def test_default_without_accept_is_json(client) -> None:
    resp = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert resp.mimetype == SR
    assert json.loads(resp.data) == {"head": {}, "boolean": True}


def test_xml_results(client) -> None:
    accept = {"Accept": "application/sparql-results+xml"}
    resp = client.get("/sparql", query_string={"query": NATO_1990}, headers=accept)
    assert resp.mimetype == "application/sparql-results+xml"
    root = ET.fromstring(resp.data)
    ns = {"s": "http://www.w3.org/2005/sparql-results#"}
    assert len(root.findall("s:results/s:result", ns)) == 16


@pytest.mark.parametrize(("mime", "delimiter"), [("text/csv", ","), ("text/tab-separated-values", "\t")])
def test_csv_and_tsv_results(client, mime: str, delimiter: str) -> None:
    resp = client.get("/sparql", query_string={"query": NATO_1990}, headers={"Accept": mime})
    assert resp.status_code == 200
    assert resp.mimetype == mime
    rows = list(csv.reader(io.StringIO(resp.data.decode()), delimiter=delimiter))
    assert rows[0][0].lstrip("?") == "state"
    assert len([r for r in rows[1:] if r]) == 16


def test_q_values_are_honoured(client) -> None:
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9"
    resp = client.get("/sparql", query_string={"query": NATO_1990}, headers={"Accept": accept})
    assert resp.mimetype == "text/csv"


@pytest.mark.parametrize(
    ("mime", "fmt"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_in_every_rdf_syntax(client, mime: str, fmt: str) -> None:
    resp = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": mime})
    assert resp.status_code == 200
    assert resp.mimetype == mime
    g = rdflib.Graph().parse(data=resp.data.decode(), format=fmt)
    labels = {str(o) for o in g.objects()}
    assert any("North Atlantic" in label for label in labels)


def test_describe_defaults_to_turtle(client) -> None:
    resp = client.get("/sparql", query_string={"query": "DESCRIBE <https://w3id.org/allianceld/id/state/usa>"})
    assert resp.mimetype == "text/turtle"
    assert len(rdflib.Graph().parse(data=resp.data.decode(), format="turtle")) > 3


def test_syntax_error_is_400_with_the_parser_message(client) -> None:
    resp = client.get("/sparql", query_string={"query": "SELEC ?x WHERE {}"}, headers={"Accept": SR})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "query-syntax-error"
    assert "1:1" in body["message"] or "line 1" in body["message"] or "expected" in body["message"]


def test_nothing_acceptable_is_406(client) -> None:
    resp = client.get("/sparql", query_string={"query": NATO_1990}, headers={"Accept": "image/png"})
    assert resp.status_code == 406
    assert "text/csv" in resp.get_json()["message"]


def test_missing_query_is_400(client) -> None:
    resp = client.get("/sparql", headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert resp.get_json()["parameter"] == "query"


def test_two_queries_are_400(client) -> None:
    resp = client.get("/sparql?query=ASK{}&query=ASK{}")
    assert resp.status_code == 400


def test_wrong_content_type_is_415(client) -> None:
    resp = client.post("/sparql", data="ASK {}", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415


def test_update_without_a_token_is_refused(client) -> None:
    resp = client.post(
        "/sparql", data={"update": "INSERT DATA { GRAPH <http://g> { <http://a> <http://b> <http://c> } }"}
    )
    assert resp.status_code == 401
    ask = client.get("/sparql", query_string={"query": "ASK { <http://a> <http://b> <http://c> }"})
    assert ask.get_json()["boolean"] is False


def test_dataset_parameters_restrict_the_default_graph(client) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://www.w3.org/2002/07/owl#Class> }"
    onto = client.get(
        "/sparql", query_string={"query": q, "default-graph-uri": "https://w3id.org/allianceld/graph/ontology"}
    )
    data = client.get(
        "/sparql", query_string={"query": q, "default-graph-uri": "https://w3id.org/allianceld/graph/data/nato"}
    )
    assert int(onto.get_json()["results"]["bindings"][0]["n"]["value"]) > 30
    assert int(data.get_json()["results"]["bindings"][0]["n"]["value"]) == 0


def test_inference_false_hides_derived_facts(client) -> None:
    q = "ASK { <https://w3id.org/allianceld/id/state/usa> <http://www.w3.org/ns/org#memberOf> ?a }"
    assert client.get("/sparql", query_string={"query": q}).get_json()["boolean"] is True
    assert client.get("/sparql", query_string={"query": q, "inference": "false"}).get_json()["boolean"] is False


def test_browser_gets_a_query_form_and_html_results(client) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200
    assert b"<textarea" in page.data
    results = client.get(
        "/sparql", query_string={"query": NATO_1990}, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert results.mimetype == "text/html"
    assert b"16 row(s)" in results.data


def test_results_larger_than_the_maximum_are_refused(settings, shared_kb) -> None:
    from dataclasses import replace

    from allianceld.web import create_app

    small = create_app({"SETTINGS": replace(settings, max_result_bytes=2000), "KB": shared_kb}).test_client()
    big = small.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers={"Accept": SR})
    assert big.status_code == 400
    assert big.get_json()["error"] == "result-too-large"
    graph = small.get(
        "/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"}
    )
    assert graph.status_code == 400
    ok = small.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2"}, headers={"Accept": SR})
    assert ok.status_code == 200


def test_media_type_parameters_in_accept_do_not_prevent_a_match(client) -> None:
    resp = client.get("/sparql", query_string={"query": NATO_1990}, headers={"Accept": "text/csv; charset=utf-8"})
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
