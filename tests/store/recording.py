"""A remote store's backend that keeps the text of every update it sends, for the tests that check
what a write sends."""

from __future__ import annotations

from allianceld.store.backends import SparqlBackend


class Recording(SparqlBackend):
    """A backend that keeps the text of every update it sends."""

    def __init__(self, query_url: str, update_url: str) -> None:
        super().__init__(query_url, update_url)
        self.sent: list[str] = []

    def update(self, update: str) -> None:
        self.sent.append(update)
        super().update(update)
