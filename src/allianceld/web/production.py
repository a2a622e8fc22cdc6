"""Production serving with gunicorn: one process, many threads, queries in worker processes.

The embedded store is RocksDB, which lets one process open it for writing, so allianceld runs a
single gunicorn worker process, which serves every write. Reads still use every core: SPARQL
queries run in the query pool's processes (``store.query_pool``) on copies of the store, and
the worker's threads run the rest in parallel (pyoxigraph releases the GIL while it evaluates).
The app, and with it the store, is built in the worker after the fork: RocksDB's background
threads do not survive a fork.

The worker reads each request whole in its event loop before a thread takes it
(:mod:`.buffering_worker`): slow clients hold no thread, and a request not whole within
``ALLIANCELD_REQUEST_TIMEOUT`` seconds is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from allianceld.config import Settings
from allianceld.logs import JsonFormatter
from allianceld.web.buffering_worker import worker_class


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured in code; the app is built in the worker process, after the fork."""

    def __init__(self, make_app: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.make_app = make_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.make_app()


class JsonLogger(Logger):  # type: ignore[misc]
    """gunicorn's own messages (start, workers, errors) as JSON lines like the app's
    (:mod:`allianceld.logs`); its access log is off, as the app logs each request itself."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


def options(host: str, port: int, threads: int, settings: Settings | None = None) -> dict[str, Any]:
    """gunicorn's settings: one worker with ``threads`` threads on ``host``:``port``, reading
    requests whole within ``settings.request_timeout`` before a thread takes them."""
    settings = settings or Settings()
    return {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": worker_class(settings.request_timeout, settings.max_body_bytes, settings.request_buffer_bytes),
        "threads": threads,
        "timeout": 120,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,  # the app's request log replaces it (no query secrets, a request id)
        "logger_class": JsonLogger,
    }


def serve(make_app: Callable[[], Flask], host: str, port: int, threads: int, settings: Settings | None = None) -> None:
    """Serve the app ``make_app`` builds with one worker and ``threads`` threads until
    interrupted. The worker builds it: RocksDB's background threads do not survive a fork, so a
    store opened (even once) before it would wait for ever on its first flush in the worker."""
    GunicornServer(make_app, options(host, port, threads, settings)).run()
