"""`allianceld load` and `import` while `allianceld serve` holds the store: the command finds the
server recorded beside the store and hands it the files (POST /import/<kind>, streamed), with the
same report and exit codes as offline. A real server process on 127.0.0.1 (Werkzeug, then
gunicorn), the real command line in its own process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from allianceld.operations import remote_write, server_record
from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from conftest import TEST_DATA, free_port, wait_for

pytestmark = pytest.mark.server

VALID = TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl"
INVALID = TEST_DATA / "invalid" / "membership-missing-start.ttl"
USER = "https://w3id.org/allianceld/graph/user/"
EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"
CROSSWALK = EXTERNAL / "cow-crosswalk" / "cow_iso_wikidata_geonames_crosswalk.csv"
COW_FILES = [EXTERNAL / "cow-alliances-dyadr" / "alliance_v4.1_by_directed_terminated_only.csv", CROSSWALK]
MAX_BODY = 64 * 1024  # the server's limit for every other request body


@dataclass
class Served:
    store: Path
    url: str
    contributor: str
    admin: str
    proc: subprocess.Popen


def _cli(store: Path, *args: str, token: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "ALLIANCELD_TOKEN"} | env
    if token is not None:
        environ["ALLIANCELD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "allianceld.cli", "--store", str(store), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=600,
    )


@pytest.fixture(scope="module", params=["development", "production"])
def served(request, tmp_path_factory, small_store: KnowledgeBase) -> Iterator[Served]:
    root = tmp_path_factory.mktemp(f"serving-{request.param}")
    store = root / "store"
    small_store.snapshot(store)
    tokens = TokenStore(root / "tokens.json")
    contributor, admin = tokens.create("alice", "contributor"), tokens.create("root", "admin")
    port = free_port()
    env = {
        **os.environ,
        "ALLIANCELD_TOKENS": str(root / "tokens.json"),
        "ALLIANCELD_QUERY_TIMEOUT": "0",
        "ALLIANCELD_MAX_BODY_BYTES": str(MAX_BODY),
    }
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "allianceld.cli", "--store", str(store), "serve", "--port", str(port)]
        + (["--production", "--threads", "4"] if request.param == "production" else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc, seconds=90)
        yield Served(store, f"http://127.0.0.1:{port}/", contributor, admin, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert not server_record.record_path(store).exists()  # removed when the server stopped


def _graph_exists(served: Served, graph: str) -> bool:
    query = urllib.parse.urlencode({"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    req = urllib.request.Request(f"{served.url}sparql?{query}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return bool(json.load(resp)["boolean"])


def test_the_server_is_recorded_beside_its_store(served: Served) -> None:
    assert server_record.live(served.store) == (served.url, served.proc.pid)


def test_invalid_data_gives_the_offline_report_and_exit_code(
    served: Served, tmp_path: Path, small_store: KnowledgeBase
) -> None:
    """First (before the valid records are loaded, which would give its memberships a start)."""
    graph = USER + "invalid-through-the-server"
    online = _cli(served.store, "load", str(INVALID), "--graph", graph, token=served.contributor)
    reference = tmp_path / "reference"  # the same data as the served store, written offline
    small_store.snapshot(reference)
    offline = _cli(reference, "load", str(INVALID), "--graph", graph)
    assert online.returncode == offline.returncode == 1
    assert "Membership-startDate" in online.stderr and "membership/test-pact-xta" in online.stderr
    server_lines = [line for line in online.stderr.splitlines() if "holds the store" not in line]
    assert [line for line in server_lines if not line.startswith("uploading")] == offline.stderr.splitlines()
    assert online.stdout == offline.stdout == ""
    assert not _graph_exists(served, graph)


def test_load_goes_through_the_server(served: Served, tmp_path: Path) -> None:
    """A file four times the server's request-body limit: streamed to the import endpoint."""
    big = tmp_path / "pact.ttl"
    padding = "".join(f"# padding line {i:06d} {'x' * 40}\n" for i in range(4 * MAX_BODY // 60))
    big.write_text(padding + VALID.read_text(encoding="utf-8"), encoding="utf-8")
    assert big.stat().st_size > 4 * MAX_BODY
    graph = USER + "through-the-server"
    done = _cli(served.store, "load", str(big), "--graph", graph, token=served.contributor)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"loaded 55 triples into {graph}\n"
    assert f"the server at {served.url} holds the store" in done.stderr and "uploading" in done.stderr
    assert _graph_exists(served, graph)


def test_no_token_or_a_wrong_one_writes_nothing(served: Served) -> None:
    graph = USER + "without-a-token"
    missing = _cli(served.store, "load", str(VALID), "--graph", graph)
    assert missing.returncode == 2 and "ALLIANCELD_TOKEN" in missing.stderr
    other = _cli(served.store, "load", str(VALID), "--graph", graph, "--token-env", "MY_TOKEN")
    assert other.returncode == 2 and "MY_TOKEN" in other.stderr
    wrong = _cli(served.store, "load", str(VALID), "--graph", graph, token="not-a-token")
    assert wrong.returncode == 2 and "401" in wrong.stderr and "not valid" in wrong.stderr
    curated = _cli(served.store, "load", str(VALID), token=served.contributor)  # a curated graph: admin only
    assert curated.returncode == 2 and "admin role" in curated.stderr
    assert not _graph_exists(served, graph)
    assert not _graph_exists(served, "https://w3id.org/allianceld/graph/data/alliance-with-treaty-and-members")


def test_an_upload_cut_short_writes_nothing(served: Served, tmp_path: Path) -> None:
    graph = USER + "cut-short"
    content_type, length, pieces = remote_write.body([VALID], with_base=True)
    data = b"".join(pieces)
    port = urllib.parse.urlsplit(served.url).port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = (
            f"POST /import/rdf?graph={urllib.parse.quote(graph)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {served.contributor}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n"
        )
        sock.sendall(head.encode() + data[: length // 2])
    # the connection is closed mid-body: the server drops the upload and its files
    deadline = time.monotonic() + 60
    while list(served.store.parent.glob("store.upload-*")):
        assert time.monotonic() < deadline, "the upload's files were not removed"
        time.sleep(0.05)
    assert not _graph_exists(served, graph)
    done = _cli(served.store, "load", str(VALID), "--graph", graph, token=served.contributor)
    assert done.returncode == 0, done.stderr  # the server still writes


def test_init_is_refused_naming_the_server(served: Served) -> None:
    """init replaces the store: refused while the server holds it, the store unchanged."""
    done = _cli(served.store, "init", token=served.admin)
    assert done.returncode == 2
    assert f"the allianceld server at {served.url} (process {served.proc.pid}) holds the store" in done.stderr
    assert _graph_exists(served, "https://w3id.org/allianceld/graph/data/nato")


@pytest.mark.skipif(not CROSSWALK.exists(), reason=f"the COW files are not in {EXTERNAL}")
def test_import_cow_goes_through_the_server(served: Served, tmp_path: Path) -> None:
    """A contributor may import (the import graphs are open to contributors, as through /data)."""
    report = tmp_path / "cow-report.csv"
    done = _cli(
        served.store,
        "import",
        "cow",
        *map(str, COW_FILES),
        "--partial",
        "--report",
        str(report),
        token=served.contributor,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported cow into <") and f"report: {report}\n" in done.stdout
    assert str(COW_FILES[0]) in done.stderr  # rows left out, named by the client's path
    assert report.read_text(encoding="utf-8").startswith("kind,file,line,subject,path,value,message")
    graph = done.stdout.split("<", 1)[1].split(">", 1)[0]
    assert _graph_exists(served, graph)
