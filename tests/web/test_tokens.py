"""Bearer tokens: hashed in the tokens file or given as hashes in ALLIANCELD_TOKEN_HASHES; roles."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.tokens import Principal, TokenStore, parse_token_hashes
from allianceld.web import create_app
from conftest import ROOT


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_environment_hashes_are_merged_with_the_tokens_file(tmp_path: Path) -> None:
    from_file = TokenStore(tmp_path / "tokens.json").create("alice", "contributor")
    env = f"bob:admin:{sha256('bobs-secret')}, carol:contributor:{sha256('carols-secret').upper()}"
    local = Settings(store_path=None, home=ROOT, tokens_file=tmp_path / "tokens.json", token_hashes=env)
    tokens = TokenStore.from_settings(local)
    assert tokens.authenticate(from_file) == Principal("alice", "contributor")
    assert tokens.authenticate("bobs-secret") == Principal("bob", "admin")
    assert tokens.authenticate("carols-secret") == Principal("carol", "contributor")
    assert tokens.authenticate(sha256("bobs-secret")) is None  # the hash is not the token
    client = create_app({"SETTINGS": local, "KB": KnowledgeBase(), "TESTING": True}).test_client()
    as_bob = {"Authorization": "Bearer bobs-secret"}
    assert client.delete("/contributions/0123456789ab", headers=as_bob).status_code == 404  # admin: allowed
    as_carol = {"Authorization": "Bearer carols-secret"}
    assert client.delete("/contributions/0123456789ab", headers=as_carol).status_code == 403
    assert client.delete("/contributions/0123456789ab", headers={"Authorization": "Bearer x"}).status_code == 401


@pytest.mark.parametrize(
    "value",
    [
        "alice:contributor",
        "alice:owner:" + "0" * 64,
        ":admin:" + "0" * 64,
        "alice:admin:" + "0" * 63,
        "alice:admin:xyz",
    ],
)
def test_malformed_environment_hashes_are_refused_without_echoing_them(value: str) -> None:
    with pytest.raises(ValueError, match="ALLIANCELD_TOKEN_HASHES item 1") as caught:
        parse_token_hashes(value)
    assert "0" * 63 not in str(caught.value)


def test_token_create_for_the_environment_writes_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ALLIANCELD_TOKENS", str(tmp_path / "tokens.json"))
    result = CliRunner().invoke(main, ["token", "create", "dora", "--role", "admin", "--env"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert f"dora:admin:{sha256(token)}" in result.stderr
    assert not (tmp_path / "tokens.json").exists()
    parsed = parse_token_hashes(result.stderr.split(": ", 1)[1].splitlines()[0])
    assert TokenStore(tmp_path / "none.json", extra=parsed).authenticate(token) == Principal("dora", "admin")
    bad = CliRunner().invoke(main, ["token", "create", "a:b", "--env"])
    assert bad.exit_code == 2
