"""The example queries offered in the query editor: the ``.rq`` files of ``docs/queries``, each with
the title a person reads in the editor's list.

A query file starts with comment lines: ``# Title: ...`` names it; the other leading comment lines
describe it (shown when the pointer rests on its button)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_TITLE = re.compile(r"#\s*Title:\s*(?P<title>\S.*?)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Example:
    """One example query: its file's stem, its title, its description and its text."""

    name: str
    title: str
    description: str
    query: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "description": self.description, "query": self.query}


def read_example(name: str, text: str) -> Example:
    """The example ``name`` (a file stem) whose query is ``text``; without a ``# Title:`` line its title
    is the stem in words, capitalised.

    >>> read_example("nato-1990", "# Title: NATO in 1990\\n# Its members.\\nSELECT * {}").title
    'NATO in 1990'
    >>> read_example("nato-members", "SELECT * {}").title
    'Nato members'
    """
    title, described = None, []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        found = _TITLE.fullmatch(stripped)
        if found and title is None:
            title = found["title"]
        else:
            described.append(stripped.lstrip("#").strip())
    if title is None:
        words = name.replace("-", " ").replace("_", " ").strip()
        title = words[:1].upper() + words[1:]
    return Example(name, title, " ".join(d for d in described if d), text)


def example_queries(folder: Path) -> list[Example]:
    """The examples of ``folder``'s ``.rq`` files, in the order of their file names."""
    return [read_example(p.stem, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.rq"))]
