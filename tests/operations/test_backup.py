"""`allianceld backup` / `restore` (issue 8, point 6): a backup taken while writes go on holds the
store at one point between two writes (every write acknowledged before it began, each write whole
or absent), in-process (a checkpoint) and from another process while a real server writes (a
copy of a read-only view); restore refuses what it should and never leaves a part-restored store."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.operations import backup
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.tokens import TokenStore
from allianceld.vocab import CONTRIBUTION_GRAPH_BASE, INFERRED_GRAPH, PROVENANCE_GRAPH_BASE
from allianceld.write import contributions
from allianceld.write.write_policy import WritePolicy
from conftest import Site, free_port, wait_for
from write.test_contributions import VALID

MAX_WRITES = 200  # the writer stops when the backup is done, or after this many writes


def _triples(n: int, value: str = "") -> list[ox.Triple]:
    p = ox.NamedNode("https://example.org/p")
    return [ox.Triple(ox.NamedNode(f"https://example.org/s{i}"), p, ox.Literal(f"{value}{i}")) for i in range(n)]


def _tiny_store(path: Path, n: int, graph: str = "https://example.org/g") -> bytes:
    """An on-disk store with ``n`` quads in ``graph``, closed; returns its dump."""
    kb = KnowledgeBase(path)
    kb.replace_graphs({graph: _triples(n)})
    dump = kb.dump()
    kb.close()
    return dump


def _alliance(n: int) -> bytes:
    """Test data naming a new alliance (and its memberships) for each ``n``: every write then adds
    inferences too, so a copy torn between writes would not match any state."""
    return VALID.replace(b"test-pact", f"test-pact-{n}".encode()).replace(b"Q999999991", f"Q99999{n:04d}".encode())


def _send_contribution(port: int, token: str, n: int) -> http.client.HTTPConnection:
    """Send contribution ``n`` to the server on ``port`` without waiting for the answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
    conn.request("POST", "/contributions", body=_alliance(n), headers=headers)
    return conn


def _acknowledged(conn: http.client.HTTPConnection) -> str:
    """The id the server acknowledged for the contribution sent on ``conn``."""
    try:
        resp = conn.getresponse()
        assert resp.status == 201, resp.read()
        return json.load(resp)["id"]
    finally:
        conn.close()


def _contribute(port: int, token: str, acked: list[str]) -> None:
    """Contribute (and wait for the acknowledgement), recording the id in ``acked``."""
    acked.append(_acknowledged(_send_contribution(port, token, len(acked))))


# `allianceld backup`, paused once it has opened the store: it writes "open" to the file
# $BACKUP_PROBE, then waits until $BACKUP_PROBE.go exists
PAUSED_BACKUP_CLI = textwrap.dedent(
    f"""
    import importlib, os, sys, time
    from pathlib import Path
    backup = importlib.import_module({backup.__name__!r})
    opened = backup.open_for_backup
    def paused(path):
        kb = opened(path)
        probe = Path(os.environ["BACKUP_PROBE"])
        probe.write_text("open")
        deadline = time.monotonic() + 300
        while not Path(str(probe) + ".go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return kb
    backup.open_for_backup = paused
    from allianceld.cli import main
    main(sys.argv[1:], prog_name="allianceld")
    """
)


def _until(condition, seconds: float = 120) -> None:
    """Wait until ``condition()`` holds (``seconds`` only guard against a hang)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def _dump(path: Path) -> bytes:
    kb = KnowledgeBase(path, read_only=True)
    try:
        return kb.dump()
    finally:
        kb.close()


def test_a_checkpoint_taken_while_a_thread_writes_is_one_state_between_writes(
    tmp_path: Path, small_store: KnowledgeBase, write_policy: WritePolicy
) -> None:
    small_store.snapshot(tmp_path / "store")
    kb = KnowledgeBase(tmp_path / "store")
    states = [kb.dump()]  # the dump after each write, taken by the only writer before its next write
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set() and len(states) <= MAX_WRITES:
            triples = formats.parse(_alliance(len(states)), ox.RdfFormat.TURTLE, source="test")
            contributions.contribute(kb, write_policy, triples, agent="writer")
            states.append(kb.dump())

    thread = threading.Thread(target=writer)
    thread.start()
    while len(states) < 3 and thread.is_alive():
        time.sleep(0.01)
    acknowledged = len(states)  # these writes had returned before the backup began
    manifest = backup.backup(kb, tmp_path / "backup")
    stop.set()
    thread.join()
    kb.close()
    backup.restore(tmp_path / "backup", tmp_path / "restored")
    restored = _dump(tmp_path / "restored")
    assert restored in states[acknowledged - 1 :]
    assert manifest.method == "checkpoint" and manifest.quads == restored.count(b"\n")


def test_a_backup_from_another_process_while_the_server_writes(tmp_path: Path, small_store: KnowledgeBase) -> None:
    store = tmp_path / "store"
    small_store.snapshot(store)
    token = TokenStore(tmp_path / "tokens.json").create("alice", "contributor")
    port = free_port()
    env = {**os.environ, "ALLIANCELD_TOKENS": str(tmp_path / "tokens.json"), "ALLIANCELD_QUERY_TIMEOUT": "0"}
    cli = [sys.executable, "-m", "allianceld.cli", "--store", str(store)]
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    acked: list[str] = []  # contribution ids, in the order the server acknowledged them
    probe = tmp_path / "backup-probe"
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server, seconds=60)
        _contribute(port, token, acked)
        _contribute(port, token, acked)
        before = list(acked)
        paused = subprocess.Popen(
            [sys.executable, "-c", PAUSED_BACKUP_CLI, "--store", str(store), "backup", str(tmp_path / "backup")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**env, "BACKUP_PROBE": str(probe)},
        )
        _until(lambda: probe.exists() or paused.poll() is not None)
        assert probe.exists(), paused.communicate()
        _contribute(port, token, acked)  # acknowledged while the backup has the store open
        pending = _send_contribution(port, token, len(acked))  # and one sent as it copies
        Path(f"{probe}.go").touch()
        stdout, stderr = paused.communicate(timeout=300)
        made = subprocess.CompletedProcess(paused.args, paused.returncode, stdout, stderr)
        acked.append(_acknowledged(pending))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert made.returncode == 0, made.stderr
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text())["method"] == "copy"
    assert "--server" in made.stderr  # the warning: consistent only if the read-only view is
    backup.restore(tmp_path / "backup", tmp_path / "restored")  # the CLI's restore is tested below
    _assert_between_writes(store, tmp_path / "restored", acked, len(before))


def _assert_between_writes(store: Path, copied: Path, acked: list[str], before: int) -> None:
    """The store at ``copied`` holds the first ``before`` writes of ``acked`` (or more, a prefix),
    each write whole (its data and its record, as in the final ``store``) or absent, and every graph
    the writes did not touch as it is in ``store``."""
    final, copy = KnowledgeBase(store, read_only=True), KnowledgeBase(copied, read_only=True)
    try:
        kept = [c for c in acked if CONTRIBUTION_GRAPH_BASE + c in copy.graphs()]
        assert kept == acked[: len(kept)] and len(kept) >= before  # a prefix, every acknowledged write
        for cid in acked:  # each write wholly there (its data and its record) or not at all
            for graph in (CONTRIBUTION_GRAPH_BASE + cid, PROVENANCE_GRAPH_BASE + cid):
                expected = set(final.triples(graph)) if cid in kept else set()
                assert set(copy.triples(graph)) == expected
        for graph in final.graphs():  # what the writes did not touch is as it was
            if not graph.startswith((CONTRIBUTION_GRAPH_BASE, PROVENANCE_GRAPH_BASE, INFERRED_GRAPH)):
                assert set(copy.triples(graph)) == set(final.triples(graph))
    finally:
        final.close()
        copy.close()


def _post_backup(port: int, token: str | None) -> tuple[int, dict]:
    """POST /admin/backup to the server on ``port``: the status and the JSON body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/backup", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_the_server_backs_up_between_two_writes(tmp_path: Path, small_store: KnowledgeBase, runner: CliRunner) -> None:
    """POST /admin/backup and `backup --server`, while a writer posts contributions to a real
    server: each backup holds every write acknowledged before it was asked for, each write whole
    or absent; a contributor gets 403 and no token 401, and nothing is written for them."""
    store, backups = tmp_path / "store", tmp_path / "server-backups"
    small_store.snapshot(store)
    tokens = TokenStore(tmp_path / "tokens.json")
    contributor, admin = tokens.create("alice", "contributor"), tokens.create("root", "admin")
    port = free_port()
    env = {
        **os.environ,
        "ALLIANCELD_TOKENS": str(tmp_path / "tokens.json"),
        "ALLIANCELD_QUERY_TIMEOUT": "0",
        "ALLIANCELD_BACKUP_DIR": str(backups),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "allianceld.cli", "--store", str(store), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    acked: list[str] = []
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server, seconds=60)
        assert _post_backup(port, None)[0] == 401
        refused = _post_backup(port, contributor)
        assert refused[0] == 403 and "admin" in refused[1]["message"]
        assert not backups.exists()

        _contribute(port, contributor, acked)
        _contribute(port, contributor, acked)
        before_http = len(acked)
        pending = _send_contribution(port, contributor, len(acked))  # a write under way as each backup is asked
        status, made = _post_backup(port, admin)
        acked.append(_acknowledged(pending))
        before_cli = len(acked)
        pending = _send_contribution(port, contributor, len(acked))
        cli = runner.invoke(
            main,
            ["backup", "--server", f"http://127.0.0.1:{port}", str(tmp_path / "copy")],
            env={"ALLIANCELD_TOKEN": admin},
        )
        acked.append(_acknowledged(pending))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert status == 201, made
    assert cli.exit_code == 0, cli.output
    directory = Path(made["directory"])
    assert directory.parent == backups.resolve() and made["manifest"]["method"] == "checkpoint"
    assert backup.check(directory).quads == made["manifest"]["quads"]
    _assert_between_writes(store, directory / "store", acked, before_http)
    assert backup.check(tmp_path / "copy").method == "checkpoint"
    _assert_between_writes(store, tmp_path / "copy" / "store", acked, before_cli)
    assert len(list(backups.iterdir())) == 2  # the two backups, no work directory left


class _WatchedLock:
    """A lock that notes (in ``asked``) when another thread asks for it."""

    def __init__(self, lock: Any) -> None:
        self.lock, self.asked = lock, threading.Event()

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        self.asked.set()
        return self.lock.acquire(*args, **kwargs)

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def test_the_server_backup_waits_for_the_write_under_way(site: Site, monkeypatch) -> None:
    """The backup takes the KnowledgeBase's write lock: it starts only once the write holding it
    is done (so it falls between two writes)."""
    answers: list[Any] = []
    lock = site.kb.write_lock
    lock.acquire()  # a write under way
    try:
        watched = _WatchedLock(lock)
        monkeypatch.setattr(site.kb, "write_lock", watched)
        thread = threading.Thread(
            target=lambda: answers.append(site.client.post("/admin/backup", headers=site.auth(site.admin, None)))
        )
        thread.start()
        assert watched.asked.wait(120), "the backup did not ask for the write lock"
        assert thread.is_alive() and not answers, "the backup did not wait for the write"
    finally:
        lock.release()
    thread.join(120)
    assert answers[0].status_code == 201, answers[0].get_data(as_text=True)
    assert Path(answers[0].get_json()["directory"]).parent == site.kb.path.with_name("store.backups").resolve()


def _backup_by_the_server(kb: KnowledgeBase, tmp_path: Path) -> Any:
    """POST /admin/backup with an admin's token to an app over ``kb``, its backups in tmp_path/bk:
    the test client's response."""
    from allianceld.config import Settings
    from allianceld.web import create_app
    from conftest import ROOT

    admin = TokenStore(tmp_path / "tokens.json").create("root", "admin")
    settings = Settings(store_path=None, home=ROOT, tokens_file=tmp_path / "tokens.json", backup_dir=tmp_path / "bk")
    app = create_app({"SETTINGS": settings, "KB": kb, "TESTING": True})
    return app.test_client().post("/admin/backup", headers={"Authorization": f"Bearer {admin}"})


def test_backup_by_the_server_is_refused_for_an_in_memory_store(tmp_path: Path, runner: CliRunner) -> None:
    """409 naming the reason for an in-memory store; the CLI's --server form needs its token in
    the environment and says so."""
    resp = _backup_by_the_server(KnowledgeBase(), tmp_path)
    assert resp.status_code == 409 and "in memory" in resp.get_json()["message"]
    assert not (tmp_path / "bk").exists()
    no_token = runner.invoke(
        main, ["backup", "--server", "http://127.0.0.1:9", str(tmp_path / "x")], env={"ALLIANCELD_TOKEN": ""}
    )
    assert no_token.exit_code == 2 and "ALLIANCELD_TOKEN" in no_token.output and not (tmp_path / "x").exists()


def test_restore_refuses_a_store_with_data_unless_forced(tmp_path: Path, runner: CliRunner) -> None:
    saved = _tiny_store(tmp_path / "a", 5)
    assert runner.invoke(main, ["--store", str(tmp_path / "a"), "backup", str(tmp_path / "bk")]).exit_code == 0
    other = _tiny_store(tmp_path / "b", 3, graph="https://example.org/other")
    refused = runner.invoke(main, ["--store", str(tmp_path / "b"), "restore", str(tmp_path / "bk")])
    assert refused.exit_code == 2
    assert "holds 3 quads" in refused.output and "--force" in refused.output
    assert _dump(tmp_path / "b") == other
    forced = runner.invoke(main, ["--store", str(tmp_path / "b"), "restore", "--force", str(tmp_path / "bk")])
    assert forced.exit_code == 0, forced.output
    assert _dump(tmp_path / "b") == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "bk"]  # no work directory left beside


def test_backup_and_restore_refusals_change_nothing(tmp_path: Path, runner: CliRunner) -> None:
    saved = _tiny_store(tmp_path / "a", 4)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    not_empty = runner.invoke(main, ["--store", str(tmp_path / "a"), "backup", str(tmp_path / "full")])
    assert not_empty.exit_code == 2 and "not empty" in not_empty.output
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["x"]
    missing = runner.invoke(main, ["--store", str(tmp_path / "none"), "backup", str(tmp_path / "bk0")])
    assert missing.exit_code == 2 and "no store at" in missing.output and not (tmp_path / "bk0").exists()

    no_manifest = runner.invoke(main, ["--store", str(tmp_path / "new"), "restore", str(tmp_path / "full")])
    assert no_manifest.exit_code == 2 and "manifest.json" in no_manifest.output

    assert runner.invoke(main, ["--store", str(tmp_path / "a"), "backup", str(tmp_path / "bk")]).exit_code == 0
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    (tmp_path / "bk" / "manifest.json").write_text(json.dumps({**manifest, "quads": 5}))  # a backup cut short
    damaged = runner.invoke(main, ["--store", str(tmp_path / "new"), "restore", str(tmp_path / "bk")])
    assert damaged.exit_code == 2 and "holds 4 quads, its manifest says 5" in damaged.output
    assert not (tmp_path / "new").exists()

    (tmp_path / "bk" / "manifest.json").write_text(json.dumps(manifest))
    held = KnowledgeBase(tmp_path / "a")  # as the server holds it
    try:
        in_use = runner.invoke(main, ["--store", str(tmp_path / "a"), "restore", "--force", str(tmp_path / "bk")])
    finally:
        held.close()
    assert in_use.exit_code == 2 and "server running" in in_use.output
    assert _dump(tmp_path / "a") == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "bk", "full"]


def test_a_remote_store_is_backed_up_as_n_quads(tmp_path: Path, runner: CliRunner, remote_kb: KnowledgeBase) -> None:
    """On `oxigraph serve` and on Virtuoso (whose own graphs are neither backed up nor dropped)."""
    remote = remote_kb
    remote.replace_graphs({"https://example.org/g": _triples(3)})
    saved = remote.dump()
    backend = remote.backend
    assert isinstance(backend, SparqlBackend)
    env = {"ALLIANCELD_SPARQL_QUERY_URL": backend.query_url, "ALLIANCELD_SPARQL_UPDATE_URL": backend.update_url}
    made = runner.invoke(main, ["backup", str(tmp_path / "bk")], env=env)
    assert made.exit_code == 0, made.output
    assert "n-quads" in made.output and "no other client" in made.output
    remote.replace_graphs({"https://example.org/h": _triples(2, "later")})
    refused = runner.invoke(main, ["restore", str(tmp_path / "bk")], env=env)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert runner.invoke(main, ["restore", "--force", str(tmp_path / "bk")], env=env).exit_code == 0
    assert remote.dump() == saved
    assert not any(b"openlinksw" in f.read_bytes() for f in (tmp_path / "bk").iterdir() if f.is_file())


def test_the_server_backs_up_its_remote_store(tmp_path: Path, oxigraph_server: str) -> None:
    """POST /admin/backup on a server over a remote store: 201, an N-Quads backup that ``check``
    accepts, and restoring it gives the store back as it was."""
    remote = KnowledgeBase(backend=SparqlBackend(oxigraph_server + "/query", oxigraph_server + "/update"))
    remote.backend.update("DROP SILENT ALL")
    remote.replace_graphs({"https://example.org/g": _triples(4)})
    saved = remote.dump()
    try:
        resp = _backup_by_the_server(remote, tmp_path)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        body = resp.get_json()
        directory = Path(body["directory"])
        assert directory.parent == (tmp_path / "bk").resolve()
        assert body["manifest"]["method"] == "n-quads" and body["manifest"]["quads"] == 4
        assert backup.check(directory).quads == 4
        remote.replace_graphs({"https://example.org/h": _triples(2, "later")})
        backup.restore_remote(directory, remote, force=True)
        assert remote.dump() == saved
    finally:
        remote.backend.update("DROP SILENT ALL")
