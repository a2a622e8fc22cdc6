"""A request body is whole or refused: over ALLIANCELD_MAX_BODY_BYTES (chunked or not) it gets 413,
cut short by the client it gets 400, and either way nothing is processed. Through the test client
and through real servers on 127.0.0.1 (Werkzeug in a thread, gunicorn in a process) spoken to
over raw sockets."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from conftest import TEST_DATA, Site, free_port, open_site, wait_for

VALID = (TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl").read_bytes()
LIMIT = len(VALID) + 64
# valid Turtle, then comments past the limit: cut at the limit it is still a valid contribution
PADDED = VALID + b"\n" + b"# padding past the limit of the body\n" * 100
# valid Turtle up to the limit, then bytes that are no Turtle at all
GARBAGE_TAIL = VALID + b"\n" + b"\x00 this is not Turtle <<<" * 100


def chunked(body: bytes, size: int = 1000, last: bool = True) -> bytes:
    """``body`` in the chunked transfer coding; without its last (empty) chunk unless ``last``."""
    out = b"".join(
        f"{len(body[i : i + size]):x}\r\n".encode() + body[i : i + size] + b"\r\n" for i in range(0, len(body), size)
    )
    return out + (b"0\r\n\r\n" if last else b"")


def exchange(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """Send one request as written over a raw socket, close our side, read the whole answer."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(head.encode() + body)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while part := s.recv(65536):
            data += part
    if not data:
        return 0, b""  # closed without an answer
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def state(kb: KnowledgeBase) -> tuple[int, list[str]]:
    return kb.count(), sorted(kb.graphs())


@pytest.fixture
def small_site(tmp_path: Path, small_store: KnowledgeBase) -> Iterator[Site]:
    opened = open_site(tmp_path, small_store, max_body_bytes=LIMIT)
    yield opened
    opened.app.extensions["allianceld"].close()
    opened.kb.close()


@pytest.fixture
def werkzeug_port(small_site: Site) -> Iterator[int]:
    """``small_site``'s app in a real Werkzeug server (the development server) on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, small_site.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join()


# -- the test client --------------------------------------------------------------------------


def test_a_chunked_contribution_over_the_limit_is_refused_whole(small_site: Site) -> None:
    before = state(small_site.kb)
    resp = small_site.client.post(
        "/contributions",
        input_stream=io.BytesIO(PADDED),
        headers=small_site.auth(**{"Transfer-Encoding": "chunked"}),
    )
    assert resp.status_code == 413, resp.get_data(as_text=True)
    assert "limit" in resp.get_json()["message"]
    assert state(small_site.kb) == before


def test_a_chunked_validate_body_with_garbage_past_the_limit_is_refused(small_site: Site) -> None:
    resp = small_site.client.post(
        "/validate",
        input_stream=io.BytesIO(GARBAGE_TAIL),
        headers={"Content-Type": "text/turtle", "Transfer-Encoding": "chunked", "Accept": "application/json"},
    )
    assert resp.status_code == 413


def test_a_chunked_body_within_the_limit_is_read_whole(small_site: Site) -> None:
    resp = small_site.client.post(
        "/validate",
        input_stream=io.BytesIO(VALID),
        headers={"Content-Type": "text/turtle", "Transfer-Encoding": "chunked", "Accept": "application/json"},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["accepted"] is True


# -- real servers, raw sockets ------------------------------------------------------------------


def check_real_server(port: int, token: str, kb_state, cut: tuple[int, ...] = (400,)) -> None:
    """Every way a body can be too long or cut short, against the server on ``port``; a body cut
    short gets one of the statuses ``cut`` (0: the connection closed without an answer)."""
    before = kb_state()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
    chunked_headers = {**auth, "Transfer-Encoding": "chunked"}
    status, body = exchange(port, "POST", "/contributions", chunked_headers, chunked(PADDED))
    assert status == 413, body
    status, body = exchange(port, "POST", "/contributions", {**auth, "Content-Length": str(len(PADDED))}, PADDED)
    assert status == 413, body
    status, body = exchange(port, "POST", "/contributions", chunked_headers, chunked(VALID, last=False))
    assert status in cut, body
    status, body = exchange(port, "POST", "/contributions", chunked_headers, chunked(VALID)[:-900])  # mid-chunk
    assert status in cut, body
    status, body = exchange(port, "POST", "/contributions", {**auth, "Content-Length": str(len(VALID))}, VALID[:-200])
    assert status in cut, body
    graph = "https://w3id.org/allianceld/graph/data/bodies"
    status, body = exchange(port, "PUT", f"/data?graph={graph}", chunked_headers, chunked(PADDED))
    assert status == 413, body
    assert kb_state() == before  # nothing of any of them was written
    status, body = exchange(
        port,
        "POST",
        "/validate",
        {"Content-Type": "text/turtle", "Transfer-Encoding": "chunked"},
        chunked(GARBAGE_TAIL),
    )
    assert status == 413, body
    status, body = exchange(port, "POST", "/contributions", chunked_headers, chunked(VALID))  # whole: accepted
    assert status == 201, body
    assert kb_state() != before


def test_the_development_server_refuses_long_and_cut_bodies(small_site: Site, werkzeug_port: int) -> None:
    check_real_server(werkzeug_port, small_site.contributor, lambda: state(small_site.kb))


def test_the_production_server_refuses_long_and_cut_bodies(tmp_path: Path, small_store: KnowledgeBase) -> None:
    store = tmp_path / "store"
    small_store.snapshot(store)
    tokens = tmp_path / "tokens.json"
    token = TokenStore(tokens).create("alice", "contributor")
    port = free_port()
    env = {**os.environ, "ALLIANCELD_TOKENS": str(tokens), "ALLIANCELD_MAX_BODY_BYTES": str(LIMIT)}
    cli = [sys.executable, "-m", "allianceld.cli", "--store", str(store)]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--production", "--threads", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc, seconds=60)

        def quads() -> bytes:  # every quad counted, per graph, by the server itself
            query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
            path = "/sparql?" + urllib.parse.urlencode({"query": query})
            status, body = exchange(port, "GET", path, {"Accept": "application/sparql-results+json"}, b"")
            assert status == 200
            return body

        # a server that buffers requests before the app may drop a request its client never finished
        check_real_server(port, token, quads, cut=(400, 0))
        # and its public URL is http://<--host>:<--port>/ (ALLIANCELD_BASE_URL unset), whatever Host says
        status, body = exchange(port, "GET", "/reconcile", {"X-Forwarded-Host": "evil.example"}, b"")
        assert status == 200, body
        assert json.loads(body)["view"]["url"] == f"http://127.0.0.1:{port}/id/{{{{id}}}}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
