"""The record of a running server beside its store: found while its process runs, ignored once
it is gone or unreadable, removed only by its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from allianceld.operations import server_record


def test_a_record_is_found_while_its_process_runs(tmp_path: Path) -> None:
    store = tmp_path / "store"
    server_record.record(store, "http://127.0.0.1:8123/")
    assert server_record.record_path(store) == tmp_path / "store.server.json"
    assert server_record.live(store) == ("http://127.0.0.1:8123/", os.getpid())
    server_record.remove(store)
    assert not server_record.record_path(store).exists() and server_record.live(store) is None


def test_a_stale_or_unreadable_record_is_ignored_and_not_removed_by_others(tmp_path: Path) -> None:
    store = tmp_path / "store"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = server_record.record_path(store)
    path.write_text(json.dumps({"url": "http://127.0.0.1:8123/", "pid": int(gone.stdout)}), encoding="utf-8")
    assert server_record.live(store) is None  # its process has ended
    for text in ("{", "[]", json.dumps({"url": 1, "pid": os.getpid()}), json.dumps({"url": "x", "pid": -1})):
        path.write_text(text, encoding="utf-8")
        assert server_record.live(store) is None
    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        path.write_text(json.dumps({"url": "http://127.0.0.1:8124/", "pid": other.pid}), encoding="utf-8")
        server_record.remove(store)  # another live server's record stays
        assert server_record.live(store) == ("http://127.0.0.1:8124/", other.pid)
    finally:
        other.communicate(b"")


def test_local_urls() -> None:
    assert server_record.local_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert server_record.local_url("::", 8000) == "http://[::1]:8000/"
    assert server_record.local_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
