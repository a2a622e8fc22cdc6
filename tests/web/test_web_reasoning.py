"""/reasoning/explain (how a triple holds, JSON and HTML) and /reasoning (classification, derived
facts, domain rules, derived alliances and allies of each state), through the Flask test client
and, once, in a real browser."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from allianceld.reasoning import materialise
from allianceld.vocab import INFERRED_GRAPH, RULES_BASE, rule_graph_iri
from allianceld.web.views.reasoning import explain_url
from conftest import requires_java
from web.browsing import CHROMIUM, chromium_page, served

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"
ORG = "http://www.w3.org/ns/org#"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}
CHAIN_AXIOM = "org:memberOf owl:propertyChainAxiom (org:hasMembership org:organization)"
USA_IN_NATO = {"s": ID + "state/usa", "p": ORG + "memberOf", "o": ID + "alliance/nato"}


@pytest.fixture(scope="module")
def web(app) -> FlaskClient:
    """A client of the app over the shipped data (conftest's session-wide store; never written)."""
    return app.test_client()


@pytest.fixture(scope="module")
def summary(web: FlaskClient) -> dict:
    resp = web.get("/reasoning", headers=JSON)
    assert resp.status_code == 200
    return resp.get_json()


def nodes(tree: dict) -> Iterator[dict]:
    yield tree
    for premise in tree.get("premises", []):
        yield from nodes(premise)


def hrefs(page: bytes, css_class: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'<a class="{css_class}" href="([^"]+)"', page.decode())]


# -- /reasoning/explain ----------------------------------------------------------------------------


def test_property_chain_explained_down_to_asserted_data(web: FlaskClient) -> None:
    resp = web.get("/reasoning/explain", query_string=USA_IN_NATO)
    assert resp.status_code == 200 and resp.mimetype == "application/json"  # JSON without Accept
    e = resp.get_json()
    assert e["triple"]["s"] == {"type": "uri", "value": ID + "state/usa"}
    assert e["status"] == "inferred"
    assert e["rule"] == {"id": "prp-spo2", "label": "property chain (prp-spo2)", "axiom": CHAIN_AXIOM}
    leaves = [n for n in nodes(e) if n["status"] == "asserted"]
    assert leaves and all(
        n["sources"] == [{"graph": "https://w3id.org/allianceld/graph/data/nato", "file": "nato.ttl"}] for n in leaves
    )
    assert {(n["triple"]["s"]["value"], n["triple"]["p"]["value"]) for n in leaves} == {
        (ID + "membership/nato-usa", ORG + "member"),
        (ID + "membership/nato-usa", ORG + "organization"),
    }
    assert all(not n.get("premises") for n in leaves)
    assert e["premises"][0]["rule"]["id"] == "prp-inv2"
    # every node links to its own explanation
    assert e["explanation"] == "/reasoning/explain?s=id:state/usa&p=org:memberOf&o=id:alliance/nato"
    first = e["premises"][0]
    again = web.get(first["explanation"]).get_json()
    assert again["triple"] == first["triple"] and again["rule"]["id"] == "prp-inv2"


def test_prefixed_names_and_bracketed_iris_name_the_same_triple(web: FlaskClient) -> None:
    full = web.get("/reasoning/explain", query_string=USA_IN_NATO).get_json()
    for s, p, o in [
        ("id:state/usa", "org:memberOf", "id:alliance/nato"),
        (f"<{ID}state/usa>", f"<{ORG}memberOf>", f"<{ID}alliance/nato>"),
    ]:
        resp = web.get("/reasoning/explain", query_string={"s": s, "p": p, "o": o})
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json() == full
    typed = web.get("/reasoning/explain", query_string={"s": "id:alliance/nato", "p": "rdf:type", "o": "ald:Alliance"})
    assert typed.status_code == 200 and typed.get_json()["status"] in {"asserted", "inferred"}


def test_literal_objects_in_n_triples_syntax(web: FlaskClient) -> None:
    s, p = "id:alliance/nato", "ald:foundingDate"
    for o in (f'"1949-04-04"^^<{XSD_DATE}>', '"1949-04-04"^^xsd:date'):
        resp = web.get("/reasoning/explain", query_string={"s": s, "p": p, "o": o})
        assert resp.status_code == 200, resp.get_json()
        e = resp.get_json()
        assert e["status"] == "asserted" and e["sources"][0]["file"] == "nato.ttl"
        assert e["triple"]["o"] == {"type": "literal", "value": "1949-04-04", "datatype": XSD_DATE}
        assert web.get(e["explanation"]).status_code == 200  # the literal survives the round trip
    plain = web.get("/reasoning/explain", query_string={"s": s, "p": p, "o": '"1949-04-04"'})
    assert plain.status_code == 404  # a plain string is another literal


def test_explanation_page_shows_the_axiom_and_links_each_derived_premise(web: FlaskClient) -> None:
    resp = web.get("/reasoning/explain", query_string=USA_IN_NATO, headers=HTML)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = resp.data.decode()
    assert f'<span id="axiom" class="axiom">{CHAIN_AXIOM}</span>' in page
    assert "property chain (prp-spo2)" in page
    assert "United States" in page and "North Atlantic Treaty Organization" in page  # English labels
    assert "<code>org:memberOf</code>" in page  # and prefixed names
    links = hrefs(resp.data, "explain")
    premise = explain_url(ID + "state/usa", ORG + "hasMembership", ID + "membership/nato-usa")
    assert premise in links
    assert "data file <code>nato.ttl</code>" in page  # an asserted premise's source
    linked = web.get(premise, headers=HTML)
    assert linked.status_code == 200 and b"org:hasMembership owl:inverseOf org:member" in linked.data


def test_domain_rule_triple_is_explained_by_its_rule(web: FlaskClient) -> None:
    query = {"s": "id:state/usa", "p": "ald:alliedWith", "o": "id:state/can"}
    e = web.get("/reasoning/explain", query_string=query).get_json()
    assert e["status"] == "derived"
    assert e["rule"]["id"] == RULES_BASE + "allied-states" and e["rule"]["label"] == "allied states"
    assert "ald:DefenceProvision" in e["rule"]["axiom"]  # the rule's comment says what it does
    leaves = {(n["triple"]["s"]["value"], n["triple"]["p"]["value"]) for n in nodes(e) if n["status"] == "asserted"}
    assert (ID + "membership/nato-can", ORG + "member") in leaves
    assert (ID + "membership/nato-usa", ORG + "member") in leaves
    page = web.get("/reasoning/explain", query_string=query, headers=HTML).data.decode()
    assert 'href="/reasoning#rule-allied-states"' in page and "allied states" in page


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"p": "org:memberOf", "o": "id:alliance/nato"}, "s"),
        ({"s": "id:state/usa", "o": "id:alliance/nato"}, "p"),
        ({"s": "id:state/usa", "p": "org:memberOf"}, "o"),
        ({"s": "  ", "p": "org:memberOf", "o": "id:alliance/nato"}, "s"),
        ({"s": "usa", "p": "org:memberOf", "o": "id:alliance/nato"}, "s"),
        ({"s": "<https://x.org/a b>", "p": "org:memberOf", "o": "id:alliance/nato"}, "s"),
        ({"s": "id:state/usa", "p": '"memberOf"', "o": "id:alliance/nato"}, "p"),
        ({"s": "id:state/usa", "p": "org:memberOf", "o": '"1949-04-04'}, "o"),
        ({"s": "id:state/usa", "p": "org:memberOf", "o": '"a" . <https://x.org/s> <https://x.org/p> "b"'}, "o"),
        ({"s": "id:state/usa", "p": "org:memberOf", "o": "[]"}, "o"),
    ],
)
def test_missing_or_invalid_parameters_are_400_naming_them(web: FlaskClient, query: dict, parameter: str) -> None:
    resp = web.get("/reasoning/explain", query_string=query)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "bad-request" and body["parameter"] == parameter
    assert f"parameter {parameter}" in body["message"]


def test_user_input_is_escaped_on_error_pages(web: FlaskClient) -> None:
    resp = web.get(
        "/reasoning/explain", query_string={"s": "<script>alert(1)</script>", "p": "x", "o": "y"}, headers=HTML
    )
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert b"<script>alert" not in resp.data and b"&lt;script&gt;alert" in resp.data


def test_a_triple_neither_held_nor_derived_is_404(web: FlaskClient) -> None:
    resp = web.get("/reasoning/explain", query_string={**USA_IN_NATO, "o": ID + "alliance/csto"})
    assert resp.status_code == 404
    body = resp.get_json()
    assert body["error"] == "not-found" and "neither holds nor derives" in body["message"]
    assert "alliance/csto" in body["message"]
    page = web.get("/reasoning/explain", query_string={**USA_IN_NATO, "o": ID + "alliance/csto"}, headers=HTML)
    assert page.status_code == 404 and b"neither holds nor derives" in page.data


def test_explanations_need_the_embedded_store(settings) -> None:
    from allianceld.store import KnowledgeBase
    from allianceld.store.backends import SparqlBackend
    from allianceld.web import create_app

    remote = KnowledgeBase(backend=SparqlBackend("http://127.0.0.1:9/query", "http://127.0.0.1:9/update"))
    client = create_app({"SETTINGS": settings, "KB": remote, "TESTING": True}).test_client()
    resp = client.get("/reasoning/explain", query_string=USA_IN_NATO)
    assert resp.status_code == 501
    assert "embedded store" in resp.get_json()["message"]


def test_a_contributed_premise_links_to_its_contribution(site) -> None:
    from write.test_contributions import contribute, nato_partnership

    created = contribute(site, nato_partnership("2020-01-01"))
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    query = {"s": "id:state/aus", "p": "org:memberOf", "o": "id:alliance/nato"}
    e = site.client.get("/reasoning/explain", query_string=query).get_json()
    sources = [s for n in nodes(e) for s in n.get("sources", [])]
    assert sources and all(s["contribution"] == cid for s in sources)
    assert all(s["contributionUrl"] == f"/contributions/{cid}" for s in sources)
    page = site.client.get("/reasoning/explain", query_string=query, headers=HTML).data.decode()
    assert f'contribution <a href="/contributions/{cid}">{cid}</a>' in page


# -- /reasoning -------------------------------------------------------------------------------------


@requires_java
def test_summary_has_the_classification_tree(summary: dict) -> None:
    cl = summary["classification"]
    assert cl["available"] is True and cl["reasoner"] == "HermiT"
    root = cl["tree"]
    assert root["class"] == "http://www.w3.org/2002/07/owl#Thing"

    def path_to(node: dict, iri: str) -> list[str] | None:
        if node["class"] == iri:
            return [iri]
        for child in node.get("subclasses", []):
            found = path_to(child, iri)
            if found:
                return [node["class"], *found]
        return None

    path = path_to(root, ALD + "CollectiveDefenceAlliance")
    assert path is not None and ALD + "Alliance" in path and ORG + "Organization" in path


def test_summary_counts_owl_and_rule_derivations(summary: dict) -> None:
    derived = summary["derived"]
    allied = rule_graph_iri("allied-states")
    assert summary["inferredGraph"] == INFERRED_GRAPH
    assert derived["byGraph"][INFERRED_GRAPH] > 0 and derived["byGraph"][allied] > 0
    assert derived["triples"] == sum(derived["byGraph"].values())
    assert derived["byProperty"][ORG + "memberOf"] >= 32
    assert derived["byProperty"][ALD + "alliedWith"] == derived["byGraph"][allied]
    assert derived["typesByClass"][ALD + "CollectiveDefenceAlliance"] >= 1
    rules = {r["id"]: r for r in summary["rules"]}
    rule = rules["allied-states"]
    assert rule["iri"] == RULES_BASE + "allied-states" and rule["graph"] == allied
    assert rule["label"] == "allied states" and rule["comment"]
    assert rule["triples"] == derived["byGraph"][allied]
    assert rule["url"] == "/reasoning#rule-allied-states"
    assert all(r["triples"] == derived["byGraph"].get(r["graph"], 0) for r in summary["rules"])
    assert "rulesProblem" not in summary


def test_summary_lists_derived_alliances_and_allies_with_explanations(web: FlaskClient, summary: dict) -> None:
    states = {s["state"]: s for s in summary["alliesByState"]}
    usa = states[ID + "state/usa"]
    assert usa["label"] == "United States"
    nato = next(a for a in usa["alliances"] if a["alliance"] == ID + "alliance/nato")
    assert nato["explanation"] == explain_url(ID + "state/usa", ORG + "memberOf", ID + "alliance/nato")
    canada = next(a for a in usa["allies"] if a["state"] == ID + "state/can")
    assert canada["label"] == "Canada"
    assert {"id:state/usa", "ald:alliedWith", "id:state/can"} == set(
        v[0] for v in parse_qs(urlsplit(canada["explanation"]).query).values()
    )
    for link, status in ((nato["explanation"], "inferred"), (canada["explanation"], "derived")):
        resp = web.get(link)
        assert resp.status_code == 200 and resp.get_json()["status"] == status
    # the other fields stay as they were
    members = {(r["organization"], r["member"]) for r in summary["memberOf"]}
    assert (ID + "alliance/nato", ID + "state/swe") in members
    assert {"inferredGraph", "derived", "memberOf", "consistency"} <= set(summary)


def test_summary_page_has_the_tree_rules_and_why_links(web: FlaskClient, summary: dict) -> None:
    resp = web.get("/reasoning", headers=HTML)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = resp.data.decode()
    if summary["classification"]["available"]:
        assert '<ul id="classification" class="tree">' in page and "<details open><summary>" in page
        assert "<code>ald:CollectiveDefenceAlliance</code>" in page
    else:
        assert html.escape(summary["classification"]["message"]) in page
    assert 'id="rule-allied-states"' in page and "allied states" in page
    assert 'id="allies-by-state"' in page and "Sweden" in page
    why = hrefs(resp.data, "why")
    usa = next(s for s in summary["alliesByState"] if s["state"] == ID + "state/usa")
    assert usa["alliances"][0]["explanation"] in why and usa["allies"][0]["explanation"] in why
    assert explain_url(ID + "state/swe", ORG + "memberOf", ID + "alliance/nato") in why  # the macro's links
    assert web.get(why[0], headers=HTML).status_code == 200


def test_without_java_the_page_says_why_there_is_no_classification(settings, shared_kb, monkeypatch) -> None:
    from allianceld.reasoning import dl_check
    from allianceld.web import create_app

    monkeypatch.setattr(dl_check, "java_missing", lambda: dl_check.NO_JAVA)
    app = create_app({"SETTINGS": settings, "KB": shared_kb, "TESTING": True})
    svc = app.extensions["allianceld"]
    svc.consistency = lambda: materialise.Consistency(None, "HermiT", dl_check.NO_JAVA)  # no second HermiT run
    svc._rules = ([], "the domain rules could not be loaded: a broken file")
    client = app.test_client()
    data = client.get("/reasoning", headers=JSON).get_json()
    assert data["classification"]["available"] is False and data["classification"]["message"] == dl_check.NO_JAVA
    assert data["rules"] == [] and data["rulesProblem"].endswith("a broken file")
    page = client.get("/reasoning", headers=HTML).data.decode()
    assert f'<p id="classification" class="Warning">No classification: {dl_check.NO_JAVA}</p>' in page
    assert "a broken file" in page and "No domain rules." in page


# -- in a real browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(app) -> Iterator[str]:
    """The app served over HTTP on 127.0.0.1 by Werkzeug, in a thread of this process."""
    with served(app) as url:
        yield url


@pytest.mark.server
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)")
def test_why_link_opens_the_explanation_in_a_browser(live: str) -> None:
    with chromium_page(1280, 720) as page:  # Playwright's default window
        page.goto(live + "/reasoning", timeout=120000)
        page.click("#state-usa td:nth-child(2) a.why")
        page.wait_for_selector("#axiom", timeout=30000)
        assert "/reasoning/explain?" in page.url
        assert page.inner_text("#axiom") == CHAIN_AXIOM
        assert "United States" in page.inner_text("#triple")
        page.click("#premises a.explain >> nth=0")  # on to a premise's own explanation
        page.wait_for_function("document.querySelector('#axiom').innerText.includes('owl:inverseOf')")


def test_summary_page_pages_its_long_tables(web: FlaskClient, summary: dict, monkeypatch) -> None:
    """The page shows a page of states and of derived memberships (?page=); JSON stays whole."""
    from allianceld.web.views import reasoning

    monkeypatch.setattr(reasoning, "ALLIES_PER_PAGE", 5)
    monkeypatch.setattr(reasoning, "MEMBER_OF_PER_PAGE", 7)
    states, members = len(summary["alliesByState"]), len(summary["memberOf"])
    assert states > 10 and members > 14
    pages = max(-(-states // 5), -(-members // 7))
    first = web.get("/reasoning", headers=HTML).data.decode()
    rows = first.split('id="allies-by-state"')[1].split("</table>")[0]
    assert rows.count("<tr id=") == 5 and f"States 1\u20135 of {states}" in first
    assert f"page 1 of {pages}" in first and 'href="?page=2#alliesByState"' in first
    second = web.get("/reasoning?page=2", headers=HTML).data.decode()
    assert "States 6\u201310" in second and f"Memberships 8\u201314 of {members}" in second
    assert 'rel="prev" href="?page=1#alliesByState"' in second
    assert f'id="state-{summary["alliesByState"][5]["state"].rsplit("/", 1)[-1]}"' in second
    for bad in ["0", "x", str(pages + 1), "-1"]:
        resp = web.get(f"/reasoning?page={bad}", headers=HTML)
        assert resp.status_code == 400 and "page" in resp.data.decode()
    assert len(web.get("/reasoning", headers={"Accept": "application/json"}).get_json()["alliesByState"]) == states
