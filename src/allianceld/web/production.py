"""Production serving with gunicorn: one process, many threads.

The embedded store is RocksDB, which lets one process open it for writing, so allianceld runs a
single gunicorn worker process. Reads still use every core: pyoxigraph releases the GIL while it
evaluates a query (two queries in two threads took 1.35 s against 1.30 s for one, on 2 cores), so
the worker's threads run queries in parallel. More worker processes would each need the write lock.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured in code around an already built Flask app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve(app: Flask, host: str, port: int, threads: int) -> None:
    """Serve ``app`` with one gthread worker and ``threads`` threads until interrupted."""
    GunicornServer(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 120,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": "-",
        },
    ).run()
