"""Idempotency keys on the embedded store: every write's answer names its key, a retry of a landed
write is answered from its record and not written again, a malformed or reused key is refused, and
the records are read-only to clients."""

from __future__ import annotations

from allianceld.vocab import WRITE_RECORDS_GRAPH
from conftest import TEST_DATA, Site

VALID = (TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl").read_bytes()
MINE = "https://w3id.org/allianceld/graph/user/mine"
THING = b'<http://example.org/thing/1> <http://www.w3.org/2000/01/rdf-schema#label> "one" .\n'


def test_a_write_without_a_key_gets_one_and_its_record_says_it_landed(site: Site) -> None:
    resp = site.client.put(f"/data?graph={MINE}", data=THING, headers=site.auth(ctype="application/n-triples"))
    assert resp.status_code == 201
    key = resp.headers["Idempotency-Key"]
    found = site.client.get(f"/writes/{key}", headers=site.auth(ctype=None))
    assert found.status_code == 200
    assert found.json["state"] == "landed" and found.json["status"] == 201 and found.json["agent"] == "alice"
    assert found.json["request"] == "PUT /data"


def test_a_retried_contribution_is_the_first_one_not_a_second(site: Site) -> None:
    first = site.client.post("/contributions", data=VALID, headers=site.auth(**{"Idempotency-Key": "c-1"}))
    assert first.status_code == 201 and "Idempotency-Replayed" not in first.headers
    count = len(site.kb.quads(site.kb.graphs()))
    again = site.client.post("/contributions", data=VALID, headers=site.auth(**{"Idempotency-Key": "c-1"}))
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json["id"] == first.json["id"] and again.headers["Location"] == first.headers["Location"]
    assert len(site.kb.quads(site.kb.graphs())) == count


def test_a_malformed_key_is_refused_before_anything_is_written(site: Site) -> None:
    before = site.kb.graphs()
    for key in ("has space", "x" * 201, "a/b"):
        resp = site.client.put(
            f"/data?graph={MINE}",
            data=THING,
            headers=site.auth(ctype="application/n-triples", **{"Idempotency-Key": key}),
        )
        assert resp.status_code == 400 and "Idempotency-Key" in resp.json["message"], key
    assert site.kb.graphs() == before


def test_a_key_that_landed_for_another_request_or_writer_is_refused(site: Site) -> None:
    put = site.auth(ctype="application/n-triples", **{"Idempotency-Key": "k"})
    assert site.client.put(f"/data?graph={MINE}", data=THING, headers=put).status_code == 201
    update = f"INSERT DATA {{ GRAPH <{MINE}> {{ <http://example.org/thing/2> <http://example.org/p> 1 }} }}"
    other = site.client.post(
        "/sparql", data=update, headers=site.auth(ctype="application/sparql-update", **{"Idempotency-Key": "k"})
    )
    assert other.status_code == 422 and other.json["error"] == "idempotency-key-reused"
    admin = site.client.put(
        f"/data?graph={MINE}",
        data=THING,
        headers=site.auth(site.admin, "application/n-triples", **{"Idempotency-Key": "k"}),
    )
    assert admin.status_code == 422 and "another writer" in admin.json["message"]


def test_a_key_never_written_has_not_landed(site: Site) -> None:
    resp = site.client.get("/writes/never", headers=site.auth(ctype=None))
    assert resp.status_code == 404 and resp.json["error"] == "write-not-landed" and resp.json["state"] == "not-landed"
    assert site.client.get("/writes/never").status_code == 401


def test_the_records_of_the_writes_are_read_only(site: Site) -> None:
    assert (
        site.client.put(f"/data?graph={MINE}", data=THING, headers=site.auth(ctype="application/n-triples")).status_code
        == 201
    )
    forged = site.client.put(
        f"/data?graph={WRITE_RECORDS_GRAPH}", data=THING, headers=site.auth(site.admin, "application/n-triples")
    )
    assert forged.status_code == 403
    dropped = site.client.post(
        "/sparql",
        data=f"DROP GRAPH <{WRITE_RECORDS_GRAPH}>",
        headers=site.auth(site.admin, "application/sparql-update"),
    )
    assert dropped.status_code == 403
