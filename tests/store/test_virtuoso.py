"""allianceld over Virtuoso Open Source (a real `virtuoso-t` on 127.0.0.1, see tests/virtuoso.py):
its departures from SPARQL 1.1 that allianceld adapts to, and the write paths end to end."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.config import Settings
from allianceld.errors import BadRequest, Forbidden
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.store.knowledgebase import data_operation
from allianceld.vocab import ONTOLOGY_GRAPH, RULE_GRAPH_BASE, data_graph_iri
from allianceld.web import create_app
from allianceld.write import gate
from conftest import ROOT, SMALL_WORLD, TEST_DATA, empty_remote

VIRTRDF = "http://www.openlinksw.com/schemas/virtrdf#"  # Virtuoso's own: the metadata of its RDF views
ID = "https://w3id.org/allianceld/id/"
MEMBER_OF = f"ASK {{ <{ID}state/xta> <http://www.w3.org/ns/org#memberOf> <{ID}alliance/test-pact> }}"


@pytest.fixture
def virtuoso(request) -> KnowledgeBase:
    """A KnowledgeBase over the session's Virtuoso, emptied of allianceld's graphs."""
    return empty_remote(request, "virtuoso")


def test_virtuoso_s_own_graphs_are_neither_listed_nor_written(virtuoso: KnowledgeBase) -> None:
    """Virtuoso keeps graphs of its own in its quad store (``GRAPH ?g`` finds them): they are not
    allianceld's graphs, and a write to one is refused (dropping virtrdf# would break the server)."""
    assert virtuoso.backend.dialect.name == "virtuoso"  # type: ignore[attr-defined]
    assert bool(virtuoso.query(f"ASK {{ GRAPH <{VIRTRDF}> {{ ?s ?p ?o }} }}"))
    assert virtuoso.graphs() == []
    triple = ox.Triple(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.Literal("x"))
    virtuoso.replace_graphs({"http://example.org/g": [triple]})
    assert virtuoso.graphs() == ["http://example.org/g"]
    before = virtuoso.count(VIRTRDF)
    with pytest.raises(Forbidden, match="virtuoso store's own graphs"):
        virtuoso.replace_graphs({"http://example.org/h": [triple], VIRTRDF: []})
    assert virtuoso.count(VIRTRDF) == before and virtuoso.graphs() == ["http://example.org/g"]


def test_a_graph_with_blank_nodes_is_written_with_one_node_per_label(kb: KnowledgeBase) -> None:
    """Virtuoso refuses blank nodes in INSERT DATA; they are written by INSERT { … } WHERE {}, on
    every store, one fresh node per label, shared by the triples that name it."""
    data = b'_:x <http://example.org/p> "1" .\n_:x <http://example.org/q> _:y .\n_:y <http://example.org/r> "2" .\n'
    kb.replace_graphs({"http://g/1": ox.parse(data, format=ox.RdfFormat.N_TRIPLES)})
    kb.write({}, add={"http://g/1": ox.parse(b'_:z <http://example.org/p> "3" .\n', format=ox.RdfFormat.N_TRIPLES)})
    rows = kb.select(
        """SELECT ?one ?two ?three WHERE { GRAPH <http://g/1> {
            ?x <http://example.org/p> ?one ; <http://example.org/q> ?y . ?y <http://example.org/r> ?two .
            ?z <http://example.org/p> ?three FILTER(isBlank(?x) && isBlank(?y) && isBlank(?z) && ?z != ?x) } }"""
    )
    assert rows == [{"one": "1", "two": "2", "three": "3"}]
    assert len({t.subject for t in kb.triples("http://g/1")}) == 3


def test_init_through_the_command_line_on_virtuoso(virtuoso: KnowledgeBase, virtuoso_server: str) -> None:
    """`allianceld init` with the remote URLs in the environment (it failed on the ontology's blank nodes)."""
    env = {"ALLIANCELD_SPARQL_QUERY_URL": virtuoso_server, "ALLIANCELD_SPARQL_UPDATE_URL": virtuoso_server}
    result = CliRunner().invoke(main, ["init"], env=env)
    assert result.exit_code == 0, result.output
    assert f"at {virtuoso_server}" in result.output
    assert ONTOLOGY_GRAPH in virtuoso.graphs() and data_graph_iri("nato") in virtuoso.graphs()
    assert not any(g.startswith("http://www.openlinksw.com/") for g in virtuoso.graphs())
    query = (ROOT / "docs" / "queries" / "nato-members-on-1990-01-01.rq").read_text()
    assert len(list(virtuoso.query(query))) == 16  # type: ignore[arg-type]
    # the ontology's class expressions are blank nodes again when read back
    assert any(isinstance(t.subject, ox.BlankNode) for t in virtuoso.triples(ONTOLOGY_GRAPH))


def test_a_contribution_its_export_and_its_retraction_on_virtuoso(
    virtuoso: KnowledgeBase, virtuoso_server: str, tmp_path: Path, settings: Settings, write_policy
) -> None:
    """Through the Flask test client over a SparqlBackend on Virtuoso: a contribution (201, its graph
    and its inferences in the store), the export (/dump) with it, and its retraction by an admin."""
    from allianceld.tokens import TokenStore

    files = [settings.data_dir / f"{name}.ttl" for name in SMALL_WORLD]
    gate.commit(virtuoso, write_policy, gate.shipped_sources(settings.ontology_file, files))
    local = Settings(
        store_path=None,
        home=ROOT,
        tokens_file=tmp_path / "tokens.json",
        query_timeout=0,
        sparql_query_url=virtuoso_server,
        sparql_update_url=virtuoso_server,
    )
    tokens = TokenStore(local.tokens_file)
    alice, root = tokens.create("alice", "contributor"), tokens.create("root", "admin")
    kb = KnowledgeBase(backend=SparqlBackend(virtuoso_server, virtuoso_server))
    client = create_app({"SETTINGS": local, "KB": kb, "TESTING": True}).test_client()

    body = (TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl").read_bytes()
    headers = {"Authorization": f"Bearer {alice}", "Content-Type": "text/turtle"}
    made = client.post("/contributions", data=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    graph = made.get_json()["graph"]
    assert graph in virtuoso.graphs() and bool(virtuoso.query(MEMBER_OF))
    listed = client.get("/contributions", headers={"Accept": "application/json"}).get_json()
    assert made.get_json()["id"] in str(listed)

    dump = client.get("/dump", headers={"Accept": "application/n-quads"})
    assert dump.status_code == 200
    quads = list(ox.parse(dump.data, format=ox.RdfFormat.N_QUADS))
    dumped = {q.graph_name.value for q in quads}  # type: ignore[union-attr]
    assert graph in dumped and set(virtuoso.graphs()) <= dumped
    assert not any(g.startswith("http://www.openlinksw.com/") for g in dumped)

    gone = client.delete(made.get_json()["url"], headers={"Authorization": f"Bearer {root}"})
    assert gone.status_code == 200, gone.get_json()
    assert gone.get_json()["retracted"]
    assert graph not in virtuoso.graphs() and not bool(virtuoso.query(MEMBER_OF))


def test_substitutions_bind_before_order_and_limit_on_every_store(kb: KnowledgeBase) -> None:
    """A bound variable restricts the WHERE clause, before ORDER BY and LIMIT, even unprojected (by
    SPARQL 1.1; Virtuoso applied a trailing VALUES clause to the answer after LIMIT: no row)."""
    p = ox.NamedNode("http://example.org/label")
    kb.replace_graphs(
        {"http://g/1": [ox.Triple(ox.NamedNode(f"http://ex.org/{i}"), p, ox.Literal(f"l{i}")) for i in range(3)]}
    )
    label = "SELECT ?v WHERE { ?a <http://example.org/label> ?v } ORDER BY ?v LIMIT 1"
    assert kb.select(label, substitutions={"a": ox.NamedNode("http://ex.org/2")}) == [{"v": "l2"}]
    subjects = "SELECT ?a WHERE { ?a <http://example.org/label> ?v }"
    assert kb.select(subjects, substitutions={"v": ox.Literal("l1")}) == [{"a": "http://ex.org/1"}]


def test_an_empty_rule_graph_is_not_listed_on_any_store(kb: KnowledgeBase) -> None:
    """A domain rule's graph is created even when the rule derives nothing, and is then no graph of
    the store's: Virtuoso answered ``SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }`` from its list of
    created graphs, empty ones included, so graphs are listed with GROUP BY."""
    empty, used = RULE_GRAPH_BASE + "derives-nothing", RULE_GRAPH_BASE + "reads-it"
    p = ox.NamedNode("http://example.org/p")
    kb.replace_graphs({"http://g/1": [ox.Triple(ox.NamedNode("http://ex.org/a"), p, ox.Literal("1"))]})
    rules = [
        f"DROP SILENT GRAPH <{empty}> ; CREATE SILENT GRAPH <{empty}>",
        f"INSERT {{ GRAPH <{empty}> {{ ?s <http://example.org/q> ?o }} }} WHERE {{ ?s <http://example.org/none> ?o }}",
        f"CREATE SILENT GRAPH <{used}>",
        f"INSERT {{ GRAPH <{used}> {{ ?s <http://example.org/q> ?o }} }} USING <http://g/1> USING <{empty}> "
        "WHERE { ?s <http://example.org/p> ?o }",
    ]
    if isinstance(kb.backend, SparqlBackend) and not kb.backend.dialect.atomic_updates:
        # Virtuoso: the rules' graphs as allianceld writes them there, computed before (store/write_journal.py)
        derived = [ox.Triple(ox.NamedNode("http://ex.org/a"), ox.NamedNode("http://example.org/q"), ox.Literal("1"))]
        rules = [
            f"DROP SILENT GRAPH <{empty}>",
            f"CREATE SILENT GRAPH <{empty}>",
            f"CREATE SILENT GRAPH <{used}>",
            data_operation("INSERT", used, derived),
        ]
    kb.write({}, then=rules)
    assert kb.graphs() == ["http://g/1", used]


def test_a_literal_virtuoso_cannot_store_is_refused_before_anything_is_written(virtuoso: KnowledgeBase) -> None:
    """Virtuoso commits each operation of an update by itself: an xsd:duration (which it cannot store)
    in the second graph of a write failed the write after the first graph was already replaced. Such
    a literal is now refused before anything is sent, naming it, and the store is as it was."""
    a, p = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p")
    virtuoso.replace_graphs({"http://g/1": [ox.Triple(a, p, ox.Literal("kept"))]})
    before = virtuoso.dump()
    duration = ox.Literal("P1Y", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#duration"))
    with pytest.raises(BadRequest, match="cannot store an xsd:duration"):
        virtuoso.replace_graphs({"http://g/1": [], "http://g/2": [ox.Triple(a, p, duration)]})
    ill_typed = ox.Literal("many", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    with pytest.raises(BadRequest, match="'many' is not a valid xsd:integer"):
        virtuoso.write({"http://g/1": []}, add={"http://g/3": [ox.Triple(a, p, ill_typed)]})
    assert virtuoso.dump() == before
