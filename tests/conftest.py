"""Fixtures: settings over the real ontology/shapes/data, fresh stores, apps and CLI runners."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from allianceld import gate
from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.validation import Validator
from allianceld.web import create_app

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).parent / "data"

requires_java = pytest.mark.skipif(shutil.which("java") is None, reason="no java on PATH: HermiT cannot run")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(store_path=None, home=ROOT)


@pytest.fixture(scope="session")
def validator(settings: Settings) -> Validator:
    return Validator.from_settings(settings)


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


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> Iterator[str]:
    """A real `oxigraph serve` process on 127.0.0.1 (the PyPI package `oxigraph`), in memory."""
    exe = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if exe is None:
        pytest.skip("no `oxigraph` executable (pip install oxigraph)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "serve", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/query?query=ASK%7B%7D", proc)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(params=["embedded", "remote"])
def kb(request) -> KnowledgeBase:
    """A fresh, empty store: embedded (pyoxigraph in memory) or remote (`oxigraph serve` over HTTP)."""
    if request.param == "embedded":
        return KnowledgeBase()
    base = request.getfixturevalue("oxigraph_server")
    remote = KnowledgeBase(backend=SparqlBackend(base + "/query", base + "/update"))
    remote.backend.update("DROP SILENT ALL")
    return remote


def load_shipped(kb: KnowledgeBase, settings: Settings, validator: Validator) -> KnowledgeBase:
    gate.commit(kb, validator, gate.shipped_sources(settings.ontology_file, settings.data_files()))
    return kb


@pytest.fixture
def loaded_kb(settings: Settings, validator: Validator) -> KnowledgeBase:
    """A fresh in-memory store with the ontology and the shipped data (for tests that write)."""
    return load_shipped(KnowledgeBase(), settings, validator)


@pytest.fixture(scope="session")
def shared_kb(settings: Settings, validator: Validator) -> KnowledgeBase:
    """One loaded store shared by read-only tests (never write to it)."""
    return load_shipped(KnowledgeBase(), settings, validator)


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


@pytest.fixture
def setup(tmp_path: Path, validator: Validator):
    """A writable app over a fresh loaded store: (client, kb, contributor token, admin token)."""
    from allianceld.tokens import TokenStore

    local = Settings(store_path=None, home=ROOT, tokens_file=tmp_path / "tokens.json")
    kb = load_shipped(KnowledgeBase(), local, validator)
    tokens = TokenStore(local.tokens_file)
    app = create_app({"SETTINGS": local, "KB": kb, "TESTING": True})
    return app.test_client(), kb, tokens.create("alice", "contributor"), tokens.create("root", "admin")
