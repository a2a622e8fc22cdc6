"""The README and docs/: short README, every relative link resolves, user language only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+ (.+)$", re.M)
# development history, paths outside the repository, the contract file users never see
NOT_FOR_USERS = re.compile(r"\.\./shared|PRODUCT\.md|\bstop \d+|\bissue \d+|\bearlier (?:stop|session|run)s?\b", re.I)


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower())
    return text.replace(" ", "-")


def test_the_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: {target}"
        if anchor and file.suffix == ".md":
            anchors = {_anchor(h) for h in HEADING.findall(file.read_text(encoding="utf-8"))}
            assert anchor in anchors, f"{page.name}: {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_speak_of_the_product_only(page: Path) -> None:
    found = NOT_FOR_USERS.findall(page.read_text(encoding="utf-8"))
    assert not found, f"{page.name}: {found}"


def test_the_index_lists_every_page() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        if page.name != "index.md":
            assert f"]({page.name})" in index, page.name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_named_files_exist(page: Path) -> None:
    """Repository paths and test files the pages name exist (test files in any folder of tests/)."""
    text = page.read_text(encoding="utf-8")
    for path in re.findall(r"`((?:src|tests|docs|data|shapes|ontology|benchmarks)/[\w./-]*)`", text):
        if not (path.startswith("tests/") and path.endswith("/")):  # the tests' folders, as architecture.md plans them
            assert (ROOT / path).exists(), f"{page.name}: {path}"
    for name in re.findall(r"`(test_\w+\.py)`", text):
        assert any((ROOT / "tests").rglob(name)), f"{page.name}: {name}"


def test_where_to_look_names_every_package_and_top_level_module() -> None:
    """The README's table matches src/allianceld/: each subpackage and top-level module, no other."""
    rows = [
        line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("| `src/")
    ]
    named = {
        name.rstrip("/") for row in rows for name in re.findall(r"`(?:src/allianceld/)?([\w.]+/?)`", row.split("|")[1])
    }
    package = ROOT / "src" / "allianceld"
    present = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    present |= {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
    assert named == present
