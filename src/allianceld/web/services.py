"""The services an app holds: its KnowledgeBase, the write policy and cached reasoning verdicts."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request

from allianceld.config import Settings
from allianceld.errors import AllianceldError
from allianceld.rdf import formats
from allianceld.reasoning import materialise
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.store.execution import Answer, QueryRequest, execute
from allianceld.store.query_pool import QueryPool
from allianceld.tokens import TokenStore
from allianceld.validation.validator import Validator
from allianceld.vocab import ALD, ONTOLOGY_GRAPH
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    write_policy: WritePolicy  # the shapes, the domain rules and the DL checks every write goes through
    tokens: TokenStore
    pool: QueryPool | None = None
    _verdict: tuple[int, materialise.Consistency] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rules: tuple[list[Any], str | None] | None = None  # (domain rules, why there are none)
    _rules_lock: threading.Lock = field(default_factory=threading.Lock)
    # (store version, digest of the ontology graph's content, its classification)
    _classification: tuple[int, str, dict[str, Any]] | None = None
    _classify_lock: threading.Lock = field(default_factory=threading.Lock)

    def consistency(self) -> materialise.Consistency:
        """The OWL 2 DL verdict for the store's current content, computed once per version."""
        with self._lock:
            if self._verdict is None or self._verdict[0] != self.kb.version:
                verdict = materialise.kb_consistency(self.kb, watch=[str(ALD.CollectiveDefenceAlliance)])
                self._verdict = (self.kb.version, verdict)
            return self._verdict[1]

    @property
    def validator(self) -> Validator:
        """The shapes' validator (the write policy's)."""
        return self.write_policy.validator

    def domain_rules(self) -> list[Any]:
        """The domain rules (``allianceld.reasoning.domain_rules.DomainRule``) of the write policy, loaded
        once with it; :meth:`rules_problem` says why there are none when rules were expected."""
        with self._rules_lock:
            if self._rules is None:
                self._rules = (list(self.write_policy.rules), None)
            return self._rules[0]

    def rules_problem(self) -> str | None:
        """Why :meth:`domain_rules` is empty although rules were expected, or None."""
        self.domain_rules()
        assert self._rules is not None
        return self._rules[1]

    def classification(self) -> dict[str, Any]:
        """The OWL 2 DL classification of the stored ontology (``dl_check.classify(...).to_json()``:
        the class tree under ``tree``), computed once per ontology content (HermiT takes seconds);
        ``available`` is False, with the reason in ``message``, when HermiT could not run."""
        from allianceld.reasoning import dl_check

        with self._classify_lock:
            version, cached = self.kb.version, self._classification
            if cached is not None and cached[0] == version:
                return cached[2]
            triples = self.kb.triples(ONTOLOGY_GRAPH) if ONTOLOGY_GRAPH in self.kb.graphs() else []
            digest = hashlib.sha256("\n".join(sorted(str(t) for t in triples)).encode()).hexdigest()
            if cached is not None and cached[1] == digest:  # a write that left the ontology alone
                self._classification = (version, digest, cached[2])
                return cached[2]
            result = dl_check.classify(formats.to_rdflib(triples)).to_json()
            self._classification = (version, digest, result)
            return result

    def answer(self, request: QueryRequest) -> Answer:
        """Answer a user's query: in a query worker under the time limit when the store is on disk,
        in this process otherwise (memory, where nothing can stop a query; remote, where the HTTP
        timeout does)."""
        if self.pool is not None:
            return self.pool.run(request, client=request_client())
        return execute(self.kb, request)

    def close(self) -> None:
        """Stop the query workers and delete their snapshots."""
        if self.pool is not None:
            self.pool.close()


def init_services(app: Flask, settings: Settings) -> None:
    """Open the KnowledgeBase (or take the one given in ``KB``) and build the write policy, once per app."""
    kb = app.config.get("KB") or KnowledgeBase.from_settings(settings)
    write_policy = WritePolicy.from_settings(settings)
    if app.config.get("LOAD_SHIPPED"):
        gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, settings.data_files()))
    pool = None
    if kb.path is not None and not kb.read_only and settings.query_timeout > 0:
        memory = query_copies_fit(settings, kb.path)
        pool = QueryPool(
            kb,
            workers=settings.query_workers,
            timeout=settings.query_timeout,
            memory=memory,
            client_queries=settings.client_queries,
        )
        atexit.register(pool.close)
        if app.config.get("WARM"):
            pool.warm()
    if app.config.get("WARM") and not kb.read_only:  # the first write does not wait for Java to start
        write_policy.warm()
    app.extensions["allianceld"] = Services(settings, kb, write_policy, TokenStore.from_settings(settings), pool)
    if isinstance(kb.backend, SparqlBackend):  # other services may write the store: noticed once per request
        app.before_request(lambda: _notice_other_writes(kb))


def _notice_other_writes(kb: KnowledgeBase) -> None:
    """:meth:`KnowledgeBase.refresh`; a store that does not answer fails the request's own reads instead."""
    with contextlib.suppress(AllianceldError):
        kb.refresh()


def request_client() -> str | None:
    """The client of the request being served (its remote address), for per-client limits."""
    return (request.remote_addr or "unknown") if has_request_context() else None


def query_memory_choice(settings: Settings) -> str:
    """``settings.query_memory`` ("on", "off" or "auto"); ValueError naming the setting otherwise."""
    choice = settings.query_memory
    if choice not in ("on", "off", "auto"):
        raise ValueError(f"ALLIANCELD_QUERY_MEMORY must be on, off or auto, not {choice!r}")
    return choice


def query_copies_fit(settings: Settings, path: Path) -> bool:
    """Whether the query workers keep the store in memory (:func:`query_memory_choice`): "on",
    "off", or "auto": while one copy per worker, counted at the store's size on disk (more than it
    takes in memory), fits in half of the machine's memory."""
    choice = query_memory_choice(settings)
    if choice != "auto":
        return choice == "on"
    on_disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return on_disk * max(1, settings.query_workers) <= memory // 2


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["allianceld"]


def get_kb() -> KnowledgeBase:
    """The current app's KnowledgeBase."""
    return services().kb
