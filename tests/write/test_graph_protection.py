"""Graphs are protected by what they are (``write.graph_policy``): every graph kind x every write path x
every role through the Flask test client, refusals changing nothing; schema triples only in the
ontology graph; derived graphs read-only; curated graphs admin-only, each change recorded with the
admin's agent; the request log names the token's agent."""

from __future__ import annotations

import getpass
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from allianceld.browse.describe import graph_source
from allianceld.cli import main
from allianceld.config import Settings
from allianceld.logs import json_handler
from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from allianceld.vocab import (
    ALD,
    DEFAULT_GRAPH,
    ID_BASE,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    USER_GRAPH_BASE,
    Kind,
    agent_iri,
    data_graph_iri,
    kind_of,
    rule_graph_iri,
)
from allianceld.web import create_app
from allianceld.write import contributions, gate, graph_policy
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT

PREFIXES = """PREFIX ald: <https://w3id.org/allianceld/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
THING = ox.Triple(
    ox.NamedNode("https://example.org/thing/1"),
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ox.Literal("one"),
)
NATO = ID_BASE + "alliance/nato"
CURATED = data_graph_iri("nato")
RULE = rule_graph_iri("allied-states")
OPEN = USER_GRAPH_BASE + "mine"
WRITTEN = ox.Triple(THING.subject, THING.predicate, ox.Literal("written"))  # in no graph before the write
SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")


def _nt(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


@dataclass
class World:
    """A store with a graph of every kind, an app over it and a token of each role."""

    path: Path
    kb: KnowledgeBase
    client: FlaskClient
    tokens: dict[str, str | None]
    graphs: dict[str, str]


def _open(path: Path, tmp: Path) -> tuple[KnowledgeBase, FlaskClient, dict[str, str | None]]:
    kb = KnowledgeBase(path)
    local = Settings(store_path=path, home=ROOT, tokens_file=tmp / "tokens.json", query_timeout=0)
    store = TokenStore(local.tokens_file)
    tokens = {
        "anonymous": None,
        "contributor": store.create("alice", "contributor"),
        "admin": store.create("root", "admin"),
    }
    client = create_app({"SETTINGS": local, "KB": kb, "TESTING": True}).test_client()
    return kb, client, tokens


@pytest.fixture(scope="module")
def world(tmp_path_factory, small_store: KnowledgeBase, write_policy: WritePolicy) -> Iterator[World]:
    """The small shipped store with a contribution, a graph of a contributor's own and a default
    graph; only refused writes are sent to it (each test checks that nothing changed)."""
    tmp = tmp_path_factory.mktemp("protected")
    small_store.snapshot(tmp / "store")
    kb, client, tokens = _open(tmp / "store", tmp)
    made, _ = contributions.contribute(kb, write_policy, [THING], agent="carol")
    for graph in (OPEN, DEFAULT_GRAPH):
        gate.commit(kb, write_policy, [gate.Source(graph, [THING], "test")])
    graphs = {
        "ontology": ONTOLOGY_GRAPH,
        "inferred": INFERRED_GRAPH,
        "rule": RULE,
        "curated": CURATED,
        "contribution": made.graph,
        "provenance": made.record,
        "default": DEFAULT_GRAPH,
        "open": OPEN,
    }
    assert all(kb.count(g) > 0 for g in graphs.values())
    yield World(tmp / "store", kb, client, tokens, graphs)
    kb.close()


def _headers(token: str | None, ctype: str | None = None) -> dict[str, str]:
    out = {"Authorization": f"Bearer {token}"} if token else {}
    return {**out, "Content-Type": ctype} if ctype else out


def _update(client: FlaskClient, token: str | None, text: str):
    return client.post("/sparql", data=text, headers=_headers(token, "application/sparql-update"))


def _clear(graph: str) -> str:
    return "CLEAR DEFAULT" if graph == DEFAULT_GRAPH else f"CLEAR GRAPH <{graph}>"


WritePath = Callable[[FlaskClient, KnowledgeBase, str, str | None], object]
PATHS: dict[str, WritePath] = {
    "PUT /data": lambda c, kb, g, t: c.put(
        "/data",
        query_string={"graph": g},
        data=_nt([*kb.triples(g), WRITTEN]),
        headers=_headers(t, "application/n-triples"),
    ),
    "POST /data": lambda c, kb, g, t: c.post(
        "/data", query_string={"graph": g}, data=_nt([WRITTEN]), headers=_headers(t, "application/n-triples")
    ),
    "DELETE /data": lambda c, kb, g, t: c.delete("/data", query_string={"graph": g}, headers=_headers(t)),
    "SPARQL INSERT DATA": lambda c, kb, g, t: _update(
        c, t, f"INSERT DATA {{ GRAPH <{g}> {{ {_nt([WRITTEN]).decode()} }} }}"
    ),
    "SPARQL CLEAR": lambda c, kb, g, t: _update(c, t, _clear(g)),
}
# which roles may write each kind of graph (by any of PATHS); every other role is refused
ALLOWED = {
    "ontology": {"admin"},
    "inferred": set(),
    "rule": set(),
    "curated": {"admin"},
    "contribution": set(),
    "provenance": set(),
    "default": {"contributor", "admin"},
    "open": {"contributor", "admin"},
}
ROLES = ["anonymous", "contributor", "admin"]
CASES = [(k, p, r) for k in ALLOWED for p in PATHS for r in ROLES]


@pytest.mark.parametrize(("kind", "path", "role"), [c for c in CASES if c[2] not in ALLOWED[c[0]]])
def test_a_refused_write_is_401_or_403_and_changes_nothing(world: World, kind: str, path: str, role: str) -> None:
    before = world.kb.dump()
    resp = PATHS[path](world.client, world.kb, world.graphs[kind], world.tokens[role])
    assert resp.status_code == (401 if role == "anonymous" else 403), resp.get_data(as_text=True)
    assert world.kb.dump() == before


@pytest.mark.parametrize(("kind", "path", "role"), [c for c in CASES if c[2] in ALLOWED[c[0]]])
def test_an_allowed_write_passes_the_policy(world: World, tmp_path: Path, kind: str, path: str, role: str) -> None:
    world.kb.snapshot(tmp_path / "store")
    kb, client, tokens = _open(tmp_path / "store", tmp_path)
    try:
        graph = world.graphs[kind]
        resp = PATHS[path](client, kb, graph, tokens[role])
        assert resp.status_code in (200, 201, 204), resp.get_data(as_text=True)
        records = kb.select(
            "SELECT ?agent WHERE { GRAPH ?r { ?c ald:changedGraph ?g ; prov:wasAssociatedWith ?agent } }",
            substitutions={"g": ox.NamedNode(graph)},
        )
        if kind == "curated":  # every change of a curated graph is recorded, naming the admin's agent
            assert [r["agent"] for r in records] == [agent_iri("root")]
        else:
            assert records == []
    finally:
        kb.close()


def test_contributions_are_written_by_contributors_and_admins(world: World, tmp_path: Path) -> None:
    world.kb.snapshot(tmp_path / "store")
    kb, client, tokens = _open(tmp_path / "store", tmp_path)
    try:
        for role, status in [("anonymous", 401), ("contributor", 201), ("admin", 201)]:
            body = _nt([THING, ox.Triple(THING.subject, THING.predicate, ox.Literal(role))])  # not a duplicate
            resp = client.post("/contributions", data=body, headers=_headers(tokens[role], "application/n-triples"))
            assert resp.status_code == status, (role, resp.get_data(as_text=True))
    finally:
        kb.close()


# --- schema triples ------------------------------------------------------------------------------------

SCHEMA = {
    "subproperty of a label (found by the security test)": "rdfs:label rdfs:subPropertyOf ald:foundingDate .",
    "every alliance a collective-defence alliance": "ald:Alliance rdfs:subClassOf ald:CollectiveDefenceAlliance .",
    "a characteristic": "<https://example.org/p> a owl:TransitiveProperty .",
    "a class declaration": "<https://example.org/C> a owl:Class .",
    "a restriction on a blank node": "[] owl:onProperty ald:region .",
    "an import": "<https://example.org/o> owl:imports <https://example.org/other> .",
    "a label on an ontology term": 'ald:Alliance rdfs:label "pact" .',
    "a term of a vocabulary the ontology file uses (foaf)": ('<http://xmlns.com/foaf/0.1/name> rdfs:comment "x" .'),
    "a synonym of an ontology term": f"<{NATO}> owl:sameAs ald:Alliance .",
}


def _turtle(body: str) -> bytes:
    return (PREFIXES.replace("PREFIX ", "@prefix ").replace(">\n", "> .\n") + body).encode()


@pytest.mark.parametrize("triple", list(SCHEMA.values()), ids=list(SCHEMA))
def test_a_schema_triple_is_refused_as_a_contribution_with_422(world: World, triple: str) -> None:
    before = world.kb.dump()
    resp = world.client.post(
        "/contributions", data=_turtle(triple), headers=_headers(world.tokens["contributor"], "text/turtle")
    )
    assert resp.status_code == 422, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"] == "schema-outside-ontology" and "ontology graph" in body["message"]
    assert body["triples"] and body["triples"][0]["reason"]
    assert world.kb.dump() == before


@pytest.mark.parametrize("path", ["PUT /data", "POST /data", "SPARQL INSERT DATA"])
@pytest.mark.parametrize("kind", ["curated", "open", "default"])
def test_a_schema_triple_is_refused_outside_the_ontology_graph_even_for_an_admin(
    world: World, path: str, kind: str
) -> None:
    axiom = ox.Triple(ox.NamedNode(str(ALD.Alliance)), SUBCLASS, ox.NamedNode(str(ALD.CollectiveDefenceAlliance)))
    before = world.kb.dump()
    graph = world.graphs[kind]
    admin = world.tokens["admin"]
    if path == "SPARQL INSERT DATA":
        resp = _update(world.client, admin, f"INSERT DATA {{ GRAPH <{graph}> {{ {_nt([axiom]).decode()} }} }}")
    else:
        body = _nt([*world.kb.triples(graph), axiom] if path == "PUT /data" else [axiom])
        send = world.client.put if path == "PUT /data" else world.client.post
        resp = send("/data", query_string={"graph": graph}, data=body, headers=_headers(admin, "application/n-triples"))
    assert resp.status_code == 422 and resp.get_json()["error"] == "schema-outside-ontology"
    assert world.kb.dump() == before


def test_statements_about_individuals_are_accepted(world: World, tmp_path: Path) -> None:
    world.kb.snapshot(tmp_path / "store")
    kb, client, tokens = _open(tmp_path / "store", tmp_path)
    try:
        body = _turtle(
            f"""<https://example.org/thing/1> a owl:NamedIndividual ;
                rdfs:label "thing" ;
                owl:sameAs <https://example.org/thing/one> ;
                owl:differentFrom <https://example.org/thing/2> ;
                <http://www.w3.org/2004/02/skos/core#closeMatch> <http://www.wikidata.org/entity/Q1> .
            <{NATO}> rdfs:comment "a note on NATO" ."""
        )
        resp = client.post("/contributions", data=body, headers=_headers(tokens["contributor"], "text/turtle"))
        assert resp.status_code == 201, resp.get_data(as_text=True)
    finally:
        kb.close()


def test_the_vocabulary_namespaces_come_from_the_ontology_file() -> None:
    onto = list(ox.parse(path=str(ROOT / "ontology" / "allianceld.ttl")))
    found = graph_policy.vocabulary_namespaces(onto)
    assert "http://xmlns.com/foaf/0.1/" in found - graph_policy.BASE_NAMESPACES  # used by the file only
    assert not any(ns.startswith(ID_BASE) for ns in found)


# --- the reproductions of the security test -----------------------------------------------------------


def test_a_contributor_cannot_forge_or_wipe_a_rule_graph(world: World) -> None:
    before = world.kb.dump()
    derived = world.kb.count(RULE)
    forged = f"<{ID_BASE}state/usa> <{ALD.alliedWith}> <{ID_BASE}state/rus> ."
    resp = world.client.put(
        "/data", query_string={"graph": RULE}, data=forged, headers=_headers(world.tokens["contributor"], "text/turtle")
    )
    assert resp.status_code == 403 and "derive" in resp.get_json()["message"]
    assert world.kb.count(RULE) == derived > 1
    assert world.kb.dump() == before


def test_a_contributor_cannot_change_natos_founding_date(world: World) -> None:
    before = world.kb.dump()
    update = (
        PREFIXES
        + f"""DELETE {{ GRAPH ?g {{ <{NATO}> ald:foundingDate ?d }} }}
        INSERT {{ GRAPH ?g {{ <{NATO}> ald:foundingDate "1948-12-31"^^xsd:date }} }}
        WHERE {{ GRAPH ?g {{ <{NATO}> ald:foundingDate ?d }} }}"""
    )
    resp = _update(world.client, world.tokens["contributor"], update)
    assert resp.status_code == 403 and "admin" in resp.get_json()["message"]
    assert world.kb.dump() == before


def test_a_contributor_cannot_delete_a_curated_graph(world: World) -> None:
    before = world.kb.dump()
    resp = world.client.delete(
        "/data", query_string={"graph": data_graph_iri("nato")}, headers=_headers(world.tokens["contributor"])
    )
    assert resp.status_code == 403
    assert world.kb.dump() == before
    assert world.client.get("/id/alliance/nato", headers={"Accept": "text/turtle"}).status_code == 200


def test_an_admin_change_of_a_curated_graph_is_recorded(world: World, tmp_path: Path) -> None:
    world.kb.snapshot(tmp_path / "store")
    kb, client, tokens = _open(tmp_path / "store", tmp_path)
    try:
        listed = client.get("/contributions").get_json()["total"]
        update = (
            PREFIXES
            + f"""DELETE {{ GRAPH <{CURATED}> {{ <{NATO}> rdfs:comment ?c }} }}
            INSERT {{ GRAPH <{CURATED}> {{ <{NATO}> rdfs:comment "changed by an admin" }} }}
            WHERE {{ OPTIONAL {{ GRAPH <{CURATED}> {{ <{NATO}> rdfs:comment ?c }} }} }}"""
        )
        before = set(kb.triples(CURATED))
        resp = _update(client, tokens["admin"], update)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        added = set(kb.triples(CURATED)) - before
        removed = before - set(kb.triples(CURATED))
        rows = kb.select(
            """SELECT ?r ?agent ?name ?time ?added ?removed ?text WHERE { GRAPH ?r {
                 ?c a ald:CuratedChange ; ald:changedGraph ?g ; prov:wasAssociatedWith ?agent ;
                    prov:endedAtTime ?time ; ald:triplesAdded ?added ; ald:triplesRemoved ?removed ;
                    ald:addedTriples ?text . ?agent rdfs:label ?name } }""",
            substitutions={"g": ox.NamedNode(CURATED)},
        )
        assert len(rows) == 1
        row = rows[0]
        assert kind_of(row["r"]) is Kind.PROVENANCE
        assert (row["agent"], row["name"]) == (agent_iri("root"), "root")
        assert (int(row["added"]), int(row["removed"])) == (len(added), len(removed)) and added
        assert {t.triple for t in ox.parse(row["text"].encode(), format=ox.RdfFormat.N_TRIPLES)} == added
        assert client.get("/contributions").get_json()["total"] == listed  # a change is not a contribution
    finally:
        kb.close()


def test_drop_all_by_an_admin_empties_the_store_with_its_derived_graphs(tmp_path: Path, small_store) -> None:
    small_store.snapshot(tmp_path / "store")
    kb, client, tokens = _open(tmp_path / "store", tmp_path)
    try:
        assert kb.count(RULE) > 0
        assert _update(client, tokens["contributor"], "DROP ALL").status_code == 403
        resp = _update(client, tokens["admin"], "DROP ALL")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        left = [g for g in kb.graphs() if kind_of(g) is not Kind.PROVENANCE]
        assert left == []  # the derived graphs were recomputed from nothing, not kept
    finally:
        kb.close()


def test_pages_label_a_graph_by_its_kind() -> None:
    assert graph_source(CURATED)["kind"] == "file"
    assert graph_source(OPEN)["kind"] == "graph"
    assert graph_source(USER_GRAPH_BASE + "posted-1")["kind"] == "graph"
    assert graph_source(RULE)["kind"] == "rule"


def test_a_graph_store_post_without_a_graph_is_not_curated(world: World, tmp_path: Path) -> None:
    world.kb.snapshot(tmp_path / "store")
    kb, client, tokens = _open(tmp_path / "store", tmp_path)
    try:
        resp = client.post("/data", data=_nt([THING]), headers=_headers(tokens["contributor"], "application/n-triples"))
        assert resp.status_code == 201 and kind_of(resp.headers["Location"]) is Kind.OPEN
    finally:
        kb.close()


def test_the_request_log_names_the_tokens_agent(world: World) -> None:
    stream = io.StringIO()
    handler = json_handler(stream)
    log = logging.getLogger("allianceld.request")
    log.addHandler(handler)
    old = log.level
    log.setLevel(logging.INFO)
    try:
        token = world.tokens["contributor"]
        assert token is not None
        world.client.delete("/data", query_string={"graph": INFERRED_GRAPH}, headers=_headers(token))
        world.client.get("/data", query_string={"graph": OPEN})
    finally:
        log.removeHandler(handler)
        log.setLevel(old)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["method"], r.get("agent")) for r in lines] == [("DELETE", "alice"), ("GET", None)]
    assert token not in stream.getvalue()


def test_the_command_line_records_its_curated_changes_and_refuses_schema_triples(tmp_path: Path, small_store) -> None:
    small_store.snapshot(tmp_path / "store")
    extra, axiom = tmp_path / "extra.ttl", tmp_path / "axiom.ttl"
    extra.write_bytes(_nt([THING]))
    axiom.write_bytes(_turtle("ald:Alliance rdfs:subClassOf ald:CollectiveDefenceAlliance ."))
    runner = CliRunner()
    refused = runner.invoke(main, ["--store", str(tmp_path / "store"), "load", str(axiom)])
    assert refused.exit_code == 2 and "ontology graph" in refused.output, refused.output
    loaded = runner.invoke(main, ["--store", str(tmp_path / "store"), "load", str(extra)])
    assert loaded.exit_code == 0, loaded.output
    kb = KnowledgeBase(tmp_path / "store")
    try:
        assert data_graph_iri("axiom") not in kb.graphs()
        rows = kb.select(
            "SELECT ?name WHERE { GRAPH ?r { ?c ald:changedGraph ?g ; prov:wasAssociatedWith [ rdfs:label ?name ] } }",
            substitutions={"g": ox.NamedNode(data_graph_iri("extra"))},
        )
        assert [r["name"] for r in rows] == [getpass.getuser()]
    finally:
        kb.close()


def test_schema_triples_remembering_which_nodes_are_terms_finds_what_each_triple_alone_gives(
    loaded_kb: KnowledgeBase,
) -> None:
    """A write names the same nodes many times: schema_triples asks once per node whether it is a
    vocabulary's term; the answers are those of each triple on its own."""
    namespaces = graph_policy.vocabulary_namespaces(loaded_kb.ontology())
    ald, org = ox.NamedNode(ALD + "Alliance"), ox.NamedNode("http://www.w3.org/ns/org#member")
    odd = [
        ox.Triple(ald, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("x")),  # a term
        ox.Triple(ald, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"), ox.Literal("y")),  # again
        ox.Triple(ox.NamedNode(ID_BASE + "state/fra"), ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), org),
    ]
    triples = [t for g in loaded_kb.graphs() for t in loaded_kb.triples(g)][:3000] + odd
    alone = [(t, why) for t in triples if (why := graph_policy.schema_reason(t, namespaces)) is not None]
    assert len(alone) >= 3
    assert graph_policy.schema_triples(triples, namespaces, limit=len(triples)) == alone
