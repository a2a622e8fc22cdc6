"""The pages on the whole historic record (the shipped data and the ATOP 5.0 import), in Chromium:
network labels that do not overlap, and every page under about 1 MB."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from allianceld.importers import atop, commit_import
from allianceld.store import KnowledgeBase
from allianceld.web import create_app
from conftest import load_shipped
from importers.test_importers import ATOP_FILES, needs_external
from web.browsing import CHROMIUM, chromium_page, network_labels, served

pytestmark = [
    needs_external,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)"),
]
MAX_BYTES = 1_000_000
PAGES = [
    "/network",
    "/network?date=1990-01-01&obligation=any",
    "/network?date=1914-06-01&obligation=any",
    "/id/state/usa",
    "/id/state/rus",
    "/id/alliance/nato",
    "/alliances",
    "/states?active_on=1950-01-01",
    "/charts",
    "/reasoning",
]


@pytest.fixture(scope="module")
def base(settings, write_policy) -> Iterator[str]:
    """The shipped data and the whole ATOP 5.0 record (one row left out, as `import atop --partial`),
    served on a free port of 127.0.0.1."""
    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    commit_import(kb, write_policy, atop.build(kb, ATOP_FILES), partial=True)
    with served(create_app({"SETTINGS": settings, "KB": kb, "TESTING": True})) as url:
        yield url


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    with chromium_page(1280, 900) as opened:
        yield opened


@pytest.mark.parametrize("path", PAGES)
def test_every_page_of_the_whole_record_stays_under_a_megabyte(base: str, path: str) -> None:
    request = urllib.request.Request(base + path, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
        assert len(answer.read()) < MAX_BYTES


@pytest.mark.parametrize(
    "path", ["/network", "/network?date=1990-01-01&obligation=any", "/network?date=1914-06-01&obligation=any"]
)
def test_network_labels_on_the_whole_record_do_not_overlap(base: str, page, path: str) -> None:
    shown, pairs = network_labels(page, base + path)
    assert pairs == []
    assert shown >= 10  # the best-connected states keep their names
