"""docs/cli.md names exactly the commands and options that ``allianceld --help`` shows."""

from __future__ import annotations

import re

import click

from allianceld.cli import main
from conftest import ROOT

DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
HEADING = re.compile(r"^## `(allianceld(?: [a-z-]+)*)`$", re.M)


def _documented() -> dict[str, set[str]]:
    """Each documented command path, with the long options its section names."""
    parts = HEADING.split(DOC)[1:]
    return {
        name: set(re.findall(r"`(--[a-z][a-z-]*)", body)) for name, body in zip(parts[::2], parts[1::2], strict=True)
    }


def _commands(command: click.Command, path: str) -> dict[str, set[str]]:
    """Each command path below ``command`` with its long options (``--help`` left out)."""
    options = {o for p in command.params if isinstance(p, click.Option) for o in p.opts if o.startswith("--")}
    found = {path: options - {"--help"}}
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found |= _commands(sub, f"{path} {name}")
    return found


def test_every_command_in_help_is_documented_and_no_other() -> None:
    assert set(_documented()) == set(_commands(main, "allianceld"))


def test_each_command_section_names_exactly_its_options() -> None:
    documented, actual = _documented(), _commands(main, "allianceld")
    for name in actual:
        assert documented[name] == actual[name], name


def test_every_option_is_in_the_commands_help_output(runner) -> None:
    """The options are checked against the printed --help too, not only click's objects."""
    for name, options in _commands(main, "allianceld").items():
        result = runner.invoke(main, [*name.split()[1:], "--help"])
        assert result.exit_code == 0, name
        assert set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", result.output)) - {"--help"} >= options, name
