"""Structured logs (issue 8, point 6): one JSON object per line with the request's fields, and no
token anywhere, whether sent in the Authorization header (valid or not) or in the query string;
through the app and through real `allianceld serve` processes (Werkzeug and gunicorn)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from allianceld import logs
from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from conftest import free_port, wait_for

FIELDS = {"time", "level", "logger", "message"}
REQUEST_FIELDS = {"method", "path", "status", "duration_ms", "remote", "request_id"}
WRONG = "wr0ng-t0ken-that-nobody-holds"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the root logger writes while the test runs, as configured for `allianceld serve`."""
    stream = io.StringIO()
    werkzeug_level = logging.getLogger("werkzeug").level
    root_level = logging.getLogger().level
    handler = logs.configure(stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)
    logging.getLogger().setLevel(root_level)
    logging.getLogger("werkzeug").setLevel(werkzeug_level)


def _requests(send, token: str) -> None:
    """The same requests for the app and the servers: ``send(method, path, headers)``."""
    send("GET", f"/sparql?query=ASK%7B%7D&token={token}&access_token={token}", {"Accept": "application/json"})
    send("POST", "/contributions", {"Authorization": f"Bearer {token}", "Content-Type": "image/png"})
    send("POST", "/contributions", {"Authorization": f"Bearer {WRONG}", "Content-Type": "text/turtle"})
    send("POST", "/contributions", {"Authorization": token, "Content-Type": "text/turtle"})
    send("GET", "/no/such/page", {"X-Request-ID": "trace-42"})


EXPECTED = [("GET", "/sparql", 200), ("POST", "/contributions", 415), ("POST", "/contributions", 401)]
EXPECTED += [("POST", "/contributions", 401), ("GET", "/no/such/page", 404)]


def _lines(text: str) -> list[dict]:
    """Every line of ``text`` parsed as a JSON object with the standard fields."""
    out = []
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)  # fails on any line that is not JSON
            assert set(record) >= FIELDS, record
            out.append(record)
    return out


def _check_requests(records: list[dict]) -> None:
    requests = [r for r in records if r["logger"] == "allianceld.request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == EXPECTED
    for r in requests:
        assert set(r) >= REQUEST_FIELDS and r["duration_ms"] >= 0 and r["remote"] == "127.0.0.1", r
    assert requests[0]["query"] == "query=ASK%7B%7D&token=[redacted]&access_token=[redacted]"
    assert requests[-1]["request_id"] == "trace-42"
    assert len({r["request_id"] for r in requests}) == len(requests)


def test_the_app_logs_each_request_without_its_token(
    app: Flask, captured: io.StringIO, tmp_path: Path, monkeypatch
) -> None:
    tokens = TokenStore(tmp_path / "tokens.json")
    token = tokens.create("alice", "contributor")
    monkeypatch.setattr(app.extensions["allianceld"], "tokens", tokens)
    client = app.test_client()
    statuses = []

    def send(method: str, path: str, headers: dict[str, str]) -> None:
        resp = client.open(path, method=method, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        statuses.append(resp.status_code)
        assert resp.headers["X-Request-ID"]
        assert token not in resp.get_data(as_text=True) and WRONG not in resp.get_data(as_text=True)  # nor errors

    _requests(send, token)
    assert statuses == [s for _, _, s in EXPECTED]
    text = captured.getvalue()
    assert token not in text and WRONG not in text
    _check_requests(_lines(text))


def test_secrets_are_scrubbed_from_messages_and_tracebacks(captured: io.StringIO) -> None:
    log = logging.getLogger("allianceld.test")
    try:
        raise ValueError("bad header 'Authorization: Bearer s3cr3t-1' from /x?access_token=s3cr3t-2")
    except ValueError:
        log.exception("failed on Basic s3cr3t-3 and ?token=s3cr3t-4&q=1")
    (record,) = _lines(captured.getvalue())
    assert "s3cr3t" not in json.dumps(record)
    assert record["level"] == "ERROR" and "ValueError" in record["exception"]
    assert record["message"] == "failed on Basic [redacted] and ?token=[redacted]&q=1"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, small_store: KnowledgeBase) -> Iterator[dict[str, tuple[str, str, str]]]:
    """Real `allianceld serve` processes, Werkzeug and gunicorn, started together, each on a copy
    of the small store, sent :func:`_requests` and stopped: kind -> (token, stdout, stderr)."""
    procs = {}
    for kind in ("development", "production"):
        root = tmp_path_factory.mktemp(f"logs-{kind}")
        small_store.snapshot(root / "store")
        token = TokenStore(root / "tokens.json").create("alice", "contributor")
        port = free_port()
        env = {**os.environ, "ALLIANCELD_TOKENS": str(root / "tokens.json"), "ALLIANCELD_QUERY_TIMEOUT": "0"}
        cmd = [sys.executable, "-m", "allianceld.cli", "--store", str(root / "store"), "serve", "--port", str(port)]
        cmd += ["--production", "--threads", "2"] if kind == "production" else []
        procs[kind] = (token, port, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
    out = {}
    for kind, (token, port, proc) in procs.items():
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", proc, seconds=60)

        def send(method: str, path: str, headers: dict[str, str], base: str = base) -> None:
            req = urllib.request.Request(
                base + path, method=method, headers=headers, data=b"" if method == "POST" else None
            )
            try:
                urllib.request.urlopen(req, timeout=30).read()
            except urllib.error.HTTPError as exc:
                exc.read()

        _requests(send, token)
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=30)
        out[kind] = (token, stdout.decode(), stderr.decode())
    yield out


@pytest.mark.parametrize("kind", ["development", "production"])
def test_a_server_logs_json_lines_without_tokens(servers: dict[str, tuple[str, str, str]], kind: str) -> None:
    token, stdout, stderr = servers[kind]
    assert token not in stderr and token not in stdout
    assert WRONG not in stderr and WRONG not in stdout
    records = _lines(stderr)
    # wait_for's /healthz polls come first
    _check_requests([r for r in records if r.get("path") != "/healthz"])
    if kind == "production":
        assert any(r["logger"] == "gunicorn.error" for r in records)  # gunicorn's own lines are JSON too
