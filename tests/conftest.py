"""Fixtures: settings over the real ontology/shapes/data, fresh stores, apps and CLI runners."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allianceld import gate
from allianceld.config import Settings
from allianceld.store import KnowledgeBase
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


@pytest.fixture
def kb() -> KnowledgeBase:
    """A fresh, empty in-memory store."""
    return KnowledgeBase()


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
