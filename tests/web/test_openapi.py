"""/openapi.json against the app: the document and the route table agree, and schemathesis fuzzes
every operation it describes (no 5xx; status codes, media types and JSON bodies as documented;
requests outside the schema refused; writes refused without a token). Reads run on the shared
in-memory app; writes on an app over its own on-disk store, whose dump no refused write changes."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.web.openapi import DOCUMENT, EXAMPLE_TURTLE
from conftest import Site, open_site

# routes the document leaves out: the W3C protocols (described by their own specifications) and files
NOT_DESCRIBED = {
    "/sparql",
    "/data",
    "/static/<path:filename>",
    "/assets/yasgui/<path:name>",
    "/assets/vendor/<name>/<path:filename>",
}
WRITES = {
    ("POST", "/validate"),
    ("POST", "/contributions"),
    ("DELETE", "/contributions/{contribution_id}"),
    ("POST", "/admin/backup"),
    ("POST", "/import/{kind}"),
    ("GET", "/writes/{key}"),  # not a write, but it takes a token as they do
}
# a parameter naming a resource of the store (region, alliance, the triple to explain) is refused
# with 400 when the store has no such resource: schema-valid, yet rightly refused
EXCLUDED_CHECKS = [positive_data_acceptance]
FUZZ = settings(  # ALLIANCELD_FUZZ_EXAMPLES=200 for a longer hunt; CI runs the same 8 cases each time
    max_examples=int(os.environ.get("ALLIANCELD_FUZZ_EXAMPLES", "8")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# the RDF syntaxes are text: send the generated strings as they are
schemathesis.serializer.alias([m for m in formats.MEDIA_TYPES if m != "text/plain"], "text/plain")


def openapi_path(rule: str) -> str:
    """A Werkzeug rule as an OpenAPI path template: ``/id/<kind>/<slug>`` -> ``/id/{kind}/{slug}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_document_and_route_table_agree(app: Flask, client) -> None:
    """Every route of the app but :data:`NOT_DESCRIBED` is in the document, method by method, and
    the document describes no route the app lacks."""
    rules = list(app.url_map.iter_rules())
    assert {r.rule for r in rules} >= NOT_DESCRIBED, "a route left out of the document no longer exists"
    routes = {
        (openapi_path(r.rule), method.lower())
        for r in rules
        if r.rule not in NOT_DESCRIBED
        for method in r.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    resp = client.get("/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    document = resp.get_json()
    assert document["openapi"].startswith("3.1")
    described = {(p, m) for p, operations in document["paths"].items() for m in operations}
    assert routes - described == set(), "routes missing from /openapi.json"
    assert described - routes == set(), "/openapi.json describes routes the app does not have"
    writes = {(m.upper(), p) for p, ops in document["paths"].items() for m, op in ops.items() if "security" in op}
    assert writes == WRITES - {("POST", "/validate")}


def test_document_is_valid_openapi_3_1(client) -> None:
    """The served document passes the OpenAPI 3.1 meta-schema (schemathesis' copy)."""
    schemathesis.openapi.from_dict(client.get("/openapi.json").get_json()).validate()


def test_openapi_path() -> None:
    assert openapi_path("/assets/vendor/<name>/<path:filename>") == "/assets/vendor/{name}/{filename}"


# -- fuzzing -----------------------------------------------------------------------------------------
# (schemathesis.pytest.from_fixture reads a private attribute pytest 9 no longer has, so each
# operation is a parametrised test that runs its own Hypothesis test)

OPERATIONS = [(method.upper(), path) for path, ops in DOCUMENT["paths"].items() for method in ops]


_SCHEMAS: dict[int, tuple[Flask, schemathesis.BaseSchema]] = {}


def loaded(app: Flask) -> schemathesis.BaseSchema:
    """The app's /openapi.json as schemathesis reads it, loaded once per app."""
    if id(app) not in _SCHEMAS or _SCHEMAS[id(app)][0] is not app:
        _SCHEMAS[id(app)] = (app, schemathesis.openapi.from_wsgi("/openapi.json", app))
    return _SCHEMAS[id(app)][1]


def fuzz(app: Flask, method: str, path: str, call: Callable[[schemathesis.Case], None]) -> None:
    """Run ``call`` on cases of the operation that fit its schema and cases that do not."""
    operation = loaded(app)[path][method]
    has_input = operation.body or any(True for _ in operation.iter_parameters())
    cases = st.one_of(operation.as_strategy(mode) for mode in GenerationMode if has_input or mode.is_positive)

    @FUZZ
    @given(case=cases)
    def run(case: schemathesis.Case) -> None:
        call(case)

    run()


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in WRITES])
def test_reads_conform(app: Flask, method: str, path: str) -> None:
    """The shared in-memory app answers every read as documented, and never with a 5xx."""
    fuzz(app, method, path, lambda case: case.call_and_validate(excluded_checks=EXCLUDED_CHECKS))


@pytest.fixture(scope="module")
def writable(tmp_path_factory, small_store: KnowledgeBase) -> Iterator[Site]:
    """An app over its own on-disk copy of the small store, for every write test of this module."""
    site = open_site(Path(tmp_path_factory.mktemp("openapi-writes")), small_store)
    yield site
    site.app.extensions["allianceld"].close()
    site.kb.close()


@pytest.mark.parametrize(("method", "path"), sorted(WRITES))
def test_writes_conform_and_refused_ones_change_nothing(writable: Site, method: str, path: str) -> None:
    """Writes with an admin's token answer as documented; the store's dump is byte-identical after
    every refused one (and after every dry run)."""

    def call(case: schemathesis.Case) -> None:
        before = writable.kb.dump()
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {writable.admin}"}, excluded_checks=EXCLUDED_CHECKS
        )
        if 400 <= response.status_code < 500 or case.path == "/validate":
            assert writable.kb.dump() == before, f"{case.method} {case.path} -> {response.status_code} wrote"

    fuzz(writable.app, method, path, call)


def test_documented_example_is_committed_as_documented(writable: Site) -> None:
    """The request body's example is a contribution the store takes: 201, a Location header and a
    body that fit the document; then its retraction."""
    schema = loaded(writable.app)
    auth = {"Authorization": f"Bearer {writable.admin}"}
    post = schema["/contributions"]["POST"].Case(body=EXAMPLE_TURTLE, media_type="text/turtle")
    created = post.call_and_validate(headers=auth, excluded_checks=EXCLUDED_CHECKS)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    delete = schema["/contributions/{contribution_id}"]["DELETE"].Case(path_parameters={"contribution_id": cid})
    retracted = delete.call_and_validate(headers=auth, excluded_checks=EXCLUDED_CHECKS)
    assert retracted.status_code == 200 and retracted.json()["retracted"]


# -- regressions: 500s the fuzzing found -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/alliances?limit=%C2%B2",  # "²" is a digit to str.isdigit, but int() refuses it
        "/states?offset=%C2%B2",
        "/alliances?page=%C2%B2",
        "/reconcile/suggest/entity?prefix=n&cursor=%C2%B2",
        "/reconcile/suggest/type?limit=inf",  # float("inf") has no int()
        "/reconcile/suggest/property?limit=nan",
        "/reconcile?query=%7B%22query%22%3A%22nato%22%2C%22limit%22%3A1e400%7D",  # JSON 1e400 is inf
        "/reconcile?query=%7B%22query%22%3A%22nato%22%2C%22limit%22%3ANaN%7D",
    ],
)
def test_bad_numbers_are_400_naming_the_parameter(client, url: str) -> None:
    resp = client.get(url)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "bad-request" and body["parameter"] in ("limit", "offset", "page", "cursor")


def test_reconcile_version_is_checked_with_a_query_too(client) -> None:
    """A mistyped version is named even when a query (not the manifest) is asked for."""
    resp = client.get("/reconcile?query=nato&version=0.3")
    assert resp.status_code == 400 and resp.get_json()["parameter"] == "version"
