"""The Graph Store HTTP Protocol at /data: reads public, writes through the gate, all or nothing."""

from __future__ import annotations

import pytest
import rdflib

from conftest import TEST_DATA

STATES = "https://w3id.org/allianceld/graph/data/states"
NEW = "https://w3id.org/allianceld/graph/data/test-pact"
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


def test_head_unknown_and_default(setup) -> None:
    client, *_ = setup
    head = client.head("/data", query_string={"graph": STATES})
    assert head.status_code == 200 and head.data == b""
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
    client, kb, alice, _ = setup
    before = kb.dump()
    resp = client.delete(f"/data?graph={STATES}", headers=auth(alice))
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
        (None, "graph=https://w3id.org/allianceld/graph/inferred", 400),
        (None, "default", 400),
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
