"""The README's tour (tests/docs/test_readme.py, the same steps) against a service over Virtuoso: the
shipped data loaded into a real `virtuoso-t` (tests/virtuoso.py), the app and the command line pointed
at it by the two SPARQL URLs, and the same outputs as the README prints. (The explanation drawn in
docs/reasoning.md is not among them: explanations read the embedded store's indexes, and a remote
store answers 501.)"""

from __future__ import annotations

import pytest

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.web import create_app
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT, empty_remote, load_shipped
from docs.test_readme import (  # noqa: F401  (collected here, over Virtuoso)
    test_collective_defence_output_is_what_the_service_answers,
    test_every_example_query_runs_and_finds_something,
    test_nato_1990_output_is_what_the_service_answers,
    test_readme_counts_match_the_store,
    test_validate_output_is_what_the_cli_prints,
)


@pytest.fixture(scope="module")
def app(request, virtuoso_server: str, settings: Settings, write_policy: WritePolicy, tmp_path_factory):
    """The service over Virtuoso holding the shipped data, as `make serve` runs it with the two URLs set."""
    load_shipped(empty_remote(request, "virtuoso"), settings, write_policy)
    local = Settings(
        store_path=None,
        home=ROOT,
        tokens_file=tmp_path_factory.mktemp("readme-virtuoso") / "tokens.json",
        query_timeout=0,
        sparql_query_url=virtuoso_server,
        sparql_update_url=virtuoso_server,
    )
    kb = KnowledgeBase(backend=SparqlBackend(virtuoso_server, virtuoso_server))
    return create_app({"SETTINGS": local, "KB": kb, "TESTING": True})


@pytest.fixture
def store_options(virtuoso_server: str, monkeypatch) -> list[str]:
    """No --store: the README's commands reach Virtuoso by the two URLs in the environment."""
    monkeypatch.setenv("ALLIANCELD_SPARQL_QUERY_URL", virtuoso_server)
    monkeypatch.setenv("ALLIANCELD_SPARQL_UPDATE_URL", virtuoso_server)
    return []
