"""The README's tour (tests/docs/test_readme.py, the same steps) against a service over a remote store,
Virtuoso (a real `virtuoso-t`, tests/virtuoso.py) and `oxigraph serve`: the shipped data loaded into it,
the app and the command line pointed at it by the two SPARQL URLs, and the same outputs as the README
prints. (The explanation drawn in docs/reasoning.md is not among them: explanations read the embedded
store's indexes, and a remote store answers 501.)"""

from __future__ import annotations

import pytest

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.web import create_app
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT, empty_remote, load_shipped
from docs.test_readme import (  # noqa: F401  (collected here, over a remote store)
    test_collective_defence_output_is_what_the_service_answers,
    test_every_example_query_runs_and_finds_something,
    test_nato_1990_output_is_what_the_service_answers,
    test_readme_counts_match_the_store,
    test_validate_output_is_what_the_cli_prints,
)


@pytest.fixture(scope="module", params=["virtuoso", "remote"])
def remote(request, settings: Settings, write_policy: WritePolicy) -> SparqlBackend:
    """The remote store, holding the shipped data: its backend (and so its two URLs)."""
    kb = load_shipped(empty_remote(request, request.param), settings, write_policy)
    assert isinstance(kb.backend, SparqlBackend)
    return kb.backend


@pytest.fixture(scope="module")
def app(remote: SparqlBackend, tmp_path_factory):
    """The service over the remote store, as `make serve` runs it with the two URLs set."""
    local = Settings(
        store_path=None,
        home=ROOT,
        tokens_file=tmp_path_factory.mktemp("readme-remote") / "tokens.json",
        query_timeout=0,
        sparql_query_url=remote.query_url,
        sparql_update_url=remote.update_url,
    )
    kb = KnowledgeBase(backend=SparqlBackend(remote.query_url, remote.update_url))
    return create_app({"SETTINGS": local, "KB": kb, "TESTING": True})


@pytest.fixture
def store_options(remote: SparqlBackend, monkeypatch) -> list[str]:
    """No --store: the README's commands reach the remote store by the two URLs in the environment."""
    monkeypatch.setenv("ALLIANCELD_SPARQL_QUERY_URL", remote.query_url)
    monkeypatch.setenv("ALLIANCELD_SPARQL_UPDATE_URL", remote.update_url)
    return []
