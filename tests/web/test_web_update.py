"""SPARQL Update at /sparql: bearer tokens with roles, validated by the write gate, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.tokens import TokenStore

G = "https://w3id.org/allianceld/graph/user/contributed"  # a contributor's own graph
ID = "https://w3id.org/allianceld/id/"
PREFIXES = """PREFIX ald: <https://w3id.org/allianceld/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def membership(start: str) -> str:
    return (
        PREFIXES
        + f"""INSERT DATA {{ GRAPH <{G}> {{
      <{ID}membership/gcc-irq> a org:Membership ; org:member <{ID}state/irq> ;
        org:organization <{ID}alliance/gcc> ; org:role ald:Member ; ald:startDate "{start}"^^xsd:date ;
        prov:wasDerivedFrom <https://gcc-sg.org/en/AboutUs/Pages/default.aspx> .
    }} }}"""
    )


def _post(client, update: str, token: str | None = None):
    headers = {"Content-Type": "application/sparql-update"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/sparql", data=update, headers=headers)


def test_update_without_token_is_401_and_changes_nothing(setup) -> None:
    client, kb, _, _ = setup
    before = kb.dump()
    resp = _post(client, membership("2000-01-01"))
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert _post(client, membership("2000-01-01"), "not-a-token").status_code == 401
    assert kb.dump() == before


def test_valid_update_is_committed_with_inferences(setup) -> None:
    client, kb, alice, _ = setup
    # Iraq is not in the curated states: add it in the same update so the membership is valid
    iraq = (
        PREFIXES
        + f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    PREFIX owl: <http://www.w3.org/2002/07/owl#>
    INSERT DATA {{ GRAPH <{G}> {{
      <{ID}state/irq> a ald:State ; rdfs:label "Iraq"@en ; ald:iso3166Alpha2 "IQ" ; ald:iso3166Alpha3 "IRQ" ;
        ald:cowCode 645 ; owl:sameAs <http://www.wikidata.org/entity/Q796> ;
        ald:region <{ID}region/middle-east> ; prov:wasDerivedFrom <https://github.com/datasets/country-codes> .
    }} }} ;
    """
    )
    resp = _post(client, iraq + membership("2000-01-01").replace(PREFIXES, ""), alice)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["graphs"] == [G]
    assert bool(kb.query(f"ASK {{ <{ID}state/irq> org:memberOf <{ID}alliance/gcc> }}", prefixes=True))


def test_ontology_changes_need_the_admin_role(setup) -> None:
    client, kb, alice, root = setup
    update = (
        "INSERT DATA { GRAPH <https://w3id.org/allianceld/graph/ontology> { "
        '<https://w3id.org/allianceld/ontology#Alliance> <http://www.w3.org/2004/02/skos/core#note> "n" } }'
    )
    before = kb.dump()
    assert _post(client, update, alice).status_code == 403
    assert kb.dump() == before
    assert _post(client, update, root).status_code == 200


@pytest.mark.parametrize(
    ("update", "status"),
    [
        (
            "INSERT DATA { GRAPH <https://w3id.org/allianceld/graph/inferred> { <http://a> <http://b> <http://c> } }",
            403,  # derived graphs are read-only (tests/write/test_graph_protection.py)
        ),
        ("INSERT DATTA { }", 400),
    ],
)
def test_refused_updates_change_nothing(setup, update: str, status: int) -> None:
    client, kb, alice, _ = setup
    before = kb.dump()
    resp = _post(client, update, alice)
    assert resp.status_code == status
    assert kb.dump() == before


def test_token_create_prints_a_token_once_and_stores_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    result = CliRunner().invoke(
        main, ["token", "create", "bob", "--role", "admin"], env={"ALLIANCELD_TOKENS": str(path)}
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret not in path.read_text()
    principal = TokenStore(path).authenticate(secret)
    assert principal is not None and principal.name == "bob" and principal.role == "admin"


def test_using_graph_uri_sets_the_dataset_of_the_where_clause(setup) -> None:
    client, kb, alice, _ = setup
    states = "https://w3id.org/allianceld/graph/data/states"
    copy = (
        PREFIXES
        + f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    INSERT {{ GRAPH <{G}> {{ ?s rdfs:comment "listed" }} }} WHERE {{ ?s a ald:State }}"""
    )
    resp = client.post(
        "/sparql",
        query_string={"using-graph-uri": states},
        data=copy,
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {alice}"},
    )
    assert resp.status_code == 200, resp.get_json()
    assert kb.count(G) == len(kb.select("SELECT DISTINCT ?s WHERE { ?s a ald:State }", default_graph_uris=[states]))


def test_bad_using_parameters_and_charsets_are_refused_and_change_nothing(setup) -> None:
    client, kb, alice, _ = setup
    before = kb.dump()
    for params, update in [
        ({"using-graph-uri": "not an iri"}, "DELETE WHERE { ?s ?p ?o }"),
        ({"using-named-graph-uri": G}, f"WITH <{G}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}"),  # both ways
    ]:
        resp = client.post("/sparql", data={"update": update, **params}, headers={"Authorization": f"Bearer {alice}"})
        assert resp.status_code == 400 and resp.get_json()["error"] == "bad-request"
    resp = client.post(
        "/sparql",
        data="CLEAR ALL".encode("utf-16"),
        headers={"Content-Type": "application/sparql-update; charset=UTF-16", "Authorization": f"Bearer {alice}"},
    )
    assert resp.status_code == 415
    assert kb.dump() == before


def test_clearing_the_inferences_is_refused(setup) -> None:
    client, kb, alice, root = setup
    inferred = "https://w3id.org/allianceld/graph/inferred"
    before = kb.dump()
    for token in (alice, root):  # read-only for everyone: the reasoner recomputes it
        assert _post(client, f"CLEAR GRAPH <{inferred}>", token).status_code == 403
    assert kb.dump() == before


def test_the_default_graph_of_an_update_is_the_graph_stores_default_graph(setup) -> None:
    client, _kb, alice, _ = setup
    resp = _post(client, 'INSERT DATA { <http://example.org/a> <http://example.org/b> "c" }', alice)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    got = client.get("/data?default", headers={"Accept": "application/n-triples"})
    assert got.get_data(as_text=True).strip() == '<http://example.org/a> <http://example.org/b> "c" .'
    resp = _post(client, "DELETE WHERE { ?s <http://example.org/b> ?o }", alice)
    assert resp.status_code == 200
    assert client.get("/data?default", headers={"Accept": "application/n-triples"}).get_data(as_text=True).strip() == ""
