"""The services an app holds: its KnowledgeBase, the validator and cached reasoning verdicts."""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass, field

from flask import Flask, current_app

from allianceld import gate, reasoning
from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.store.execution import Answer, QueryRequest, execute
from allianceld.store.query_pool import QueryPool
from allianceld.tokens import TokenStore
from allianceld.validation import Validator
from allianceld.vocab import ALD


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    validator: Validator
    tokens: TokenStore
    pool: QueryPool | None = None
    _verdict: tuple[int, reasoning.Consistency] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def consistency(self) -> reasoning.Consistency:
        """The OWL 2 DL verdict for the store's current content, computed once per version."""
        with self._lock:
            if self._verdict is None or self._verdict[0] != self.kb.version:
                verdict = reasoning.kb_consistency(self.kb, watch=[str(ALD.CollectiveDefenceAlliance)])
                self._verdict = (self.kb.version, verdict)
            return self._verdict[1]

    def answer(self, request: QueryRequest) -> Answer:
        """Answer a user's query: in a query worker under the time limit when the store is on disk,
        in this process otherwise (memory, where nothing can stop a query; remote, where the HTTP
        timeout does)."""
        if self.pool is not None:
            return self.pool.run(request)
        return execute(self.kb, request)

    def close(self) -> None:
        """Stop the query workers and delete their snapshots."""
        if self.pool is not None:
            self.pool.close()


def init_services(app: Flask, settings: Settings) -> None:
    """Open the KnowledgeBase (or take the one given in ``KB``) and the validator, once per app."""
    kb = app.config.get("KB") or KnowledgeBase.from_settings(settings)
    validator = Validator.from_settings(settings)
    if app.config.get("LOAD_SHIPPED"):
        gate.commit(kb, validator, gate.shipped_sources(settings.ontology_file, settings.data_files()))
    pool = None
    if kb.path is not None and not kb.read_only and settings.query_timeout > 0:
        pool = QueryPool(kb, workers=settings.query_workers, timeout=settings.query_timeout)
        atexit.register(pool.close)
    app.extensions["allianceld"] = Services(settings, kb, validator, TokenStore.from_settings(settings), pool)


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["allianceld"]


def get_kb() -> KnowledgeBase:
    """The current app's KnowledgeBase."""
    return services().kb
