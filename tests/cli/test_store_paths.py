"""Only ``init`` makes a store: every other command given a store path that does not exist (a
mistyped --store) says so, exit 2, and creates nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from allianceld.cli import main
from conftest import TEST_DATA

VALID = sorted((TEST_DATA / "valid").glob("*.ttl"))[0]


@pytest.mark.parametrize(
    "command",
    [
        ["load", str(VALID)],
        ["import", "atop", str(VALID), str(VALID)],
        ["reason", "--no-dl"],
        ["migrate", "--dry-run"],
        ["query", "ASK { ?s ?p ?o }"],
    ],
    ids=lambda c: c[0],
)
def test_a_command_on_a_store_path_that_does_not_exist_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    mistyped = tmp_path / "stor"
    result = CliRunner().invoke(main, ["--store", str(mistyped), *command])
    assert result.exit_code == 2, result.output
    assert f"no store at {mistyped}: run 'allianceld init' first" in result.output
    assert list(tmp_path.iterdir()) == []


def test_init_makes_the_store_the_others_then_use(tmp_path: Path) -> None:
    store = tmp_path / "new" / "store"
    assert CliRunner().invoke(main, ["--store", str(store), "init"]).exit_code == 0
    loaded = CliRunner().invoke(main, ["--store", str(store), "load", str(VALID)])
    assert loaded.exit_code == 0, loaded.output
