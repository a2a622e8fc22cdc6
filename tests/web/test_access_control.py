"""Access control, as a table over every write route of the app (issue 8, point 4).

The write routes are read from ``app.url_map`` (every POST, PUT, DELETE and PATCH), so a route
added without an entry here, or in :data:`PUBLIC_POSTS`, fails
:func:`test_every_write_route_is_in_the_table`; each entry is then sent without a token, with
tokens that are not valid and, where an admin is needed, with a contributor's token: 401, 401
and 403, the store's dump unchanged each time; the same request with the right role succeeds, so
the refusals come from the token check and not from a malformed request.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from werkzeug.routing import Map, Rule
from werkzeug.test import TestResponse

from allianceld.tokens import TokenStore
from allianceld.vocab import ONTOLOGY_GRAPH
from conftest import Site, open_site
from write.test_contributions import VALID

WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}
# POST routes anyone may call, and why they write nothing
PUBLIC_POSTS = {
    ("/validate", "POST"): "a dry run: the SHACL report of the posted data",
    ("/reconcile", "POST"): "reconciliation queries (W3C Reconciliation API 0.2)",
    ("/reconcile/match", "POST"): "reconciliation queries (the 1.0 draft)",
    ("/sparql", "POST"): "SPARQL queries (its updates are in the table below)",
}
GRAPH = "https://w3id.org/allianceld/graph/user/access-control"  # a contributor's own graph
LABEL = "<https://w3id.org/allianceld/id/region/europe> <http://www.w3.org/2000/01/rdf-schema#comment> 'x'"


def _insert(graph: str) -> str:
    triples = ox.serialize(ox.parse(VALID, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES).decode()
    return f"INSERT DATA {{ GRAPH <{graph}> {{ {triples} }} }}"


Send = Callable[[Site, dict[str, str], str], TestResponse]


@dataclass(frozen=True)
class Write:
    """One write request: its route, the role it needs, how to send it and what it needs first."""

    rule: str
    method: str
    role: str
    send: Send  # (site, auth headers, what prepare returned) -> response
    prepare: Callable[[Site], str] = lambda site: ""
    # send it with the right role too (not for the ontology: a full recomputation, seconds; there
    # the 403 naming the role shows that the request reached the role check)
    confirm: bool = True


def _contribution(site: Site) -> str:
    """A contribution to retract: not VALID alone, which the shared site may hold already (a duplicate is refused)."""
    note = b'\n<https://w3id.org/allianceld/id/alliance/test-pact> <http://www.w3.org/2000/01/rdf-schema#comment> "x".'
    resp = site.client.post("/contributions", data=VALID + note, headers=site.auth())
    assert resp.status_code == 201
    return resp.get_json()["id"]


def _graph(site: Site) -> str:
    resp = site.client.put("/data", query_string={"graph": GRAPH}, data=VALID, headers=site.auth(site.admin))
    assert resp.status_code in (201, 204)
    return GRAPH


def _turtle(h: dict[str, str]) -> dict[str, str]:
    return {**h, "Content-Type": "text/turtle"}


WRITES = {
    "POST /contributions": Write(
        "/contributions",
        "POST",
        "contributor",
        lambda s, h, _: s.client.post("/contributions", data=VALID, headers=_turtle(h)),
    ),
    "DELETE /contributions/<id>": Write(
        "/contributions/<contribution_id>",
        "DELETE",
        "admin",
        lambda s, h, cid: s.client.delete(f"/contributions/{cid}", headers=h),
        _contribution,
    ),
    "PUT /data": Write(
        "/data",
        "PUT",
        "contributor",
        lambda s, h, _: s.client.put("/data", query_string={"graph": GRAPH}, data=VALID, headers=_turtle(h)),
    ),
    "PUT /data (the ontology graph)": Write(
        "/data",
        "PUT",
        "admin",
        lambda s, h, _: s.client.put(
            "/data",
            query_string={"graph": ONTOLOGY_GRAPH},
            data=ox.serialize(s.kb.triples(ONTOLOGY_GRAPH), format=ox.RdfFormat.N_TRIPLES),
            headers={**h, "Content-Type": "application/n-triples"},
        ),
        confirm=False,
    ),
    "POST /data": Write(
        "/data",
        "POST",
        "contributor",
        lambda s, h, _: s.client.post("/data", query_string={"graph": GRAPH}, data=VALID, headers=_turtle(h)),
    ),
    "POST /data (a new graph)": Write(
        "/data", "POST", "contributor", lambda s, h, _: s.client.post("/data", data=VALID, headers=_turtle(h))
    ),
    "DELETE /data": Write(
        "/data",
        "DELETE",
        "contributor",
        lambda s, h, g: s.client.delete("/data", query_string={"graph": g}, headers=h),
        _graph,
    ),
    "POST /sparql (application/sparql-update)": Write(
        "/sparql",
        "POST",
        "contributor",
        lambda s, h, _: s.client.post(
            "/sparql", data=_insert(GRAPH), headers={**h, "Content-Type": "application/sparql-update"}
        ),
    ),
    "POST /sparql (update= form)": Write(
        "/sparql",
        "POST",
        "contributor",
        lambda s, h, _: s.client.post("/sparql", data={"update": _insert(GRAPH)}, headers=h),
    ),
    "POST /sparql (an update of the ontology graph)": Write(
        "/sparql",
        "POST",
        "admin",
        lambda s, h, _: s.client.post(
            "/sparql",
            data=f"INSERT DATA {{ GRAPH <{ONTOLOGY_GRAPH}> {{ {LABEL} }} }}",
            headers={**h, "Content-Type": "application/sparql-update"},
        ),
        confirm=False,
    ),
    "POST /admin/backup": Write(
        "/admin/backup", "POST", "admin", lambda s, h, _: s.client.post("/admin/backup", headers=h)
    ),
    "POST /import/<kind>": Write(
        "/import/<kind>",
        "POST",
        "contributor",
        lambda s, h, _: s.client.post(
            "/import/rdf",
            query_string={"graph": GRAPH},
            data={"name": "access.ttl", "file": (io.BytesIO(VALID), "upload")},
            headers=h,
            content_type="multipart/form-data",
        ),
    ),
}

# Authorization headers that must all get 401: none, a token nobody holds, another scheme, an
# empty bearer token, a real token with a character more, a real token without its scheme
NOT_VALID: list[Callable[[Site], dict[str, str]]] = [
    lambda s: {},
    lambda s: {"Authorization": "Bearer not-a-token"},
    lambda s: {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
    lambda s: {"Authorization": "Bearer "},
    lambda s: {"Authorization": f"Bearer {s.contributor}x"},
    lambda s: {"Authorization": s.admin},
]


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory, small_store) -> Iterator[Site]:
    """One writable site for the whole table: each row takes its own 'before' dump."""
    opened = open_site(tmp_path_factory.mktemp("access"), small_store)
    yield opened
    opened.app.extensions["allianceld"].close()
    opened.kb.close()


def write_routes(url_map: Map) -> set[tuple[str, str]]:
    """Every (rule, method) of ``url_map`` that may write: POST, PUT, DELETE and PATCH."""
    return {(r.rule, m) for r in url_map.iter_rules() for m in (r.methods or set()) & WRITE_METHODS}


def test_every_write_route_is_in_the_table(app: Flask) -> None:
    """A new write route fails here until it is given an entry in :data:`WRITES` (and so is
    checked below) or, if it writes nothing, in :data:`PUBLIC_POSTS`."""
    covered = {(w.rule, w.method) for w in WRITES.values()}
    assert write_routes(app.url_map) == covered | set(PUBLIC_POSTS)


def test_a_new_write_route_is_noticed(app: Flask) -> None:
    grown = Map([r.empty() for r in app.url_map.iter_rules()] + [Rule("/purge", endpoint="purge", methods=["POST"])])
    known = {(w.rule, w.method) for w in WRITES.values()} | set(PUBLIC_POSTS)
    assert write_routes(grown) - known == {("/purge", "POST")}


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_needs_a_valid_token_of_its_role(shared_site: Site, name: str) -> None:
    site, write = shared_site, WRITES[name]
    target = write.prepare(site)
    before = site.kb.dump()
    for headers in NOT_VALID:
        resp = write.send(site, headers(site), target)
        assert resp.status_code == 401, (headers(site), resp.get_data(as_text=True))
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert site.kb.dump() == before
    if write.role == "admin":
        resp = write.send(site, {"Authorization": f"Bearer {site.contributor}"}, target)
        assert resp.status_code == 403 and "admin" in resp.get_json()["message"]
        assert site.kb.dump() == before
    if not write.confirm:
        return
    token = site.admin if write.role == "admin" else site.contributor
    resp = write.send(site, {"Authorization": f"Bearer {token}"}, target)
    assert resp.status_code in (200, 201, 204), resp.get_data(as_text=True)


def test_public_posts_need_no_token_and_write_nothing(shared_site: Site) -> None:
    site = shared_site
    before = site.kb.dump()
    answers = [
        site.client.post("/validate", data=VALID, headers={"Content-Type": "text/turtle"}),
        site.client.post("/reconcile", data={"queries": '{"q0": {"query": "NATO"}}'}),
        site.client.post(
            "/reconcile/match", json={"queries": [{"conditions": [{"matchType": "name", "propertyValue": "NATO"}]}]}
        ),
        site.client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"}),
        site.client.post("/sparql", data="ASK { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query"}),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers), [a.get_data(as_text=True)[:200] for a in answers]
    assert site.kb.dump() == before


def test_tokens_are_compared_by_digest_in_constant_time(tmp_path: Path, monkeypatch) -> None:
    """Tokens are compared as SHA-256 digests with :func:`hmac.compare_digest`, with every stored
    entry, whether one matched or not: the time taken does not depend on how much of a guess is
    right (a digest's prefix does not follow a token's), nor on which entry matched."""
    store = TokenStore(tmp_path / "tokens.json")
    tokens = [store.create(name, "contributor") for name in ("a", "b", "c")]
    seen: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def compare(a: str, b: str) -> bool:
        seen.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", compare)
    for presented in (tokens[0], "wrong"):
        seen.clear()
        store.authenticate(presented)
        digest = hashlib.sha256(presented.encode()).hexdigest()
        assert len(seen) == 3 and all(a == digest for a, _ in seen)
    assert store.authenticate(tokens[1]).name == "b"
