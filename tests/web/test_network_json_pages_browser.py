"""The network picture draws every link of its day when its JSON gives them a page at a time
(chromium against the app served on 127.0.0.1 over the shipped data)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from allianceld.web.views import pictures
from web.browsing import CHROMIUM, chromium_page, served

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)")


def test_the_picture_follows_the_pages_of_links(app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pictures, "JSON_LIMIT", 10)  # 136 links on 1990-01-01: 14 pages
    with served(app) as base, chromium_page() as page:
        request = urllib.request.Request(base + "/network.json?date=1990-01-01", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request) as r:
            first = json.load(r)
        assert len(first["edges"]) == 10 and first["links"]["truncated"]
        total = first["links"]["total"]
        page.goto(base + "/network?date=1990-01-01")
        page.wait_for_selector("#network[data-rendered='1990-01-01']", timeout=30000)
        assert page.evaluate("window.allianceldNetwork.cy.edges().length") == total
        assert page.inner_text("#network-edges") == str(total)
