"""The bad-input corpus (tests/corpus/cases.toml): every case is refused with its status and a
message naming the problem (the line and column for malformed syntax), fetches nothing, and leaves
the on-disk store byte-identical. Labels with markup are escaped on every HTML page that shows them.
"""

from __future__ import annotations

import re
import threading
import tomllib
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from allianceld.web import create_app
from conftest import ROOT, TEST_DATA, Site

CORPUS = Path(__file__).parent / "corpus"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))["case"]
MAX_BODY = 2 * 2**20  # the corpus app's body limit (oversized cases send more)
QUERY_LIMIT_S = 2.0  # the runaway query's app
XSS = "<script>alert(1)</script>"


class Recorder:
    """An HTTP server on 127.0.0.1 that counts every request it gets (a fetched context, DTD,
    entity, SERVICE or LOAD would show up here)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.end_headers()
                self.wfile.write(b'{"@context": {"name": "http://schema.org/name"}}')

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _open(path: Path, small_store: KnowledgeBase, **settings: Any) -> Site:
    """A copy of the small on-disk store of the shipped data, served by a new app with tokens."""
    small_store.snapshot(path / "store")
    kb = KnowledgeBase(path / "store")
    local = Settings(store_path=kb.path, home=ROOT, tokens_file=path / "tokens.json", **settings)
    tokens = TokenStore(local.tokens_file)
    app = create_app({"SETTINGS": local, "KB": kb, "TESTING": True})
    return Site(app.test_client(), kb, tokens.create("alice", "contributor"), tokens.create("root", "admin"), app)


def _close(site: Site) -> None:
    site.app.extensions["allianceld"].close()
    site.kb.close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory, small_store: KnowledgeBase) -> Iterator[Site]:
    """The app every case but the runaway query goes to (no bad input changes its store)."""
    site = _open(tmp_path_factory.mktemp("corpus"), small_store, query_timeout=0, max_body_bytes=MAX_BODY)
    yield site
    _close(site)


@pytest.fixture(scope="module")
def timed_site(tmp_path_factory, small_store: KnowledgeBase) -> Iterator[Site]:
    """An app whose queries run in a query worker, stopped after 2 s; the worker is warm."""
    site = _open(tmp_path_factory.mktemp("timed"), small_store, query_timeout=QUERY_LIMIT_S, query_workers=1)
    for _ in range(20):  # a cold worker's start counts against the limit: wait until one is up
        if site.client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200:
            break
    yield site
    _close(site)


def _request(case: dict[str, Any], site: Site, server: str) -> dict[str, Any]:
    """The keyword arguments of ``client.open`` for a case."""
    body = (CORPUS / case["file"]).read_bytes() if "file" in case else b""
    body = body.replace(b"@@SERVER@@", server.encode()).replace(b"@@FILL@@", b"A" * case.get("fill", 0))
    headers = {"Accept": case.get("accept", "application/json")}
    token = {"contributor": site.contributor, "admin": site.admin, "wrong": "not-a-token"}.get(case.get("token", ""))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if "content_type" in case:
        headers["Content-Type"] = case["content_type"]
    params = dict(case.get("params", {}))
    kwargs: dict[str, Any] = {"method": case.get("method", "GET"), "headers": headers}
    if "param" in case and kwargs["method"] == "GET":
        params[case["param"]] = body.decode("utf-8")
    elif "param" in case:
        kwargs["data"] = {case["param"]: body.decode("utf-8")}
    elif body or "file" in case:
        kwargs["data"] = body
    kwargs["query_string"] = params
    return kwargs


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(case, corpus_site, timed_site, recorder) -> None:
    site = timed_site if case.get("timeout") else corpus_site
    before, hits = site.kb.dump(), len(recorder.hits)
    resp = site.client.open(case["path"], **_request(case, site, recorder.url))
    assert resp.status_code == case["status"], resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert body["status"] == case["status"] and body["error"], body
    assert re.search(case["message"], body["message"]), body["message"]
    if "line" in case:  # where the problem is, in the JSON and in the message
        assert body["line"] == case["line"] and isinstance(body["column"], int), body
        assert f":{body['line']}:{body['column']}:" in body["message"]
    assert site.kb.dump() == before  # byte-identical: nothing was written
    assert len(recorder.hits) == hits, recorder.hits  # nothing was fetched


def test_the_corpus_is_complete() -> None:
    """Names are unique, every file is some case's, and every write endpoint is covered."""
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)) >= 55
    files = {p.name for p in CORPUS.iterdir() if p.name != "cases.toml"}
    assert files == {c["file"] for c in CASES if "file" in c}
    covered = {(c.get("method", "GET"), c["path"]) for c in CASES}
    for endpoint in [("POST", "/contributions"), ("POST", "/validate"), ("PUT", "/data"), ("POST", "/data")]:
        assert endpoint in covered
    assert {"POST", "GET"} <= {m for m, p in covered if p == "/sparql"}
    assert {p for _, p in covered} >= {"/reconcile", "/reconcile/preview", "/id/state/usa%00"}


def test_the_recorder_counts_a_fetch(recorder) -> None:
    """The zero-hit checks above can fail: a real fetch is counted."""
    before = len(recorder.hits)
    with urllib.request.urlopen(recorder.url + "/context.jsonld", timeout=5) as answer:
        assert answer.status == 200
    assert len(recorder.hits) == before + 1


# -- markup in labels is escaped on every HTML page --------------------------------------------------

ID = "https://w3id.org/allianceld/id/"


def _html(site: Site, url: str, status: int = 200) -> str:
    resp = site.client.get(url, headers={"Accept": "text/html"})
    assert resp.status_code == status and resp.mimetype == "text/html", (url, resp.status_code)
    return resp.get_data(as_text=True)


def test_labels_with_markup_are_escaped_on_every_page(tmp_path: Path, small_store: KnowledgeBase) -> None:
    site = _open(tmp_path, small_store, query_timeout=0)
    try:
        data = (TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl").read_text(encoding="utf-8")
        data = data.replace('"Test Pact"@en', f'"Test Pact {XSS}"@en')
        data = data.replace('"Test Pact Treaty"@en', f'"Test Pact Treaty {XSS}"@en')
        data = data.replace('"Test state XTA"@en', f'"Test state {XSS}"@en')
        resp = site.client.post(
            "/contributions", query_string={"comment": f"comment {XSS}"}, data=data, headers=site.auth()
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)
        contribution = resp.headers["Location"]
        explain = {"s": f"{ID}state/xta", "p": "http://www.w3.org/ns/org#memberOf", "o": f"{ID}alliance/test-pact"}
        query = (
            f"SELECT ?label WHERE {{ <{ID}alliance/test-pact> <http://www.w3.org/2000/01/rdf-schema#label> ?label }}"
        )
        pages = [
            "/id/alliance/test-pact",
            "/id/state/xta",
            "/id/treaty/test-pact-treaty",
            "/id/membership/test-pact-xta",
            "/alliances",
            "/states/xta/alliances",
            "/contributions",
            contribution,
            "/reasoning/explain?" + "&".join(f"{k}={urllib.request.quote(v)}" for k, v in explain.items()),
            "/reconcile/preview?id=alliance/test-pact",
            "/states/xta/network",
            "/sparql?query=" + urllib.request.quote(query),
        ]
        for url in pages:
            page = _html(site, url)
            assert "<script>alert" not in page, url
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url  # shown, escaped
        for url in ["/", "/states", "/reasoning", "/network", "/charts"]:  # pages that may show it
            assert "<script>alert" not in _html(site, url), url
        # an error page naming the markup, and a validation report with the label
        assert "<script>alert" not in _html(site, "/id/state/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404)
        invalid = (TEST_DATA / "invalid" / "membership-start-before-founding.ttl").read_text(encoding="utf-8")
        invalid = invalid.replace("a org:Membership ;", f'a org:Membership ; rdfs:label "Membership {XSS}"@en ;', 1)
        assert XSS in invalid
        resp = site.client.post(
            "/validate", data=invalid, headers={"Content-Type": "text/turtle", "Accept": "text/html"}
        )
        report = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "<script>alert" not in report and "&lt;script&gt;alert" in report
    finally:
        _close(site)
