"""Security headers on HTML pages, nosniff everywhere, the /healthz probe, and query results
freed on the thread that made them."""

from __future__ import annotations

import gc
import sys
import threading

import pytest
from flask.testing import FlaskClient

from allianceld.config import Settings
from allianceld.web import create_app
from allianceld.web.views.operations import HTML_HEADERS


@pytest.mark.parametrize("path", ["/", "/sparql", "/reasoning", "/id/alliance/nato", "/ontology", "/id/state/nowhere"])
def test_html_pages_carry_the_security_headers(client: FlaskClient, path: str) -> None:
    resp = client.get(path, headers={"Accept": "text/html"})
    assert resp.mimetype == "text/html", path
    for name, value in HTML_HEADERS.items():
        assert resp.headers.get(name) == value, (path, name)
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_other_answers_are_not_sniffed_and_carry_no_page_policy(client: FlaskClient) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    resp = client.get("/sparql", query_string={"query": "ASK {}"}, headers=accept)
    assert resp.status_code == 200
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in resp.headers


def test_healthz_says_ok_when_the_store_answers(client: FlaskClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["store_ms"] >= 0 and body["version"]


def test_healthz_is_503_naming_the_error_when_the_store_is_closed(settings: Settings) -> None:
    from allianceld.store import KnowledgeBase

    kb = KnowledgeBase()
    app = create_app({"SETTINGS": settings, "KB": kb})
    kb.backend.query = _broken  # type: ignore[method-assign]
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["status"] == "unavailable" and "store is gone" in resp.get_json()["error"]


def _broken(*_args: object, **_kwargs: object) -> None:
    raise OSError("store is gone")


def test_cors_lets_other_origins_read_but_never_write(client: FlaskClient) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    read = client.get("/sparql", query_string={"query": "ASK {}"}, headers={**origin, "Accept": "application/json"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/contributions",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Headers" not in preflight.headers
    write = client.post(
        "/contributions",
        data="<https://example.org/x> <https://example.org/p> <https://example.org/y> .",
        headers={**origin, "Content-Type": "application/n-triples", "Authorization": "Bearer not-a-token"},
    )
    assert write.status_code == 401 and "Access-Control-Allow-Origin" not in write.headers


def test_no_query_result_is_left_for_another_thread_to_free(settings: Settings, shared_kb) -> None:
    """pyoxigraph's query results belong to the thread that made them; one freed on another
    thread (by the garbage collector, when a reference cycle kept its frame) is leaked with a
    "PyQuerySolutions is unsendable" error. The app is built and answers here, then the cycles
    are collected on another thread, as a threaded server's request thread would."""
    gc.collect()
    gc.disable()
    errors: list[BaseException | None] = []
    hook = sys.unraisablehook
    try:
        client = create_app({"SETTINGS": settings, "KB": shared_kb, "TESTING": True}).test_client()
        query = {"query": "SELECT ?a WHERE { ?a a <https://w3id.org/allianceld/ontology#Alliance> } LIMIT 3"}
        for path, params, accept in [
            ("/sparql", query, "application/sparql-results+json"),
            ("/id/alliance/nato", {}, "text/html"),
            ("/reasoning", {}, "text/html"),
            ("/alliances", {}, "text/html"),
        ]:
            assert client.get(path, query_string=params, headers={"Accept": accept}).status_code == 200, path
        sys.unraisablehook = lambda unraisable: errors.append(unraisable.exc_value)
        collector = threading.Thread(target=gc.collect)
        collector.start()
        collector.join()
    finally:
        sys.unraisablehook = hook
        gc.enable()
    assert not [e for e in errors if "unsendable" in str(e)], errors
