"""Fixtures: settings over the real ontology/shapes/data, fresh stores, apps and CLI runners."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.validation.validator import Validator
from allianceld.vocab import WRITE_LEASE_GRAPH, WRITE_VERSION_GRAPH_BASE
from allianceld.web import create_app, page_cache
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from virtuoso import virtuoso_serve
from w3c.replay import LiveServer

# HermiT on every write costs ~1 s; the tests of that check turn it on (tests/reasoning/test_dl_check.py,
# tests/write/test_reasoning_gate.py), the others test everything else without it
os.environ.setdefault("ALLIANCELD_DL_CHECKS", "off")

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).parent / "data"

requires_java = pytest.mark.skipif(shutil.which("java") is None, reason="no java on PATH: HermiT cannot run")


def in_a_new_process(test: Callable[..., None], *args: Any) -> None:
    """Run ``test(*args)`` (a module-level function) in a new interpreter, where no other thread
    runs: a fork (``allianceld.forked``) needs that, and an earlier test in this process may have
    left a thread (a server's, HermiT's warm-up) running. Its exception is raised here."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(test, *args).result()


@pytest.fixture(autouse=True)
def _kept_pages_forgotten() -> Iterator[None]:
    """Kept pages do not outlive a test: some tests change how pages are built (a page size, a
    limit) while their app runs, which the store's version does not see."""
    yield
    page_cache.forget_all()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(store_path=None, home=ROOT)


@pytest.fixture(scope="session")
def validator(settings: Settings) -> Validator:
    return Validator.from_settings(settings)


@pytest.fixture(scope="session")
def write_policy(settings: Settings, validator: Validator) -> WritePolicy:
    """What the gate checks writes against: the shipped shapes (:func:`validator`) and domain rules."""
    return WritePolicy.from_settings(settings, validator=validator)


def free_port() -> int:
    """A TCP port free on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    """Wait until ``url`` answers; fail if ``proc`` exits or the time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{proc.args[0]} did not start") from None
            time.sleep(0.1)


@contextlib.contextmanager
def oxigraph_serve(*options: str) -> Iterator[str]:
    """A real `oxigraph serve` process (the PyPI package `oxigraph`) on 127.0.0.1, in memory, with
    extra command-line ``options``; yields its base URL and stops it afterwards. Skips the test
    when the executable is missing."""
    exe = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if exe is None:
        pytest.skip("no `oxigraph` executable (pip install oxigraph)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "serve", "--bind", f"127.0.0.1:{port}", *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/query?query=ASK%7B%7D", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def oxigraph_server() -> Iterator[str]:
    """A real `oxigraph serve` process on 127.0.0.1, shared by the session."""
    with oxigraph_serve() as base:
        yield base


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory) -> Iterator[str]:
    """A real Virtuoso Open Source server on 127.0.0.1, shared by the session: its SPARQL endpoint's
    URL (queries and updates). Skips when Virtuoso is not installed."""
    with virtuoso_serve(tmp_path_factory.mktemp("virtuoso"), free_port(), free_port()) as endpoint:
        yield endpoint


def empty_remote(request, engine: str) -> KnowledgeBase:
    """A KnowledgeBase over the session's ``engine`` ("remote": `oxigraph serve`; "virtuoso"), emptied
    of every allianceld graph, the services' write versions too: each test starts with none, so a
    journal left by a test that failed makes no later write a conflict (Virtuoso's own graphs are
    kept: the server needs them)."""
    if engine == "virtuoso":
        endpoint = request.getfixturevalue("virtuoso_server")
        remote = KnowledgeBase(backend=SparqlBackend(endpoint, endpoint))
        versions = remote.backend.select(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER(STRSTARTS(STR(?g), {ox.Literal(WRITE_VERSION_GRAPH_BASE)})) }}"
        )
        # the services' own graphs too (write versions, the write lease): no test's claim or journal holds up the next
        graphs = [*remote.backend.named_graphs(), *(row["g"].value for row in versions), WRITE_LEASE_GRAPH]  # type: ignore[union-attr]
        drops = [f"DROP SILENT GRAPH <{g}>" for g in graphs]
        if drops:
            remote.backend.update(" ;\n".join(drops))
        return remote
    base = request.getfixturevalue("oxigraph_server")
    remote = KnowledgeBase(backend=SparqlBackend(base + "/query", base + "/update"))
    remote.backend.update("DROP SILENT ALL")
    return remote


@pytest.fixture(params=["remote", "virtuoso"])
def remote_kb(request) -> KnowledgeBase:
    """A fresh, empty remote store: `oxigraph serve` or Virtuoso, over HTTP."""
    return empty_remote(request, request.param)


@pytest.fixture(params=["embedded", "remote", "virtuoso"])
def kb(request) -> KnowledgeBase:
    """A fresh, empty store: embedded (pyoxigraph in memory) or remote (`oxigraph serve` or
    Virtuoso over HTTP)."""
    if request.param == "embedded":
        return KnowledgeBase()
    return empty_remote(request, request.param)


def load_shipped(kb: KnowledgeBase, settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, settings.data_files()))
    return kb


@pytest.fixture
def loaded_kb(settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    """A fresh in-memory store with the ontology and the shipped data (for tests that write)."""
    return load_shipped(KnowledgeBase(), settings, write_policy)


@pytest.fixture(scope="session")
def shared_kb(settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    """One loaded store shared by read-only tests (never write to it)."""
    return load_shipped(KnowledgeBase(), settings, write_policy)


@pytest.fixture(scope="session")
def app(settings: Settings, shared_kb: KnowledgeBase):
    return create_app({"SETTINGS": settings, "KB": shared_kb, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory, settings: Settings, write_policy: WritePolicy) -> Iterator[KnowledgeBase]:
    """An on-disk store with the ontology and all the shipped data, loaded once; never written
    to: :func:`setup` gives each test a checkpoint of it."""
    kb = load_shipped(KnowledgeBase(tmp_path_factory.mktemp("shipped") / "store"), settings, write_policy)
    yield kb
    kb.close()


@pytest.fixture
def setup(tmp_path: Path, shipped_store: KnowledgeBase):
    """A writable app over a fresh on-disk copy of the shipped store: (client, kb, contributor
    token, admin token)."""
    from allianceld.tokens import TokenStore

    shipped_store.snapshot(tmp_path / "store")
    kb = KnowledgeBase(tmp_path / "store")
    local = Settings(store_path=kb.path, home=ROOT, tokens_file=tmp_path / "tokens.json", query_timeout=0)
    tokens = TokenStore(local.tokens_file)
    app = create_app({"SETTINGS": local, "KB": kb, "TESTING": True})
    yield app.test_client(), kb, tokens.create("alice", "contributor"), tokens.create("root", "admin")
    kb.close()


# -- an on-disk store for tests that write through HTTP ------------------------------------------

SMALL_WORLD = ("regions", "sources", "states", "nato")  # shipped files: enough for NATO's records


@pytest.fixture(scope="session")
def small_store(tmp_path_factory, settings: Settings, write_policy: WritePolicy) -> Iterator[KnowledgeBase]:
    """An on-disk store with the ontology and the shipped NATO, states, regions and sources files,
    loaded once (a write is validated with far less data than the whole shipped set). Never
    written to: tests write to checkpoints of it (:func:`site`)."""
    kb = KnowledgeBase(tmp_path_factory.mktemp("small-world") / "store")
    files = [settings.data_dir / f"{name}.ttl" for name in SMALL_WORLD]
    gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, files))
    yield kb
    kb.close()


@dataclass
class Site:
    """A writable app over its own on-disk store, with a contributor's and an admin's token."""

    client: FlaskClient
    kb: KnowledgeBase
    contributor: str
    admin: str
    app: Flask

    def auth(self, token: str | None = None, ctype: str | None = "text/turtle", **headers: str) -> dict[str, str]:
        """Request headers with ``token`` (the contributor's by default) as a bearer token."""
        out = {"Authorization": f"Bearer {token or self.contributor}", **headers}
        if ctype:
            out["Content-Type"] = ctype
        return out


def open_site(tmp_path: Path, small_store: KnowledgeBase, *, query_timeout: float = 0, **settings: Any) -> Site:
    """A copy (RocksDB checkpoint) of ``small_store`` at ``tmp_path/store``, served by a new app.
    ``query_timeout`` > 0 runs /sparql queries in query worker processes, as in production;
    ``settings`` are more :class:`Settings` fields (``max_body_bytes=...``)."""
    from allianceld.tokens import TokenStore

    path = tmp_path / "store"
    small_store.snapshot(path)
    kb = KnowledgeBase(path)
    local = Settings(
        store_path=path, home=ROOT, tokens_file=tmp_path / "tokens.json", query_timeout=query_timeout, **settings
    )
    tokens = TokenStore(local.tokens_file)
    app = create_app({"SETTINGS": local, "KB": kb, "TESTING": True})
    return Site(app.test_client(), kb, tokens.create("alice", "contributor"), tokens.create("root", "admin"), app)


@pytest.fixture
def site(tmp_path: Path, small_store: KnowledgeBase) -> Iterator[Site]:
    """A writable app over an on-disk copy of :func:`small_store`."""
    opened = open_site(tmp_path, small_store)
    yield opened
    opened.app.extensions["allianceld"].close()
    opened.kb.close()


@pytest.fixture(scope="module")
def w3c_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The app in a real server on 127.0.0.1 over a throwaway store, for the W3C suites."""
    live = LiveServer(tmp_path_factory.mktemp("w3c"))
    yield live
    live.close()


def until_in_memory(pool, ask, workers: int = 1) -> None:
    """Call ``ask`` (a query through ``pool``'s app) in ``workers`` threads at once, so that every
    worker gets one, until ``workers`` workers answer from an up-to-date in-memory copy."""
    deadline = time.monotonic() + 60
    while pool.status()["in_memory"] < workers:
        assert time.monotonic() < deadline, pool.status()
        threads = [threading.Thread(target=ask) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.05)
