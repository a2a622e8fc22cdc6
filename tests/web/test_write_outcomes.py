"""A write's outcome is never misreported: each write carries an Idempotency-Key recorded in its own
transaction; when the remote store does not answer in time the answer is 202 ``write-outcome-unknown``,
``GET /writes/<key>`` tells from the store whether it landed, and a retry with the key is not written twice.

The remote store is a real `oxigraph serve` behind a proxy on 127.0.0.1 (:mod:`stalling_proxy`) that
holds the answer to an update until the test releases it; the order of events is set by the proxy's
events, never by sleeping."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from allianceld.cli import main
from allianceld.config import Settings
from allianceld.operations import remote_write
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.tokens import TokenStore
from allianceld.web import create_app
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT, SMALL_WORLD, TEST_DATA, oxigraph_serve
from web.stalling_proxy import StallingProxy

VALID = TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl"
THING = b'<http://example.org/thing/1> <http://www.w3.org/2000/01/rdf-schema#label> "one" .\n'
MINE = "https://w3id.org/allianceld/graph/user/mine"
# the client's time limit: the held answer comes only after the test has seen the client give up
TIMEOUT_S = 3.0


@dataclass
class Remote:
    base: str
    proxy: StallingProxy
    dump: bytes  # the small world, as N-Quads

    def post(self, path: str, data: bytes, ctype: str) -> bytes:
        req = urllib.request.Request(self.base + path, data=data, method="POST", headers={"Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.read()

    def count(self) -> int:
        """The triples in the store, asked of it directly (not through the proxy)."""
        query = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        with urllib.request.urlopen(f"{self.base}/query?query={query}", timeout=60) as resp:
            return int(json.loads(resp.read())["results"]["bindings"][0]["n"]["value"])


@pytest.fixture(scope="module")
def remote(write_policy: WritePolicy, settings: Settings) -> Iterator[Remote]:
    """`oxigraph serve` with the small world, behind a stalling proxy."""
    with oxigraph_serve() as base:
        kb = KnowledgeBase(backend=SparqlBackend(base + "/query", base + "/update"))
        gate.commit(
            kb,
            write_policy,
            gate.shipped_sources(settings.ontology_file, [settings.data_dir / f"{name}.ttl" for name in SMALL_WORLD]),
        )
        # the store whole, with the write version the services keep in it: a reset store is not a new one
        with urllib.request.urlopen(
            urllib.request.Request(base + "/store", headers={"Accept": "application/n-quads"}), timeout=60
        ) as resp:
            dump = resp.read()
        host, port = base.removeprefix("http://").split(":")
        proxy = StallingProxy((host, int(port)))
        yield Remote(base, proxy, dump)
        proxy.close()


@dataclass
class Site:
    client: FlaskClient
    remote: Remote
    contributor: str
    admin: str
    app: Flask

    def auth(self, key: str, token: str | None = None, ctype: str | None = "text/turtle") -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.contributor}", "Idempotency-Key": key} | (
            {"Content-Type": ctype} if ctype else {}
        )


@contextlib.contextmanager
def open_site(remote: Remote, tmp_path: Path, timeout_s: float) -> Iterator[Site]:
    """An app over the remote store (through the proxy) with the time limit ``timeout_s``, reset to the small world."""
    remote.post("/update", b"update=DROP%20ALL", "application/x-www-form-urlencoded")
    remote.post("/store", remote.dump, "application/n-quads")
    url = remote.proxy.url
    kb = KnowledgeBase(backend=SparqlBackend(url + "/query", url + "/update", timeout_s=timeout_s))
    local = Settings(store_path=None, home=ROOT, tokens_file=tmp_path / "tokens.json", query_timeout=0)
    tokens = TokenStore(local.tokens_file)
    app = create_app({"SETTINGS": local, "KB": kb, "TESTING": True})
    yield Site(app.test_client(), remote, tokens.create("alice", "contributor"), tokens.create("root", "admin"), app)
    app.extensions["allianceld"].close()


@pytest.fixture
def site(remote: Remote, tmp_path: Path) -> Iterator[Site]:
    """An app over the remote store whose answers come after :data:`TIMEOUT_S` are unknown outcomes."""
    with open_site(remote, tmp_path, TIMEOUT_S) as opened:
        yield opened


def _contribute(site: Site, key: str) -> Any:
    return site.client.post("/contributions", data=VALID.read_bytes(), headers=site.auth(key))


def _contribution(site: Site) -> str:
    made = _contribute(site, "setup-contribution")
    assert made.status_code == 201, made.json
    return made.json["id"]


def _import(site: Site, key: str) -> Any:
    content_type, length, pieces = remote_write.body([VALID], with_base=True)
    return site.client.post(
        f"/import/rdf?graph={MINE}",
        input_stream=io.BytesIO(b"".join(pieces)),
        headers=site.auth(key, ctype=content_type),
        environ_overrides={"CONTENT_LENGTH": str(length)},
    )


# each write path: what to do once beforehand (or None), and the write itself, sent with a key
PATHS: dict[str, tuple[Callable[[Site], Any] | None, Callable[[Site, str, Any], Any], int]] = {
    "contribution": (None, lambda site, key, _: _contribute(site, key), 201),
    "retraction": (
        _contribution,
        lambda site, key, cid: site.client.delete(f"/contributions/{cid}", headers=site.auth(key, site.admin, None)),
        200,
    ),
    "graph store PUT": (
        None,
        lambda site, key, _: site.client.put(
            f"/data?graph={MINE}", data=THING, headers=site.auth(key, ctype="application/n-triples")
        ),
        201,
    ),
    "SPARQL Update": (
        None,
        lambda site, key, _: site.client.post(
            "/sparql",
            data=f"INSERT DATA {{ GRAPH <{MINE}> {{ {THING.decode().strip()} }} }}",
            headers=site.auth(key, ctype="application/sparql-update"),
        ),
        200,
    ),
    "import": (None, lambda site, key, _: _import(site, key), 200),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_a_write_the_store_answers_too_late_is_unknown_then_landed_and_never_written_twice(
    site: Site, path: str
) -> None:
    before, write, status = PATHS[path]
    state = before(site) if before else None
    key = f"k-{path.replace(' ', '-')}"
    held = site.remote.proxy.hold("answer")
    unknown = write(site, key, state)
    # not a failure: the outcome is unknown, with the key and where to look
    assert unknown.status_code == 202, unknown.json
    assert unknown.json["error"] == "write-outcome-unknown"
    assert unknown.json["key"] == key and unknown.headers["Location"] == f"/writes/{key}"
    assert unknown.headers["Idempotency-Key"] == key
    assert held.reached.wait(60)  # the store has committed the update; its answer is still held back
    held.release.set()
    landed = site.client.get(f"/writes/{key}", headers=site.auth(key, ctype=None))
    assert landed.status_code == 200, landed.json
    assert landed.json["state"] == "landed" and landed.json["status"] == status
    count = site.remote.count()
    again = write(site, key, state)  # the client retries with the same key
    assert again.status_code == status, again.json
    assert again.headers["Idempotency-Replayed"] == "true"
    assert site.remote.count() == count  # not written twice
    if path == "contribution":
        listed = site.client.get("/contributions").json
        assert listed["total"] == 1 and again.json["id"] == listed["items"][0]["id"]


def test_a_connection_dropped_after_the_update_was_sent_is_an_unknown_outcome(site: Site) -> None:
    held = site.remote.proxy.hold("drop")
    write = PATHS["SPARQL Update"][1]
    unknown = write(site, "dropped", None)
    assert unknown.status_code == 202 and unknown.json["error"] == "write-outcome-unknown"
    assert held.reached.is_set()  # the store answered before the connection was dropped
    assert site.client.get("/writes/dropped", headers=site.auth("dropped", ctype=None)).json["state"] == "landed"
    count = site.remote.count()
    assert write(site, "dropped", None).headers["Idempotency-Replayed"] == "true"
    assert site.remote.count() == count


def test_a_retry_before_the_unknown_write_lands_is_refused_until_it_does(site: Site) -> None:
    held = site.remote.proxy.hold("request")  # the update waits before the store
    unknown = _contribute(site, "pending")
    assert unknown.status_code == 202 and unknown.json["error"] == "write-outcome-unknown"
    count = site.remote.count()  # (with the write's claim of the write lease: it stands while the update may land)
    look = site.client.get("/writes/pending", headers=site.auth("pending", ctype=None))
    assert look.status_code == 404 and look.json["error"] == "write-not-landed" and look.json["state"] == "unknown"
    retry = _contribute(site, "pending")
    assert retry.status_code == 409 and retry.json["error"] == "write-outcome-pending"
    assert site.remote.count() == count  # the retry wrote nothing
    held.release.set()
    assert held.reached.wait(60)
    assert site.client.get("/writes/pending", headers=site.auth("pending", ctype=None)).json["state"] == "landed"
    replay = _contribute(site, "pending")
    assert replay.status_code == 201 and replay.headers["Idempotency-Replayed"] == "true"
    assert site.client.get("/contributions").json["total"] == 1


def test_the_command_line_says_outcome_unknown_and_a_retry_with_the_key_writes_nothing(
    site: Site, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = site.remote.proxy.url
    monkeypatch.setenv("ALLIANCELD_SPARQL_QUERY_URL", url + "/query")
    monkeypatch.setenv("ALLIANCELD_SPARQL_UPDATE_URL", url + "/update")
    monkeypatch.setenv("ALLIANCELD_QUERY_TIMEOUT", str(TIMEOUT_S))
    load = ["load", str(VALID), "--graph", MINE, "--idempotency-key", "cli-1"]
    held = site.remote.proxy.hold("answer")
    unknown = runner.invoke(main, load)
    assert unknown.exit_code == 3, unknown.output
    assert "outcome unknown" in unknown.stderr and "--idempotency-key cli-1" in unknown.stderr
    assert held.reached.wait(60)
    held.release.set()
    count = site.remote.count()
    again = runner.invoke(main, load)
    assert again.exit_code == 0, again.output
    assert "already written" in again.stderr
    assert site.remote.count() == count


def test_a_retry_while_the_first_is_still_being_written_is_refused(remote: Remote, tmp_path: Path) -> None:
    with open_site(remote, tmp_path, 120) as site:  # the first write waits for the store as long as the test needs
        held = remote.proxy.hold("request")
        first: list[Any] = []
        writer = threading.Thread(target=lambda: first.append(_contribute(site, "twice")))
        writer.start()
        try:
            # while the first one's update waits before the store, a second one with its key is refused
            assert held.arrived.wait(60)
            seen = site.app.test_client().get("/writes/twice", headers=site.auth("twice", ctype=None))
            assert seen.status_code == 404 and seen.json["state"] == "in-flight"
            count = remote.count()
            second = site.app.test_client().post("/contributions", data=VALID.read_bytes(), headers=site.auth("twice"))
            assert second.status_code == 409 and second.json["error"] == "write-in-flight"
            assert remote.count() == count
        finally:
            held.release.set()
            writer.join(120)
        assert first[0].status_code == 201
        assert site.client.get("/contributions").json["total"] == 1
