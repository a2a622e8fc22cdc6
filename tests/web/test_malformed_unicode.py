"""Malformed Unicode anywhere in a request gets 400 with a message saying so, never 500 and never
a silent replacement character: bytes that are not UTF-8 in the path, the query string, a form or
a text body, and lone surrogates (``\\ud800``) in JSON, in a parameter or in a body."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from allianceld.web import create_app

SURROGATE_BATCH = json.dumps({"\ud800": {"query": "NATO"}})  # json.dumps writes it as the escape \ud800
SURROGATE_QUERY = json.dumps({"q0": {"query": "NATO \ud800"}})
SURROGATE_EXTEND = json.dumps({"ids": ["\ud800"], "properties": [{"id": "foundingDate"}]})
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON_BODY = {"Content-Type": "application/json"}

# (method, path, body, headers, what the message names)
CASES = [
    ("GET", "/reconcile?queries=" + SURROGATE_BATCH, None, {}, "lone surrogate"),
    ("GET", "/reconcile?queries=" + SURROGATE_QUERY, None, {}, "lone surrogate"),
    ("GET", "/reconcile?extend=" + SURROGATE_EXTEND, None, {}, "lone surrogate"),
    ("POST", "/reconcile", b"queries=" + SURROGATE_BATCH.encode(), FORM, "lone surrogate"),
    ("POST", "/reconcile", b'{"queries": [{"query": "\\ud800"}]}', JSON_BODY, "lone surrogate"),
    (
        "POST",
        "/reconcile/match",
        b'{"queries": [{"conditions": [{"matchType": "name", "v": "\\udfff"}]}]}',
        JSON_BODY,
        "lone surrogate",
    ),
    ("POST", "/reconcile/match", b'{"queries": [{"query": "\xff"}]}', JSON_BODY, "not valid UTF-8"),
    ("GET", "/reconcile?query=%FF", None, {}, "not valid UTF-8"),
    ("GET", "/reconcile/suggest/entity?prefix=%ED%A0%80", None, {}, "not valid UTF-8"),  # a surrogate in UTF-8
    ("GET", "/reconcile/preview?id=alliance/%C3%28", None, {}, "not valid UTF-8"),
    ("GET", "/sparql?query=ASK%7B%7D%FF", None, {}, "not valid UTF-8"),
    ("POST", "/sparql", b"query=ASK%7B%7D%FF", FORM, "not valid UTF-8"),
    ("POST", "/sparql", b'ASK { ?s ?p "\xff" }', {"Content-Type": "application/sparql-query"}, "not valid UTF-8"),
    ("POST", "/sparql", b'INSERT DATA { <a:b> <c:d> "\xc3" }', {"Content-Type": "application/sparql-update"}, "UTF-8"),
    ("GET", "/alliances?region=%FF", None, {}, "not valid UTF-8"),
    ("GET", "/states?alliance=%C3%28", None, {}, "not valid UTF-8"),
    ("GET", "/reasoning/explain?s=%FF&p=x&o=y", None, {}, "not valid UTF-8"),
    ("POST", "/validate", b"format=turtle&data=%FF", FORM, "not valid UTF-8"),
    ("POST", "/validate", b'<a:b> <c:d> "\xff" .', {"Content-Type": "text/turtle"}, "UTF-8"),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "named"), CASES)
def test_malformed_unicode_is_a_400(client, method: str, path: str, body, headers: dict, named: str) -> None:
    resp = client.open(path, method=method, data=body, headers={**headers, "Accept": "application/json"})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert named in resp.get_json()["message"]


def test_a_path_that_is_not_utf8_is_a_400(client) -> None:
    # what a real server puts in PATH_INFO for GET /id/state/%FF (the test client would decode it)
    resp = client.get("/id/state/x", environ_overrides={"PATH_INFO": "/id/state/\xff"})
    assert resp.status_code == 400
    assert "the path is not valid UTF-8" in resp.get_json()["message"]


@pytest.mark.parametrize("header", ["Authorization", "Accept", "Accept-Language", "Content-Type", "Origin"])
def test_odd_bytes_in_headers_are_never_a_500(client, header: str) -> None:
    for method, path in (("GET", "/sparql?query=ASK%7B%7D"), ("POST", "/reconcile")):
        resp = client.open(
            path,
            method=method,
            headers={header: "\xff\xfe \udc80".encode("utf-8", "surrogateescape").decode("latin-1")},
        )
        assert resp.status_code < 500, (header, resp.get_data(as_text=True))


def test_whatever_raises_a_unicode_error_is_a_400(settings) -> None:
    app: Flask = create_app({"SETTINGS": settings, "LOAD_SHIPPED": False})

    @app.get("/encode")
    def encode() -> str:
        return "\ud800".encode("utf-8").decode()

    resp = app.test_client().get("/encode", headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert "malformed Unicode" in resp.get_json()["message"]


def test_valid_unicode_still_works(client) -> None:
    body = client.get("/reconcile", query_string={"query": "ОДКБ"}).get_json()
    assert body["result"][0]["id"] == "alliance/csto"
    form = client.post(
        "/reconcile", data={"queries": json.dumps({"q0": {"query": "Traité de l\u2019Atlantique nord"}})}
    )
    assert form.get_json()["q0"]["result"][0]["id"] == "alliance/nato"
