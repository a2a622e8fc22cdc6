"""Query worker processes: a time limit that really stops a runaway query, and reads on every core.

pyoxigraph cannot cancel a running query, so user queries against an on-disk store run in worker
processes, which are killed when a query passes the time limit (the request gets 503, every other
request goes on). A worker never opens the live store (RocksDB leaves a reader beside another
process's writer undefined); it opens a *snapshot*: a RocksDB checkpoint of the store, made of
hard links, taken when the first query after a write arrives (~10 ms) and deleted once no query
uses it. A query therefore sees every write acknowledged before it started.
"""

from __future__ import annotations

import multiprocessing
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from allianceld.errors import AllianceldError, QueryTimeout
from allianceld.store.execution import Answer, QueryRequest, execute
from allianceld.store.knowledgebase import KnowledgeBase

_CONTEXT = multiprocessing.get_context("spawn")  # no fork of a process holding RocksDB and threads


@dataclass
class _Snapshot:
    path: Path
    version: int
    users: int = 0


# How long a new worker may take to start (a fresh interpreter importing pyoxigraph and allianceld):
# not counted against a query's time limit, which starts when the query is handed to a ready worker.
STARTUP_S = 60.0


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self) -> None:
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_worker_main, args=(child,), daemon=True, name="allianceld-query")
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Wait for the worker's first message, sent once it has started; raise if it does not come."""
        if self.ready:
            return
        if not self.conn.poll(STARTUP_S) or self.conn.recv() != ("ready", None):
            raise AllianceldError(f"a query worker did not start within {STARTUP_S:g} s")
        self.ready = True

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryPool:
    """Runs queries on snapshots of ``kb`` in up to ``workers`` processes, each stopped after
    ``timeout`` seconds."""

    def __init__(self, kb: KnowledgeBase, *, workers: int, timeout: float) -> None:
        if kb.path is None:
            raise ValueError("query workers need an on-disk store")
        self.kb, self.max_workers, self.timeout = kb, max(1, workers), timeout
        self.snapshot_dir = kb.path.parent / f".{kb.path.name}.snapshots"
        shutil.rmtree(self.snapshot_dir, ignore_errors=True)  # left over by a crash
        self._workers = threading.Condition()
        self._idle: list[_Worker] = []
        self._live = 0
        self._snapshots = threading.Lock()
        self._current: _Snapshot | None = None
        self._closed = False

    def run(self, request: QueryRequest) -> Answer:
        """Answer ``request`` in a worker; :class:`QueryTimeout` when it runs past the limit."""
        deadline = time.monotonic() + self.timeout  # for a busy pool to free a worker
        snapshot = self._acquire_snapshot()
        try:
            worker = self._take_worker(deadline)
            try:
                worker.wait_ready()
                deadline = time.monotonic() + self.timeout  # the query's own limit
                worker.conn.send((str(snapshot.path), request))
                if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                    self._discard(worker)
                    raise QueryTimeout(
                        f"the query ran longer than the limit of {self.timeout:g} s and was stopped "
                        "(ALLIANCELD_QUERY_TIMEOUT): narrow it, or add a LIMIT",
                        timeout_s=self.timeout,
                    )
                status, payload = worker.conn.recv()
            except (EOFError, OSError, AllianceldError) as exc:
                self._discard(worker)
                if isinstance(exc, AllianceldError):
                    raise
                raise AllianceldError(f"the query worker failed: {exc or type(exc).__name__}") from None
            self._give_back(worker)
        finally:
            self._release_snapshot(snapshot)
        if status == "error":
            raise payload
        return payload

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when they finish) and delete the snapshots."""
        with self._workers:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()
        shutil.rmtree(self.snapshot_dir, ignore_errors=True)

    # -- workers --------------------------------------------------------------------------------

    def _take_worker(self, deadline: float) -> _Worker:
        with self._workers:
            while not self._idle and self._live >= self.max_workers:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise QueryTimeout(
                        f"all {self.max_workers} query workers stayed busy for {self.timeout:g} s; try again later",
                        timeout_s=self.timeout,
                    )
                self._workers.wait(remaining)
            if self._idle:
                return self._idle.pop()
            self._live += 1
        try:
            return _Worker()
        except Exception:
            with self._workers:
                self._live -= 1
                self._workers.notify()
            raise

    def _give_back(self, worker: _Worker) -> None:
        with self._workers:
            if not self._closed:
                self._idle.append(worker)
                self._workers.notify()
                return
            self._live -= 1
        worker.kill()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._workers:
            self._live -= 1
            self._workers.notify()

    # -- snapshots ------------------------------------------------------------------------------

    def _acquire_snapshot(self) -> _Snapshot:
        with self._snapshots:
            version = self.kb.version  # read before the checkpoint: a later write makes a new one
            if self._current is None or self._current.version != version:
                self.snapshot_dir.mkdir(parents=True, exist_ok=True)
                path = self.snapshot_dir / f"v{version}-{uuid.uuid4().hex[:8]}"
                self.kb.snapshot(path)
                old, self._current = self._current, _Snapshot(path, version)
                if old is not None and old.users == 0:
                    shutil.rmtree(old.path, ignore_errors=True)
            self._current.users += 1
            return self._current

    def _release_snapshot(self, snapshot: _Snapshot) -> None:
        with self._snapshots:
            snapshot.users -= 1
            if snapshot is not self._current and snapshot.users == 0:
                shutil.rmtree(snapshot.path, ignore_errors=True)


def _worker_main(conn: Connection) -> None:
    """A worker's loop: open the snapshot a request names (once), answer, repeat until EOF."""
    kb: KnowledgeBase | None = None
    opened: str | None = None
    conn.send(("ready", None))
    while True:
        try:
            path, request = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[str, Any]
        try:
            if path != opened:
                if kb is not None:
                    kb.close()
                kb, opened = KnowledgeBase(path, read_only=True), path
            assert kb is not None
            reply = ("ok", execute(kb, request))
        except AllianceldError as exc:
            reply = ("error", exc)
        except Exception as exc:  # a store error: report it, keep the worker
            reply = ("error", AllianceldError(f"the query failed: {exc}"))
        conn.send(reply)
