"""An alliance's timeline in a real browser (Debian's chromium driven by Playwright) against the app
served on 127.0.0.1 over the shipped data: its events and exercises are drawn in rows of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from web.browsing import CHROMIUM, chromium_page, served

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)")


@pytest.fixture(scope="module")
def base(app) -> Iterator[str]:
    with served(app) as url:
        yield url


def test_csto_timeline_draws_its_events_and_exercises(base: str) -> None:
    with chromium_page() as page:
        page.goto(base + "/id/alliance/csto")
        page.wait_for_selector("#timeline[data-rendered]", timeout=20000)
        page.wait_for_selector("#timeline .vis-label:has-text('Exercises')", state="visible", timeout=20000)
        rows = page.eval_on_selector_all("#timeline .vis-label .vis-inner", "els => els.map(e => e.textContent)")
        assert rows[:2] == ["Events", "Exercises"]
        assert page.locator("#timeline .vis-item.vis-point.event").count() == 5  # the CSTO's five events, each drawn
        titles = page.evaluate(
            "window.allianceldTimeline.timeline.itemsData.get().filter(i => i.group === '~events').map(i => i.title)"
        )
        assert any(t.startswith("Armenia freezes its participation in the CSTO (freeze): 2024-02-22") for t in titles)
        assert page.locator("#timeline .vis-item.exercise").count() >= 1  # its joint exercises
        assert page.evaluate("document.getElementById('timeline').dataset.error") is None
