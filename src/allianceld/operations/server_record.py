"""Where a running ``allianceld serve`` listens, recorded beside the store it holds
(``<store>.server.json``: its URL and process id), so that a command that finds the store held
can hand its write to that server. The record is removed when the server stops; one whose
process is gone (a server that was killed) is stale and ignored."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path


def record_path(store: Path) -> Path:
    """The record of the server holding ``store``: beside it, named after it."""
    return store.parent / f"{store.name}.server.json"


def local_url(host: str, port: int) -> str:
    """The URL a command on this machine reaches a server listening on ``host``:``port`` at."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def live(store: Path) -> tuple[str, int] | None:
    """(URL, pid) of the server recorded for ``store`` while its process runs; None without a
    record, or with a stale or unreadable one."""
    try:
        data = json.loads(record_path(store).read_text(encoding="utf-8"))
        url, pid = data["url"], data["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or not isinstance(pid, int) or pid <= 0 or not _alive(pid):
        return None
    return url, pid


def record(store: Path, url: str) -> None:
    """Record that this process serves ``store`` at ``url`` (replacing a stale record whole)."""
    path = record_path(store)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    os.replace(part, path)


def remove(store: Path) -> None:
    """Remove the record of ``store`` if it is this process's own."""
    found = live(store)
    if found is not None and found[1] == os.getpid():
        with contextlib.suppress(OSError):
            record_path(store).unlink()
