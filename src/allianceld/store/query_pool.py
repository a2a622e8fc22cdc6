"""Query worker processes: a time limit that really stops a runaway query, and reads on every core.

pyoxigraph cannot cancel a running query, so queries run in workers that are killed at the time
limit. Each answers from a snapshot (a RocksDB checkpoint) or from its in-memory copy of the store
(``store.replica``), brought up to date first; no client may hold every worker
(:mod:`allianceld.store.admission`). See docs/operations.md ("Settings and limits") and
docs/architecture.md ("Design notes").
"""

from __future__ import annotations

import contextlib
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
from allianceld.store import federation
from allianceld.store.admission import Admission
from allianceld.store.execution import Answer, QueryRequest, execute
from allianceld.store.knowledgebase import KnowledgeBase
from allianceld.store.replica import Replica, Stale

_CONTEXT = multiprocessing.get_context("spawn")  # no fork of a process holding RocksDB and threads


@dataclass
class _Snapshot:
    path: Path
    version: int
    users: int = 0


# How long a new worker may take to start (a fresh interpreter importing pyoxigraph and allianceld):
# not counted against a query's time limit, which starts when the query is handed to a ready worker.
STARTUP_S = 60.0
# the updates kept for the in-memory copies; a copy further behind is loaded anew. Replaying them
# has a limit of STARTUP_S, apart from the query's own.
LOG_MAX_BYTES = 256 * 2**20


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self) -> None:
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_worker_main, args=(child,), daemon=True, name="allianceld-query")
        self.process.start()
        child.close()
        self.ready = False
        self.memory: int | None = None  # the version of its in-memory copy, as of its last answer
        self.loading: int | None = None  # the version of the copy it is loading
        self.failed = False  # a copy failed to load: this worker answers from snapshots
        self.copy_path: Path | None = None  # the snapshot it loads from (it deletes it once read)

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
        if self.copy_path is not None:  # killed before it had read it
            shutil.rmtree(self.copy_path, ignore_errors=True)


class QueryPool:
    """Runs queries on snapshots of ``kb`` in up to ``workers`` processes, each stopped after
    ``timeout`` seconds; on in-memory copies of it when ``memory``."""

    def __init__(
        self, kb: KnowledgeBase, *, workers: int, timeout: float, memory: bool = False, client_queries: int = 4
    ) -> None:
        if kb.path is None:
            raise ValueError("query workers need an on-disk store")
        self.kb, self.max_workers, self.timeout = kb, max(1, workers), timeout
        share = max(1, self.max_workers - 1)
        self.clients = Admission(
            "queries", per_client=share, queue=max(0, client_queries - share), setting="ALLIANCELD_CLIENT_QUERIES"
        )
        self.snapshot_dir = kb.path.parent / f".{kb.path.name}.snapshots"
        shutil.rmtree(self.snapshot_dir, ignore_errors=True)  # left over by a crash
        self._workers = threading.Condition()
        self._idle: list[_Worker] = []
        self._live = 0
        self._snapshots = threading.Lock()
        self._current: _Snapshot | None = None
        self._closed = False
        self.memory = memory
        self._log_lock = threading.Lock()
        self._version = kb.version
        self._log: dict[int, str | None] = {}  # version -> the update that made it (None: not replayable)
        self._log_bytes = 0
        self._all: set[_Worker] = set()
        if memory:
            kb.add_write_listener(self._written)

    def run(self, request: QueryRequest, client: str | None = None) -> Answer:
        """Answer ``request`` in a worker; :class:`QueryTimeout` when it runs past the limit. A
        ``client``'s queries take its share of the workers (the module's docstring)."""
        deadline = time.monotonic() + self.timeout  # for a busy pool to free a worker
        if client is None:
            return self._run(request, deadline)
        with self.clients.slot(client, deadline):
            return self._run(request, deadline)

    def _run(self, request: QueryRequest, deadline: float) -> Answer:
        worker = self._take_worker(deadline)
        try:
            status, payload = self._ask(worker, request)
        except BaseException:
            self._discard(worker)
            raise
        self._give_back(worker)
        if status == "error":
            raise payload
        return payload

    def _ask(self, worker: _Worker, request: QueryRequest | None) -> tuple[str, Any]:
        """Run ``request`` on ``worker``, from its in-memory copy when that can be brought up to date,
        else from a snapshot (starting a new copy); None only starts the copy."""
        worker.wait_ready()
        with self._log_lock:
            version = self._version
            updates = self._updates_for(worker, version)
        if updates is not None and request is not None:
            status = "ok"
            if updates:  # replayed first, under a limit of its own: a large write is not the query's time
                status, _ = self._send(worker, (version, None, updates, None, None), limit=STARTUP_S)
            if status == "ok":
                status, payload = self._send(worker, (version, None, [], None, request))
            if status != "stale":
                return status, payload
            worker.memory = None
        answer = ("ok", None)
        if request is not None:
            snapshot = self._acquire_snapshot()
            try:
                answer = self._send(worker, (version, str(snapshot.path), None, None, request))
            finally:
                self._release_snapshot(snapshot)
        behind = worker.memory is None or (updates is None and worker.memory < version)
        if self.memory and worker.loading is None and not worker.failed and behind:
            # started after the answer: loading competes with the worker's queries, not with this one
            self._send(worker, (version, None, None, self._new_copy(worker), None))
        return answer

    def _send(self, worker: _Worker, message: tuple[Any, ...], limit: float | None = None) -> tuple[str, Any]:
        """Send one message to ``worker`` and wait for its answer within the query's time limit
        (or ``limit`` seconds)."""
        deadline = time.monotonic() + (limit or self.timeout)
        try:
            worker.conn.send(message)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                if limit is not None:
                    raise AllianceldError(f"a query worker took more than {limit:g} s to replay the writes")
                raise QueryTimeout(
                    f"the query ran longer than the limit of {self.timeout:g} s and was stopped "
                    "(ALLIANCELD_QUERY_TIMEOUT): narrow it, or add a LIMIT",
                    timeout_s=self.timeout,
                )
            status, payload, (memory, loading, failed) = worker.conn.recv()
        except (EOFError, OSError) as exc:
            raise AllianceldError(f"the query worker failed: {exc or type(exc).__name__}") from None
        with self._log_lock:
            worker.memory = memory
            if not loading:
                worker.loading = None
            worker.failed = worker.failed or failed
            self._trim()
        return status, payload

    def warm(self) -> None:
        """Start every worker and, with ``memory``, the loading of their copies (in a thread: the
        call returns at once)."""

        def start() -> None:
            taken: list[_Worker] = []
            with contextlib.suppress(Exception):  # busy, or one did not start: queries start them
                for _ in range(self.max_workers):
                    taken.append(self._take_worker(time.monotonic() + STARTUP_S))
            for worker in taken:
                try:
                    self._ask(worker, None)
                except Exception:  # did not start: the next query starts another
                    self._discard(worker)
                    continue
                self._give_back(worker)

        threading.Thread(target=start, daemon=True, name="query-pool-warm").start()

    def status(self) -> dict[str, Any]:
        """The workers: how many run, and how many answer from an up-to-date in-memory copy."""
        with self._log_lock:
            current = sum(1 for w in self._all if self._updates_for(w, self._version) is not None)
            return {"workers": len(self._all), "in_memory": current, "memory": self.memory, "version": self._version}

    def refresh(self) -> None:
        """Ask each idle worker how far its copy has loaded (for :meth:`status`)."""
        with self._workers:
            idle, self._idle = self._idle, []
        for worker in idle:
            try:
                self._send(worker, (None, None, None, None, None))
            except Exception:
                self._discard(worker)
                continue
            self._give_back(worker)

    # -- the updates since the oldest copy --------------------------------------------------------

    def _written(self, version: int, update: str | None) -> None:
        with self._log_lock:
            self._version = version
            self._log[version] = update
            self._log_bytes += len(update or "")
            self._trim()

    def _updates_for(self, worker: _Worker, version: int) -> list[tuple[int, str]] | None:
        """The updates that bring ``worker``'s copy to ``version``, or None when it has no copy or
        they are not all kept and replayable (call with the log lock held)."""
        if worker.memory is None or worker.memory > version:
            return None
        updates = []
        for number in range(worker.memory + 1, version + 1):
            update = self._log.get(number)
            if update is None:
                return None
            updates.append((number, update))
        return updates

    def _trim(self) -> None:
        """Drop the updates every copy has, then the oldest while they exceed LOG_MAX_BYTES (call
        with the log lock held)."""
        needed = [v for w in self._all for v in (w.memory, w.loading) if v is not None]
        floor = min(needed, default=self._version)
        for number in sorted(self._log):
            if number > floor and self._log_bytes <= LOG_MAX_BYTES:
                break
            self._log_bytes -= len(self._log.pop(number) or "")

    def _new_copy(self, worker: _Worker) -> tuple[str, int]:
        """A snapshot for ``worker`` to load its copy from (it deletes it once read)."""
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        path = self.snapshot_dir / f"copy-{uuid.uuid4().hex[:8]}"
        with self._log_lock:
            worker.loading = self._version  # keeps the updates from here while the snapshot is taken
        version = self.kb.snapshot(path)
        with self._log_lock:
            worker.loading, worker.copy_path = version, path
        return str(path), version

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
            worker = _Worker()
            with self._log_lock:
                self._all.add(worker)
            return worker
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
        with self._log_lock:
            self._all.discard(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._log_lock:
            self._all.discard(worker)
        with self._workers:
            self._live -= 1
            self._workers.notify()

    # -- snapshots ------------------------------------------------------------------------------

    def _acquire_snapshot(self) -> _Snapshot:
        with self._snapshots:
            version = self.kb.version  # a later write makes a new one
            if self._current is None or self._current.version != version:
                self.snapshot_dir.mkdir(parents=True, exist_ok=True)
                path = self.snapshot_dir / f"v{version}-{uuid.uuid4().hex[:8]}"
                version = self.kb.snapshot(path)
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
    """A worker's loop: take a message (version, snapshot path, updates, copy to load, request),
    answer from the in-memory copy brought up to date with the updates, or from the snapshot
    (opened once); repeat until EOF. A message without a request only starts a load, or asks how
    far the copy is."""
    kb: KnowledgeBase | None = None
    opened: str | None = None
    replica = Replica()
    federation.warm()  # the connection guard's first parse, not on the first query's clock
    conn.send(("ready", None))
    while True:
        try:
            version, path, updates, load, request = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[str, Any]
        if load is not None:
            replica.load(Path(load[0]), load[1])
        copy: KnowledgeBase | None = None
        if updates is not None:  # answer from the copy, brought up to date first
            try:
                copy = replica.at(version, updates)
            except Stale:
                conn.send(("stale", None, replica.state()))
                continue
        if request is None:  # a load started, a question of how far the copy is, or updates replayed
            conn.send(("ok", None, replica.state()))
            continue
        try:
            target = copy
            if target is None:  # answer from the snapshot at ``path``
                if path != opened:
                    if kb is not None:
                        kb.close()
                    kb, opened = KnowledgeBase(path, read_only=True), path
                target = kb
            assert target is not None
            reply = ("ok", execute(target, request))
        except AllianceldError as exc:
            reply = ("error", exc)
        except Exception as exc:  # a store error: report it, keep the worker
            reply = ("error", AllianceldError(f"the query failed: {exc}"))
        conn.send((*reply, replica.state()))
