"""Home page, /validate and /reasoning through the Flask test client."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import rdflib

from allianceld.vocab import SH
from conftest import TEST_DATA, requires_java

HTML = {"Accept": "text/html"}


def test_home_page_counts_what_is_in_the_store(client) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    assert b"allianceld" in page.data
    data = client.get("/", headers={"Accept": "application/json"}).get_json()
    assert data["counts"]["alliances"] >= 9
    assert data["counts"]["states"] >= 40
    assert data["counts"]["memberships"] >= 60
    assert f'id="count-alliances">{data["counts"]["alliances"]}<'.encode() in page.data
    for link in ("/sparql", "/reasoning"):
        assert f'href="{link}"'.encode() in page.data


def _bad_fixture() -> Path:
    return TEST_DATA / "invalid" / "membership-start-before-founding.ttl"


def test_validate_reports_violations_as_json(client) -> None:
    body = _bad_fixture().read_bytes()
    resp = client.post("/validate", data=body, headers={"Content-Type": "text/turtle"})
    assert resp.status_code == 200
    report = resp.get_json()
    assert report["conforms"] is False
    result = next(r for r in report["results"] if r["severity"] == "Violation")
    assert {"focusNode", "focusLabel", "path", "value", "sourceShape", "message"} <= set(result)


def test_validate_reports_as_turtle(client) -> None:
    body = _bad_fixture().read_bytes()
    resp = client.post("/validate", data=body, headers={"Content-Type": "text/turtle", "Accept": "text/turtle"})
    assert resp.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=resp.data.decode(), format="turtle")
    assert (None, SH.conforms, rdflib.Literal(False)) in g


def test_validate_reports_as_html(client) -> None:
    body = _bad_fixture().read_bytes()
    resp = client.post("/validate", data=body, headers={"Content-Type": "text/turtle", **HTML})
    assert resp.mimetype == "text/html"
    assert b"Does not conform" in resp.data


def test_validate_accepts_valid_data(client) -> None:
    for f in sorted((TEST_DATA / "valid").glob("*.ttl")):
        resp = client.post("/validate", data=f.read_bytes(), headers={"Content-Type": "text/turtle"})
        assert resp.get_json()["accepted"] is True, (f.name, resp.get_json())


def test_validate_rejects_bad_syntax_with_line_and_column(client) -> None:
    resp = client.post("/validate", data=b"<http://a> <http://b> .\n", headers={"Content-Type": "text/turtle"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "rdf-syntax-error"
    assert body["line"] == 1


def test_validate_rejects_unknown_content_type_and_empty_body(client) -> None:
    assert client.post("/validate", data=b"x", headers={"Content-Type": "image/png"}).status_code == 415
    empty = client.post("/validate", data=b"", headers={"Content-Type": "text/turtle"})
    assert empty.status_code == 400


def test_validate_does_not_write(client) -> None:
    before = client.get("/", headers={"Accept": "application/json"}).get_json()["triples"]
    client.post("/validate", data=_bad_fixture().read_bytes(), headers={"Content-Type": "text/turtle"})
    assert client.get("/", headers={"Accept": "application/json"}).get_json()["triples"] == before


@requires_java
def test_reasoning_reports_derived_facts_and_consistency(client) -> None:
    data = client.get("/reasoning", headers={"Accept": "application/json"}).get_json()
    assert data["consistency"]["consistent"] is True
    assert data["derived"]["byProperty"]["http://www.w3.org/ns/org#memberOf"] >= 32
    assert data["derived"]["typesByClass"]["https://w3id.org/allianceld/ontology#CollectiveDefenceAlliance"] >= 1
    members = {(r["organization"], r["member"]) for r in data["memberOf"]}
    assert ("https://w3id.org/allianceld/id/alliance/nato", "https://w3id.org/allianceld/id/state/swe") in members
    page = client.get("/reasoning", headers=HTML)
    assert b"consistent" in page.data
    assert b"Sweden" in page.data


def test_unknown_path_is_404_json(client) -> None:
    resp = client.get("/nowhere", headers={"Accept": "application/json"})
    assert resp.status_code == 404
    assert resp.get_json()["status"] == 404


def test_validate_reports_warnings_only_about_the_posted_records(client) -> None:
    report = client.post(
        "/validate", data=_bad_fixture().read_bytes(), headers={"Content-Type": "text/turtle"}
    ).get_json()
    assert all("/test-" in r["focusNode"] or "example.org" in r["focusNode"] for r in report["results"])
    assert report["violations"] == 1


def test_request_body_limit_is_413(settings, shared_kb) -> None:
    from dataclasses import replace

    from allianceld.web import create_app

    small = create_app({"SETTINGS": replace(settings, max_body_bytes=100), "KB": shared_kb}).test_client()
    resp = small.post("/validate", data=b"#" * 1000, headers={"Content-Type": "text/turtle"})
    assert resp.status_code == 413
    assert resp.get_json()["status"] == 413


def test_home_page_form_posts_a_file_or_pasted_text_to_validate(site) -> None:
    page = site.client.get("/", headers=HTML).data.decode()
    form = page[page.index('<form id="validate-form"') : page.index("</form>")]
    assert 'action="/validate"' in form and 'method="post"' in form and 'enctype="multipart/form-data"' in form
    for control in ('type="file" name="file"', 'name="data"', 'name="format"', 'value="application/ld+json"'):
        assert control in form
    bad = _bad_fixture().read_bytes()
    # a browser sends a .ttl file as application/octet-stream: the syntax comes from its name
    upload = {"file": (io.BytesIO(bad), "membership.ttl", "application/octet-stream"), "format": "", "data": ""}
    resp = site.client.post("/validate", data=upload, headers=HTML)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert b"Does not conform" in resp.data and b"Membership-startAfterFounding" in resp.data
    assert b"test-pact-xta" in resp.data and b"1990-05-01" in resp.data  # focus node, founding date
    nt = ox.serialize(ox.parse(bad, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES).decode()
    pasted = {"data": nt, "format": "application/n-triples"}
    resp = site.client.post("/validate", data=pasted, headers=HTML, content_type="multipart/form-data")
    assert resp.status_code == 200 and b"Does not conform" in resp.data
    as_json = site.client.post("/validate", data=pasted, content_type="multipart/form-data").get_json()
    assert as_json["conforms"] is False and as_json["violations"] == 1
    empty = site.client.post("/validate", data={"data": " "}, content_type="multipart/form-data")
    assert empty.status_code == 400 and empty.get_json()["parameter"] == "data"
    unknown = {"file": (io.BytesIO(bad), "membership.txt2", "application/octet-stream")}
    assert site.client.post("/validate", data=unknown).status_code == 415
