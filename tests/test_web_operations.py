"""Security headers on HTML pages, nosniff everywhere, and the /healthz probe."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from allianceld.config import Settings
from allianceld.web import create_app
from allianceld.web.operations import HTML_HEADERS


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
