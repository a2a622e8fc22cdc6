"""The Graph Store HTTP Protocol at /data: reads public, writes through the gate, all or nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from flask.testing import FlaskClient

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from allianceld.vocab import DEFAULT_GRAPH, WRITE_RECORDS_GRAPH
from allianceld.web import create_app
from conftest import TEST_DATA

STATES = "https://w3id.org/allianceld/graph/data/states"
NEW = "https://w3id.org/allianceld/graph/user/test-pact"  # a contributor's own graph
VALID = (TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl").read_bytes()
INVALID = (TEST_DATA / "invalid" / "membership-start-before-founding.ttl").read_bytes()


def auth(token: str, ctype: str = "text/turtle") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": ctype}


def test_get_a_graph_in_each_syntax(setup) -> None:
    client, kb, *_ = setup
    for mime, fmt in [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml")]:
        resp = client.get("/data", query_string={"graph": STATES}, headers={"Accept": mime})
        assert resp.status_code == 200 and resp.mimetype == mime
        assert len(rdflib.Graph().parse(data=resp.data.decode(), format=fmt)) == kb.count(STATES)


def test_head_has_the_headers_of_get_and_no_body(client) -> None:
    for accept in ("text/turtle", "application/n-triples"):
        get = client.get("/data", query_string={"graph": STATES}, headers={"Accept": accept})
        head = client.head("/data", query_string={"graph": STATES}, headers={"Accept": accept})
        assert head.status_code == get.status_code == 200
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
        assert int(head.headers["Content-Length"]) == len(get.data) > 0
        assert head.data == b""
    assert client.head("/data", query_string={"graph": "http://nowhere/g"}).status_code == 404


def test_unknown_and_default(client) -> None:
    assert client.get("/data", query_string={"graph": "http://nowhere/g"}).status_code == 404
    assert client.get("/data?default").status_code == 200
    assert client.get("/data").status_code == 400
    assert client.get("/data", query_string={"graph": "not an iri"}).status_code == 400


def test_put_creates_then_replaces(setup) -> None:
    client, kb, alice, _ = setup
    assert client.put(f"/data?graph={NEW}", data=VALID, headers=auth(alice)).status_code == 201
    n = kb.count(NEW)
    assert n > 0
    assert client.put(f"/data?graph={NEW}", data=VALID, headers=auth(alice)).status_code == 204
    assert kb.count(NEW) == n


def test_invalid_put_is_422_and_changes_nothing(setup) -> None:
    client, kb, alice, _ = setup
    before = kb.dump()
    resp = client.put(f"/data?graph={NEW}", data=INVALID, headers=auth(alice))
    assert resp.status_code == 422
    assert kb.dump() == before


def test_delete_that_would_leave_dangling_memberships_is_refused(setup) -> None:
    client, kb, _, root = setup  # a curated graph: only an admin may change it
    before = kb.dump()
    resp = client.delete(f"/data?graph={STATES}", headers=auth(root))
    assert resp.status_code == 422  # every membership would point at a state that is no longer a State
    assert kb.dump() == before


def test_post_merges_and_delete_removes(setup) -> None:
    client, kb, alice, _ = setup
    assert client.post(f"/data?graph={NEW}", data=VALID, headers=auth(alice)).status_code == 201
    assert client.delete(f"/data?graph={NEW}", headers=auth(alice)).status_code == 204
    assert NEW not in kb.graphs()
    assert client.delete(f"/data?graph={NEW}", headers=auth(alice)).status_code == 404


@pytest.mark.parametrize(
    ("headers", "query", "status"),
    [
        ({"Content-Type": "text/turtle"}, f"graph={NEW}", 401),
        (None, "graph=https://w3id.org/allianceld/graph/ontology", 403),
        (None, "graph=https://w3id.org/allianceld/graph/inferred", 403),
        (None, f"default&graph={NEW}", 400),
        ({"Content-Type": "text/turtle"}, "default", 401),
    ],
)
def test_refused_writes_change_nothing(setup, headers, query: str, status: int) -> None:
    client, kb, alice, _ = setup
    before = kb.dump()
    resp = client.put(f"/data?{query}", data=VALID, headers=headers or auth(alice))
    assert resp.status_code == status
    assert kb.dump() == before


def test_bad_syntax_and_media_type(setup) -> None:
    client, kb, alice, _ = setup
    before = kb.dump()
    bad = client.put(f"/data?graph={NEW}", data=b"<a> <b> .", headers=auth(alice))
    assert bad.status_code == 400 and bad.get_json()["line"] == 1
    assert client.put(f"/data?graph={NEW}", data=VALID, headers=auth(alice, "image/png")).status_code == 415
    assert kb.dump() == before


def test_blank_nodes_of_two_posts_stay_distinct(setup) -> None:
    client, kb, alice, _ = setup
    body = b'_:a <http://xmlns.com/foaf/0.1/name> "x" .'
    graph = "http://www.example/gsp/people"
    for _ in range(2):
        assert client.post(
            f"/data?graph={graph}", data=body, headers=auth(alice, "application/n-triples")
        ).status_code in (
            201,
            204,
        )
    assert len({t.subject for t in kb.triples(graph)}) == 2


@pytest.fixture
def bare(tmp_path: Path, settings: Settings) -> tuple[FlaskClient, KnowledgeBase, str]:
    """A writable app over an empty in-memory store (writes are validated and reasoned over little):
    (client, kb, contributor token)."""
    local = Settings(store_path=None, home=settings.home, tokens_file=tmp_path / "tokens.json")
    kb = KnowledgeBase()
    token = TokenStore(local.tokens_file).create("alice", "contributor")
    return create_app({"SETTINGS": local, "KB": kb, "TESTING": True}).test_client(), kb, token


SR = "application/sparql-results+json"
THING = b'<http://example.org/thing/1> <http://www.w3.org/2000/01/rdf-schema#label> "one" .'
LABEL_OF_THING = (
    "SELECT ?label WHERE { <http://example.org/thing/1> <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
)


def labels(client: FlaskClient) -> list[str]:
    """The labels of the test thing, as a /sparql query sees them."""
    resp = client.get("/sparql", query_string={"query": LABEL_OF_THING}, headers={"Accept": SR})
    assert resp.status_code == 200
    return sorted(b["label"]["value"] for b in resp.get_json()["results"]["bindings"])


def test_default_graph_writes_show_up_in_queries(bare) -> None:
    client, kb, alice = bare
    assert client.get("/data?default").status_code == 200 and labels(client) == []
    assert client.put("/data?default", data=THING, headers=auth(alice, "application/n-triples")).status_code == 204
    assert labels(client) == ["one"]
    assert kb.triples(DEFAULT_GRAPH) == [t.triple for t in ox.parse(THING, format=ox.RdfFormat.N_TRIPLES)]
    two = b'<http://example.org/thing/1> <http://www.w3.org/2000/01/rdf-schema#label> "two" .'
    assert client.post("/data?default", data=two, headers=auth(alice, "application/n-triples")).status_code == 204
    assert labels(client) == ["one", "two"]
    named = client.get("/data", query_string={"graph": DEFAULT_GRAPH}, headers={"Accept": "application/n-triples"})
    got = client.get("/data?default", headers={"Accept": "application/n-triples"})
    assert len(list(ox.parse(got.data, format=ox.RdfFormat.N_TRIPLES))) == 2
    assert named.data == got.data  # ?default and its graph IRI are the same triples
    assert client.delete("/data?default", headers=auth(alice)).status_code == 204
    assert labels(client) == []
    assert client.get("/data?default").status_code == 200  # the default graph always exists


def test_post_to_the_store_creates_a_graph_at_its_location(bare) -> None:
    client, kb, alice = bare
    before = set(kb.graphs())
    resp = client.post("/data", data=THING, headers=auth(alice, "application/n-triples"))
    assert resp.status_code == 201 and resp.data == b""
    location = resp.headers["Location"]
    assert set(kb.graphs()) - before == {location, WRITE_RECORDS_GRAPH}  # and the record of the write
    assert location.startswith("https://w3id.org/allianceld/graph/user/posted-")
    got = client.get("/data", query_string={"graph": location}, headers={"Accept": "application/n-triples"})
    assert got.status_code == 200
    assert [q.triple for q in ox.parse(got.data, format=ox.RdfFormat.N_TRIPLES)] == kb.triples(location)
    assert len(kb.triples(location)) == 1
    again = client.post("/data", data=THING, headers=auth(alice, "application/n-triples"))
    assert again.headers["Location"] not in (location, None)


def test_multipart_post_merges_every_part(bare) -> None:
    client, kb, alice = bare
    parts = {
        "a": (io.BytesIO(THING), "a.nt", "application/n-triples"),
        "b": (
            io.BytesIO(b'<http://example.org/thing/2> <http://www.w3.org/2000/01/rdf-schema#label> "x" .'),
            "b.ttl",
            "text/turtle",
        ),
    }
    headers = {"Authorization": f"Bearer {alice}"}
    resp = client.post(f"/data?graph={NEW}", data=parts, headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 201
    assert {t.subject.value for t in kb.triples(NEW)} == {"http://example.org/thing/1", "http://example.org/thing/2"}
    form = client.post(
        f"/data?graph={NEW}", data={"text": THING.decode()}, headers=headers, content_type="multipart/form-data"
    )
    assert form.status_code == 400  # a part without a file name carries no Content-Type
    put = client.put(
        f"/data?graph={NEW}",
        data={"a": (io.BytesIO(THING), "a.nt", "application/n-triples")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert put.status_code == 415


def test_a_write_that_would_leave_a_named_graph_empty_is_refused(bare) -> None:
    client, kb, alice = bare
    assert client.put(f"/data?graph={NEW}", data=THING, headers=auth(alice, "application/n-triples")).status_code == 201
    before = kb.dump()
    assert client.put(f"/data?graph={NEW}", data=b"", headers=auth(alice)).status_code == 400
    assert client.put("/data?graph=http://example.org/empty", data=b"", headers=auth(alice)).status_code == 400
    assert client.post("/data", data=b"", headers=auth(alice)).status_code == 400
    assert kb.dump() == before
    assert client.put("/data?default", data=b"", headers=auth(alice)).status_code == 204
