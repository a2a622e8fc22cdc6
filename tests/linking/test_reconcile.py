"""The W3C Entity Reconciliation API at /reconcile: every response is checked against the JSON
schemas of ../shared/testsuites/reconciliation (0.2, and 1.0-draft for its forms)."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT7
from werkzeug.serving import make_server

from allianceld.linking.reconciliation import Reconciler
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, ID_BASE
from allianceld.web import create_app
from conftest import ROOT, free_port

SUITE = Path(__file__).resolve().parents[3] / "shared" / "testsuites" / "reconciliation"
pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason="../shared/testsuites/reconciliation is not on this machine")

STATE, ALLIANCE = str(ALD.State), str(ALD.Alliance)
SWAGGER = "http://swagger.io/v2/schema.json"


def _registry(version: str) -> Registry:
    resources = []
    for path in sorted((SUITE / version / "schemas").glob("*.json")):
        contents = json.loads(path.read_text())
        if path.name == "openapi.json":  # the Swagger 2.0 meta-schema, draft 4, referenced by the manifest
            resources.append((SWAGGER, DRAFT4.create_resource(contents)))
        else:
            resources.append((contents["$id"], DRAFT7.create_resource(contents)))
    return Registry().with_resources(resources)


@pytest.fixture(scope="module")
def validate():
    """validate(body, schema file name, version="0.2"): fails the test when the body does not conform."""
    registries = {v: _registry(v) for v in ("0.2", "1.0-draft")}

    def check(body: Any, name: str, version: str = "0.2") -> Any:
        schema = json.loads((SUITE / version / "schemas" / f"{name}.json").read_text())
        errors = list(Draft7Validator(schema, registry=registries[version]).iter_errors(body))
        assert not errors, f"{name} ({version}): " + "; ".join(e.message for e in errors[:3])
        return body

    return check


def reconcile(client, queries: dict[str, Any], method: str = "get") -> dict[str, Any]:
    payload = {"queries": json.dumps(queries)}
    if method == "get":
        resp = client.get("/reconcile", query_string=payload)
    else:
        resp = client.post("/reconcile", data=payload)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def top(client, validate, query: dict[str, Any] | str) -> list[dict[str, Any]]:
    """The candidates of one query, run as a batch and checked against the result schema."""
    spec = {"query": query} if isinstance(query, str) else query
    body = validate(reconcile(client, {"q0": spec}), "reconciliation-result-batch")
    return body["q0"]["result"]


# -- the validators themselves can fail ----------------------------------------------------------


@pytest.mark.parametrize("version", ["0.2", "1.0-draft"])
def test_schemas_accept_valid_and_reject_invalid_examples(version: str) -> None:
    registry = _registry(version)
    checked = 0
    for schema_path in (SUITE / version / "schemas").glob("*.json"):
        schema = json.loads(schema_path.read_text())
        for verdict in ("valid", "invalid"):
            for example in (SUITE / version / "examples" / schema_path.stem / verdict).glob("*.json"):
                ok = Draft7Validator(schema, registry=registry).is_valid(json.loads(example.read_text()))
                assert ok == (verdict == "valid"), example
                checked += 1
    assert checked > 20


# -- manifest ------------------------------------------------------------------------------------


def test_manifest(client, validate) -> None:
    body = validate(client.get("/reconcile").get_json(), "manifest")
    assert body["versions"] == ["0.2", "1.0-draft"]
    assert body["identifierSpace"] == ID_BASE and body["schemaSpace"] == str(ALD)
    assert {t["id"] for t in body["defaultTypes"]} == {STATE, ALLIANCE, EVENT, EXERCISE}
    public = client.application.config["SETTINGS"].public_url  # configured, never the Host header
    assert body["view"]["url"] == public + "id/{{id}}"
    assert body["preview"]["url"] == public + "reconcile/preview?id={{id}}"
    for kind in ("entity", "type", "property"):
        service = body["suggest"][kind]
        assert client.get(service["service_path"].replace("/suggest", "/reconcile/suggest")).status_code == 200
    assert body["extend"]["propose_properties"]["service_path"] == "/propose_properties"


def test_draft_manifest(client, validate) -> None:
    body = validate(client.get("/reconcile?version=1.0-draft").get_json(), "manifest", "1.0-draft")
    assert body["suggest"] == {"entity": True, "type": True, "property": True}
    assert body["extend"]["proposeProperties"] is True


def test_jsonp(client, validate) -> None:
    resp = client.get("/reconcile?callback=jsonp1234")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "application/javascript"
    assert text.startswith("/**/jsonp1234(") and text.endswith(");")
    validate(json.loads(text[len("/**/jsonp1234(") : -2]), "manifest")
    queries = json.dumps({"q0": {"query": "NATO"}})
    text = client.get("/reconcile", query_string={"queries": queries, "callback": "cb"}).get_data(as_text=True)
    body = validate(json.loads(text[len("/**/cb(") : -2]), "reconciliation-result-batch")
    assert body["q0"]["result"][0]["id"] == "alliance/nato"


# -- queries -------------------------------------------------------------------------------------


def test_batch_by_get_and_post(client, validate) -> None:
    queries = {
        "q0": {"query": "Norway"},
        "q1": {"query": "Gulf Cooperation Council", "type": ALLIANCE, "limit": 2},
        "q2": {"query": "Japan", "type": [STATE], "type_strict": "any"},
    }
    got = validate(reconcile(client, queries, "get"), "reconciliation-result-batch")
    assert got == reconcile(client, queries, "post")
    assert [got[k]["result"][0]["id"] for k in ("q0", "q1", "q2")] == ["state/nor", "alliance/gcc", "state/jpn"]
    assert len(got["q1"]["result"]) <= 2
    best = got["q0"]["result"][0]
    assert best["match"] is True and best["score"] == 100
    assert best["type"] == [{"id": STATE, "name": "state"}]
    assert {"id": "name", "name": "name similarity", "value": 100.0} in best["features"]


def test_single_query(client) -> None:
    plain = client.get("/reconcile", query_string={"query": "Canada"}).get_json()
    assert plain["result"][0]["id"] == "state/can"
    as_json = client.post("/reconcile", data={"query": json.dumps({"query": "Canada", "limit": 1})}).get_json()
    assert [c["id"] for c in as_json["result"]] == ["state/can"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OTAN", "alliance/nato"),
        ("North Atlantic Alliance", "alliance/nato"),
        ("Organización del Tratado del Atlántico Norte", "alliance/nato"),
        ("НАТО", "alliance/nato"),  # noqa: RUF001 (Cyrillic on purpose)
        ("ОДКБ", "alliance/csto"),
        ("CSTO", "alliance/csto"),
        ("OTSC", "alliance/csto"),
        ("Conseil de coopération du Golfe", "alliance/gcc"),
        ("مجلس التعاون لدول الخليج العربية", "alliance/gcc"),
        ("ADMM+", "alliance/admm-plus"),
        ("日米同盟", "alliance/us-japan-alliance"),
        ("Allemagne", "state/deu"),
        ("Германия", "state/deu"),
        ("Weißrussland", "state/blr"),
        ("美利坚合众国", "state/usa"),
        ("Turkey", "state/tur"),
        ("turkiye", "state/tur"),
        ("U.S.A.", "state/usa"),
        ("FRA", "state/fra"),
    ],
)
def test_aliases_acronyms_and_other_languages(client, validate, text: str, expected: str) -> None:
    best = top(client, validate, text)[0]
    assert (best["id"], best["match"]) == (expected, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nort Atlantic Treaty Organisation", "alliance/nato"),
        ("Colective Security Treaty Organisation", "alliance/csto"),
        ("Kazakstan", "state/kaz"),
        ("Phillipines", "state/phl"),
        ("Azerbajan", "state/aze"),
    ],
)
def test_misspellings(client, validate, text: str, expected: str) -> None:
    found = top(client, validate, text)
    assert found[0]["id"] == expected and found[0]["match"] is True
    assert 85 <= found[0]["score"] < 100


def test_no_match_when_unsure(client, validate) -> None:
    assert all(not c["match"] for c in top(client, validate, "AU"))  # AU PSC? the African Standby Force?
    assert all(not c["match"] for c in top(client, validate, "Atlantic"))
    assert top(client, validate, "zzzzqqqq") == []


def test_type_filter(client, validate) -> None:
    assert {c["id"] for c in top(client, validate, {"query": "Georgia", "type": ALLIANCE})} & {"state/geo"} == set()
    united = top(client, validate, {"query": "United States", "type": ALLIANCE, "limit": 10})
    assert united and all(c["id"].startswith("alliance/") for c in united)
    bilateral = top(client, validate, {"query": "alliance", "type": str(ALD.BilateralAlliance), "limit": 10})
    assert {c["id"] for c in bilateral} <= {"alliance/us-japan-alliance", "alliance/us-india-partnership"}
    assert top(client, validate, {"query": "NATO", "type": "ald:State"})[:1] != [{"id": "alliance/nato"}]
    both = top(client, validate, {"query": "Quad", "type": [STATE, ALLIANCE], "type_strict": "any"})
    assert both[0]["id"] == "alliance/quad"


def _score(client, validate, query: dict[str, Any], entity: str) -> tuple[float, bool]:
    for c in top(client, validate, {**query, "limit": 20}):
        if c["id"] == entity:
            return c["score"], c["match"]
    return 0.0, False


def test_property_constraints_raise_and_lower_scores(client, validate) -> None:
    plain = _score(client, validate, {"query": "Collective Security Treaty"}, "alliance/csto")
    right = _score(
        client,
        validate,
        {"query": "Collective Security Treaty", "properties": [{"pid": "foundingDate", "v": "2002"}]},
        "alliance/csto",
    )
    wrong = _score(
        client,
        validate,
        {"query": "Collective Security Treaty", "properties": [{"pid": "foundingDate", "v": 1949}]},
        "alliance/csto",
    )
    assert right[0] > plain[0] > wrong[0] and wrong[1] is False

    # member of, by name in any language or by id; ISO codes; region
    member = {"query": "Armenia", "properties": [{"pid": "memberOf", "v": "ОДКБ"}]}
    assert _score(client, validate, member, "state/arm") == (100.0, True)
    outsider = {"query": "Armenia", "properties": [{"pid": "memberOf", "v": {"id": "alliance/gcc"}}]}
    assert _score(client, validate, outsider, "state/arm")[0] < 60
    found = top(client, validate, {"properties": [{"pid": "iso3166Alpha2", "v": "fr"}]})
    assert [(c["id"], c["match"]) for c in found] == [("state/fra", True)]
    found = top(client, validate, {"properties": [{"pid": "cowCode", "v": 2}, {"pid": "iso3166Alpha3", "v": "USA"}]})
    assert found[0]["id"] == "state/usa" and found[0]["score"] == 100
    europe = top(client, validate, {"query": "Georgia", "properties": [{"pid": "region", "v": "Eurasia"}]})
    assert europe[0]["id"] == "state/geo" and europe[0]["match"] is True


def test_draft_json_queries(client, validate) -> None:
    body = {
        "queries": [
            {"conditions": [{"matchType": "name", "propertyValue": "OTAN"}], "type": ALLIANCE},
            {
                "conditions": [
                    {"matchType": "name", "propertyValue": "Kazakhstan"},
                    {"matchType": "property", "propertyId": "memberOf", "propertyValue": "CSTO", "required": True},
                ],
                "limit": 1,
            },
        ]
    }
    validate(body, "reconciliation-query-batch", "1.0-draft")
    for path in ("/reconcile", "/reconcile/match"):
        got = validate(client.post(path, json=body).get_json(), "reconciliation-result-batch", "1.0-draft")
        assert [r["candidates"][0]["id"] for r in got["results"]] == ["alliance/nato", "state/kaz"]


# -- preview, suggest, properties, extension ------------------------------------------------------


def test_preview(client) -> None:
    resp = client.get("/reconcile/preview?id=alliance/nato")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert (
        "<h1>" in html
        and "North Atlantic Treaty Organization" in html
        and client.application.config["SETTINGS"].public_url + "id/alliance/nato" in html
    )
    assert "Traité de l&#39;Atlantique Nord" in html  # escaped
    full_iri = client.get("/reconcile/preview", query_string={"id": ID_BASE + "state/fra"})
    assert "France" in full_iri.get_data(as_text=True) and "220" in full_iri.get_data(as_text=True)
    assert client.get("/reconcile/preview?id=state/xxx").status_code == 404
    assert client.get("/reconcile/preview").status_code == 400


def test_suggest_entity(client, validate) -> None:
    def ids(**params: str) -> list[str]:
        resp = client.get("/reconcile/suggest/entity", query_string=params)
        assert resp.status_code == 200
        return [e["id"] for e in validate(resp.get_json(), "suggest-entities-response")["result"]]

    assert ids(prefix="Nor")[:2] == ["state/nor", "state/mkd"] or "state/nor" in ids(prefix="Nor")
    assert ids(prefix="ОД") == ["alliance/csto"]
    assert "state/deu" in ids(prefix="Allem")
    assert ids(prefix="Nor", type=ALLIANCE) == ["alliance/nato"]
    assert len(ids(prefix="S", limit="2")) == 2
    assert ids(prefix="S", limit="2", cursor="2") == ids(prefix="S", limit="4")[2:]


def test_suggest_type_and_property(client, validate) -> None:
    types = validate(client.get("/reconcile/suggest/type?prefix=sta").get_json(), "suggest-types-response")
    assert types["result"][0] == {"id": STATE, "name": "state"}
    kinds = validate(client.get("/reconcile/suggest/type?prefix=bilat").get_json(), "suggest-types-response")
    assert [t["id"] for t in kinds["result"]] == [str(ALD.BilateralAlliance)]
    props = client.get("/reconcile/suggest/property?prefix=iso").get_json()
    validate(props, "suggest-properties-response")
    assert [p["id"] for p in props["result"]] == ["iso3166Alpha2", "iso3166Alpha3"]
    member = client.get("/reconcile/suggest/property", query_string={"prefix": "mem", "type": ALLIANCE}).get_json()
    assert [p["id"] for p in member["result"]] == ["member"]


def test_propose_properties(client, validate) -> None:
    for type_id, expected, absent in ((STATE, "cowCode", "foundingDate"), (ALLIANCE, "foundingDate", "cowCode")):
        body = client.get("/reconcile/propose_properties", query_string={"type": type_id}).get_json()
        validate(body, "data-extension-property-proposal")
        ids = [p["id"] for p in body["properties"]]
        assert body["type"] == type_id and expected in ids and absent not in ids
    assert client.get("/reconcile/propose_properties").status_code == 400


def test_extend(client, validate) -> None:
    spec = {
        "ids": ["alliance/nato", "state/fra", "state/nowhere"],
        "properties": [
            {"id": "member", "settings": {"current": True}},
            {"id": "foundingDate"},
            {"id": "wikidata"},
            {"id": "cowCode"},
            {"id": "iso3166Alpha2"},
            {"id": "memberOf"},
        ],
    }
    validate(spec, "data-extension-query")
    body = client.post("/reconcile", data={"extend": json.dumps(spec)}).get_json()
    validate(body, "data-extension-response")
    nato, fra = body["rows"]["alliance/nato"], body["rows"]["state/fra"]
    assert len(nato["member"]) == 32 and {"id": "state/fin", "name": "Finland"} in nato["member"]
    assert nato["foundingDate"] == [{"date": "1949-04-04T00:00:00Z"}] and nato["wikidata"] == [{"str": "Q7184"}]
    assert fra["cowCode"] == [{"int": 220}] and fra["iso3166Alpha2"] == [{"str": "FR"}]
    assert {"id": "alliance/nato", "name": "North Atlantic Treaty Organization"} in fra["memberOf"]
    assert all(v == [] for v in body["rows"]["state/nowhere"].values())
    assert [m["id"] for m in body["meta"]][:2] == ["member", "foundingDate"]
    limited = {"ids": ["alliance/nato"], "properties": [{"id": "member", "settings": {"limit": 3}}]}
    got = client.get("/reconcile", query_string={"extend": json.dumps(limited)}).get_json()
    assert len(got["rows"]["alliance/nato"]["member"]) == 3


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"queries": "{not json"}, "queries is not valid JSON"),
        ({"queries": "[1, 2]"}, "queries must be a JSON object"),
        ({"queries": json.dumps({"q0": {"query": "x", "type": "Pact"}})}, "unknown type 'Pact'"),
        ({"queries": json.dumps({"q0": {"query": "x", "limit": 0}})}, "limit of query 'q0'"),
        ({"queries": json.dumps({"q0": {"query": "x", "limit": -3}})}, "limit of query 'q0'"),
        ({"queries": json.dumps({"q0": {"query": "x", "limit": "ten"}})}, "limit of query 'q0'"),
        ({"queries": json.dumps({"q0": {"query": "x", "limit": 2.5}})}, "limit of query 'q0'"),
        ({"queries": json.dumps({"q0": {"query": "x", "properties": [{"pid": "colour", "v": 1}]}})}, "colour"),
        ({"queries": json.dumps({"q0": {"qery": "x"}})}, "unknown member(s): qery"),
        ({"queries": json.dumps({"q0": {"query": " "}})}, "neither a query string nor properties"),
        ({"query": "{broken"}, "query is not valid JSON"),
        ({"extend": "{}"}, "extend must be"),
        ({"extend": json.dumps({"ids": ["state/fra"], "properties": [{"id": "colour"}]})}, "colour"),
        ({"callback": "alert(1)//"}, "callback"),
        ({"version": "2.0"}, "version must be 0.2 or 1.0-draft"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(client, params: dict[str, str], names: str) -> None:
    resp = client.get("/reconcile", query_string=params)
    assert resp.status_code == 400
    assert names in resp.get_json()["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/reconcile/suggest/entity?prefix=a&limit=none",
        "/reconcile/suggest/entity?prefix=a&cursor=-1",
        "/reconcile/suggest/entity?prefix=a&type=Pact",
        "/reconcile/propose_properties?type=Pact",
    ],
)
def test_bad_suggest_parameters(client, url: str) -> None:
    resp = client.get(url)
    assert resp.status_code == 400 and resp.get_json()["parameter"] in ("limit", "cursor", "type")


def test_bad_draft_body(client) -> None:
    resp = client.post("/reconcile/match", json={"queries": [{"conditions": []}]})
    assert resp.status_code == 400 and "conditions" in resp.get_json()["message"]


# -- the index follows the store -----------------------------------------------------------------


def test_index_is_rebuilt_after_a_write_and_ambiguity_stops_a_match(loaded_kb: KnowledgeBase, settings) -> None:
    app = create_app({"SETTINGS": settings, "KB": loaded_kb, "TESTING": True})
    client = app.test_client()

    def georgia() -> list[dict[str, Any]]:
        return client.get("/reconcile", query_string={"query": "Georgia"}).get_json()["result"]

    assert georgia()[0] == {**georgia()[0], "id": "state/geo", "match": True}
    reconciler: Reconciler = app.extensions["allianceld.reconcile"]
    assert reconciler.builds == 1  # two requests, one build
    pact = ox.NamedNode(ID_BASE + "alliance/test-georgia-pact")
    loaded_kb.write(
        {},
        add={
            "https://w3id.org/allianceld/graph/data/test": [
                ox.Triple(
                    pact, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(ALLIANCE)
                ),
                ox.Triple(
                    pact,
                    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                    ox.Literal("Georgia", language="en"),
                ),
            ]
        },
    )
    found = georgia()
    assert {c["id"] for c in found[:2]} == {"state/geo", "alliance/test-georgia-pact"}
    assert not any(c["match"] for c in found)
    assert reconciler.builds == 2


# -- over HTTP, as OpenRefine calls it -----------------------------------------------------------


def test_openrefine_round_trip_over_a_real_server(settings, shared_kb, validate) -> None:
    """Manifest, a form-encoded POST of queries, then the preview URL made from the manifest's template
    (the server's public URL is configured: ALLIANCELD_BASE_URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app({"SETTINGS": replace(settings, base_url=base), "KB": shared_kb, "TESTING": True})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(base + "/reconcile", timeout=10) as resp:
            manifest = validate(json.load(resp), "manifest")
        assert manifest["view"]["url"] == base + "/id/{{id}}"
        form = urllib.parse.urlencode({"queries": json.dumps({"q0": {"query": "ОДКБ", "type": ALLIANCE}})})
        request = urllib.request.Request(base + "/reconcile", data=form.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as resp:
            body = validate(json.load(resp), "reconciliation-result-batch")
        best = body["q0"]["result"][0]
        assert (best["id"], best["match"]) == ("alliance/csto", True)
        preview = manifest["preview"]["url"].replace("{{id}}", urllib.parse.quote(best["id"]))
        with urllib.request.urlopen(preview, timeout=10) as resp:
            assert "Collective Security Treaty Organization" in resp.read().decode()
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_documented_example_is_what_the_service_answers(client) -> None:
    doc = (ROOT / "docs" / "linking.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```[a-z]*\n(.*?)```", doc, re.S)
    i = next(i for i, b in enumerate(blocks) if "/reconcile --data-urlencode 'queries=" in b)
    queries = re.search(r"'queries=(\{.*?\})' ", blocks[i]).group(1)
    body = client.post("/reconcile", data={"queries": queries}).get_json()
    lines = [f"{k} {c['id']} {c['score']} {c['match']}" for k, v in body.items() for c in v["result"][:1]]
    assert blocks[i + 1] == "\n".join(lines) + "\n"


def test_a_store_others_write_to_is_reread_after_the_ttl(shared_kb: KnowledgeBase, monkeypatch) -> None:
    private = Reconciler(shared_kb, ttl=0)
    assert private.index() is private.index() and private.builds == 1  # nobody else writes: no rebuild
    monkeypatch.setattr(shared_kb, "read_only", True)  # as when another process holds the store
    shared = Reconciler(shared_kb, ttl=0)
    shared.index()
    shared.index()
    assert shared.builds == 2
    slow = Reconciler(shared_kb, ttl=3600)
    assert slow.index() is slow.index() and slow.builds == 1


def test_view_urls_lead_to_the_linked_data_pages(client) -> None:
    template = client.get("/reconcile").get_json()["view"]["url"]
    for text in ("OTAN", "Japan"):
        best = client.get("/reconcile", query_string={"query": text}).get_json()["result"][0]
        page = client.get(
            template.replace("{{id}}", best["id"]).removeprefix(client.application.config["SETTINGS"].public_url[:-1])
        )
        assert page.status_code == 200 and best["name"] in page.get_data(as_text=True)


EVENT, EXERCISE = str(ALD.AllianceEvent), str(ALD.MilitaryExercise)


@pytest.mark.parametrize(
    ("query", "expected", "certain"),
    [
        ({"query": "NATO Summit in Wales"}, "event/nato-wales-summit-2014", True),
        ({"query": "Wales Summit"}, "event/nato-wales-summit-2014", False),  # the best, not certain
        ({"query": "Wales Summit", "type": EVENT}, "event/nato-wales-summit-2014", False),
        # Malabar 2021 and 2022 differ in a number, which is not a typo: the year makes it certain
        ({"query": "Malabar 2020"}, "activity/malabar-2020", True),
        ({"query": "Malabar 2015"}, "activity/malabar-2015", True),
        ({"query": "Malabar 2020", "properties": [{"pid": "startDate", "v": "2020"}]}, "activity/malabar-2020", True),
        ({"query": "Malabar", "type": "MilitaryExercise", "properties": [{"pid": "startDate", "v": "2020-11-03"}]},
         "activity/malabar-2020", False),
    ],
)  # fmt: skip
def test_events_and_exercises_reconcile(client, validate, query: dict[str, Any], expected: str, certain: bool) -> None:
    found = top(client, validate, query)
    best = found[0]
    assert best["id"] == expected and (len(found) == 1 or found[1]["score"] < best["score"])
    assert best["match"] is certain
    assert best["type"][0]["id"] == (EVENT if expected.startswith("event/") else EXERCISE)
    typed = top(client, validate, {**query, "type": str(ALD.State)})
    assert all(c["id"].startswith("state/") for c in typed)  # a type filter keeps them out


def test_a_name_with_other_numbers_is_not_a_near_match() -> None:
    """A year, an edition or a treaty's number in a name is not a typo: a label naming other numbers
    is never close enough for a match by name alone; a query or a label without numbers is weighed as before."""
    from allianceld.linking.reconciliation import MATCH_SCORE, norm, similarity

    assert similarity(norm("Malabar 2020"), [norm("Malabar 2020")]) == 100
    assert similarity(norm("Malabar 2020"), [norm("Malabar 2021")]) < MATCH_SCORE
    assert similarity(norm("Malabar"), [norm("Malabar 2021")]) == similarity(norm("Malabar"), [norm("Malabar 2020")])
    assert similarity(norm("NATO Wales Summit"), [norm("NATO Summit in Wales")]) >= 80
