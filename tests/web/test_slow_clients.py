"""Slow and heavy clients cannot stall the service: requests read whole before a thread takes them
(production), per-client and global bounds on validations and queries, memory given back."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from allianceld.errors import ServerBusy, TooManyRequests
from allianceld.store import KnowledgeBase
from allianceld.store.admission import Admission
from allianceld.store.execution import QueryRequest
from allianceld.store.query_pool import QueryPool
from allianceld.web import memory
from allianceld.web.request_framing import HEAD_LIMIT, ChunkWalk, Refused, parse_head, request_end
from conftest import free_port, open_site, wait_for

TURTLE = b"<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n"


# -- where a request ends ----------------------------------------------------------------------


def _end(data: bytes, max_body: int = 1000) -> int | None:
    head = parse_head(data)
    return None if head is None else request_end(data, head, max_body)


def test_a_request_is_whole_once_its_head_and_body_have_arrived() -> None:
    head = b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    assert _end(b"GET / HTTP/1.1\r\nHost: x\r\n") is None  # the head is not over
    assert _end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next") == len(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _end(head + b"abcd") is None
    assert _end(head + b"abcdeGET") == len(head) + 5  # a pipelined request after it stays
    chunked = b"POST /validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n"
    assert _end(chunked + body) is None  # no empty line after the last chunk yet
    assert _end(chunked + body + b"\r\n") == len(chunked + body) + 2
    assert _end(chunked + body + b"Trailer: x\r\n") is None
    assert _end(chunked + body + b"Trailer: x\r\n\r\n") == len(chunked + body) + 14
    assert parse_head(head.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")).expects_continue  # type: ignore[union-attr]


def test_an_oversized_or_malformed_request_is_decided_without_its_body() -> None:
    with pytest.raises(Refused) as caught:
        _end(b"POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
    assert caught.value.status == 413 and b"413" in caught.value.response().split(b"\r\n")[0]
    with pytest.raises(Refused) as caught:  # chunked: refused as soon as the sizes pass the limit
        _end(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + b"x" * 1026 + b"400\r\n")
    assert caught.value.status == 413
    with pytest.raises(Refused) as caught:
        _end(b"GET / HTTP/1.1\r\nX: " + b"y" * HEAD_LIMIT)
    assert caught.value.status == 431
    # malformed framing is whole at once: gunicorn's parser answers 400 without reading on
    both = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _end(both) == len(both)
    bad = b"POST / HTTP/1.1\r\nContent-Length: 3x\r\n\r\n"
    assert _end(bad) == len(bad)
    for size in (b"zz", b"-5", b"0x5", b"+5", b" "):  # only hex digits: a negative size must not walk back
        chunk = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\nabcde\r\n"
        assert _end(chunk) == len(chunk), size


def test_a_chunked_body_is_walked_once_as_it_arrives() -> None:
    request = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\nx\r\n" * 300 + b"0\r\n\r\nGET"
    head = parse_head(request)
    assert head is not None
    walk = ChunkWalk(head.body_start)
    ends = [request_end(request[:n], head, 1000, walk) for n in range(head.body_start, len(request) + 1, 7)]
    assert ends[-1] == len(request) - 3 and set(ends[:-2]) == {None}
    assert walk.total == 300


# -- the admission of heavy work -------------------------------------------------------------------


def test_a_client_over_its_share_is_refused_while_others_are_admitted() -> None:
    admission = Admission("validations", per_client=1, total=2, setting="ALLIANCELD_CLIENT_VALIDATIONS")
    with admission.slot("a"):
        with pytest.raises(TooManyRequests) as caught, admission.slot("a"):
            pass
        assert caught.value.status == 429 and caught.value.details["retry_after_s"] > 0
        assert "ALLIANCELD_CLIENT_VALIDATIONS" in caught.value.message
        with admission.slot("b"):  # another client still gets in...
            with pytest.raises(ServerBusy) as busy, admission.slot("c"):  # ...up to the global bound
                pass
            assert busy.value.status == 503
    with admission.slot("a"), admission.slot("c"):  # all given back
        assert admission.running() == 2


def test_a_queued_query_runs_when_its_clients_earlier_one_ends() -> None:
    admission = Admission("queries", per_client=1, queue=1, setting="ALLIANCELD_CLIENT_QUERIES")
    first_in, release, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with admission.slot("a", time.monotonic() + 60):
            first_in.set()
            release.wait()

    def second() -> None:
        with admission.slot("a", time.monotonic() + 60):
            second_in.set()

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert first_in.wait(30)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    while not admission._waiting["a"]:  # the second is queued (no time passes for the test's sake)
        time.sleep(0.01)
    with pytest.raises(TooManyRequests), admission.slot("a", time.monotonic() + 60):  # the queue is full
        pass
    with admission.slot("b", time.monotonic() + 60):  # another client's query runs meanwhile
        assert admission.running("b") == 1 and not second_in.is_set()
    release.set()
    assert second_in.wait(30)
    for thread in threads:
        thread.join()
    with admission.slot("a"), pytest.raises(TooManyRequests), admission.slot("a", time.monotonic() - 1):
        pass  # refused at once when its time is up


def test_one_client_cannot_take_every_query_worker(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "store")
    pool = QueryPool(kb, workers=2, timeout=30, client_queries=1)
    try:
        ask = QueryRequest("ASK { ?s ?p ?o }", "application/sparql-results+json", None, 2**20)
        with pool.clients.slot("10.0.0.1"):  # client A runs a query on one of the two workers
            with pytest.raises(TooManyRequests):
                pool.run(ask, client="10.0.0.1")
            assert b"false" in pool.run(ask, client="10.0.0.2").body  # B is answered meanwhile
        assert b"false" in pool.run(ask, client="10.0.0.1").body
    finally:
        pool.close()
        kb.close()


def test_validations_are_bounded_per_client_and_in_all(tmp_path: Path, small_store: KnowledgeBase) -> None:
    from allianceld.web.views.validate import validations

    site = open_site(tmp_path, small_store, client_validations=1, validations=2)

    def validate(address: str):
        return site.client.post(
            "/validate", data=TURTLE, content_type="text/turtle", environ_base={"REMOTE_ADDR": address}
        )

    with site.app.app_context():
        admission = validations()
    with admission.slot("10.0.0.1"):
        refused = validate("10.0.0.1")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "5"
        assert refused.get_json()["error"] == "too-many-requests"
        assert validate("10.0.0.2").status_code == 200
        with admission.slot("10.0.0.3"):
            busy = validate("10.0.0.2")
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert validate("10.0.0.1").status_code == 200
    site.app.extensions["allianceld"].close()
    site.kb.close()


def test_memory_is_given_back_after_a_large_validation(site, monkeypatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(memory, "give_back", lambda: calls.append(True) or True)
    assert site.client.post("/validate", data=TURTLE, content_type="text/turtle").status_code == 200
    assert calls == []  # small: nothing to give back
    large = TURTLE + b"# " + b"x" * 2**20 + b"\n"
    assert site.client.post("/validate", data=large, content_type="text/turtle").status_code == 200
    assert calls == [True]


def test_give_back_trims_glibc() -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc")
    assert memory.resident_bytes() and memory.give_back() is True


# -- the production server against slow clients -------------------------------------------------

READ_TIMEOUT_S = 3


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[str]:
    """``serve --production`` with 2 threads and a request read timeout of 3 s."""
    work = tmp_path_factory.mktemp("slow")
    cli = [sys.executable, "-m", "allianceld.cli", "--store", str(work / "store")]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    port = free_port()
    env = {
        **os.environ,
        "ALLIANCELD_TOKENS": str(work / "tokens.json"),
        "ALLIANCELD_REQUEST_TIMEOUT": str(READ_TIMEOUT_S),
    }
    with (work / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [*cli, "serve", "--production", "--threads", "2", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", proc, 60)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def _slow_connections(base: str, count: int) -> list[socket.socket]:
    """``count`` connections that send part of a request (head or body) and then nothing."""
    port = int(base.rsplit(":", 1)[1])
    conns = []
    for i in range(count):
        conn = socket.create_connection(("127.0.0.1", port))
        if i % 2:
            conn.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:
            conn.sendall(
                b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\nContent-Length: 99\r\n\r\n<"
            )
        conns.append(conn)
    return conns


def test_slow_clients_hold_no_thread_and_are_dropped_after_the_timeout(production: str) -> None:
    conns = _slow_connections(production, 8)  # four times the server's threads
    started = time.monotonic()
    try:
        # answered while every slow connection is open (each would hold a thread of gthread for ever)
        with urllib.request.urlopen(production + "/healthz", timeout=10) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(production + "/sparql?query=ASK%7B%7D", timeout=10) as resp:
            assert resp.status == 200
        for conn in conns:  # the order of events: none of them had been dropped yet
            conn.setblocking(False)
            with pytest.raises(BlockingIOError):
                conn.recv(1024)
        for conn in conns:  # and each slow one is closed by the server once its time is up
            conn.settimeout(60)
            with contextlib.suppress(ConnectionResetError):
                assert conn.recv(1024) == b""
        assert time.monotonic() - started >= READ_TIMEOUT_S
    finally:
        for conn in conns:
            conn.close()


def test_a_client_that_stops_reading_its_answer_frees_the_thread(production: str) -> None:
    """Two clients (as many as the server's threads) ask for a 20 MB answer and read none of it:
    once no byte has gone out for the read timeout, their threads are freed for other requests."""
    port = int(production.rsplit(":", 1)[1])
    big = urllib.parse.quote("SELECT ?a ?b WHERE { ?a ?p ?o . ?b ?q ?r } LIMIT 100000")
    readers = []
    for _ in range(2):
        conn = socket.socket()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.connect(("127.0.0.1", port))
        conn.sendall(
            f"GET /sparql?query={big} HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n\r\n".encode()
        )
        readers.append(conn)
    try:
        with urllib.request.urlopen(production + "/sparql?query=ASK%7B%7D", timeout=60) as resp:
            assert resp.status == 200
    finally:
        for conn in readers:
            conn.close()


def test_healthz_is_answered_while_every_thread_is_busy(production: str) -> None:
    """Both threads of the server are held sending 20 MB answers to clients that have read only
    their heads; /healthz is answered meanwhile, and then both answers arrive whole: their threads
    were sending all along, so /healthz did not wait for one of them."""
    port = int(production.rsplit(":", 1)[1])
    big = urllib.parse.quote("SELECT ?a ?b WHERE { ?a ?p ?o . ?b ?q ?r } LIMIT 100000")
    readers: list[tuple[socket.socket, int, int]] = []
    try:
        for _ in range(2):
            conn = socket.socket()
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.connect(("127.0.0.1", port))
            conn.settimeout(60)
            request = f"GET /sparql?query={big} HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n\r\n"
            conn.sendall(request.encode())
            head = b""
            while b"\r\n\r\n" not in head:  # its thread has started sending (and cannot have finished)
                head += conn.recv(1)
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            readers.append((conn, length, 0))
        with urllib.request.urlopen(production + "/healthz", timeout=30) as resp:
            assert resp.status == 200
        for conn, length, received in readers:
            while received < length:
                chunk = conn.recv(2**20)
                assert chunk, f"the answer was cut after {received} of {length} bytes"
                received += len(chunk)
    finally:
        for conn, _, _ in readers:
            conn.close()


def test_a_whole_request_is_served_in_pieces_and_kept_alive(production: str) -> None:
    """Sent a few bytes at a time, two requests on one connection, the second with a chunked body
    and 100-continue: both answered; an oversized body gets 413 before it is sent."""
    port = int(production.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        replies = _Responses(conn)
        first = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        for i in range(0, len(first), 7):
            conn.sendall(first[i : i + 7])
        reply = replies.next()
        assert reply.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in reply
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(TURTLE), TURTLE)
        conn.sendall(
            b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\n"
            b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
        )
        assert replies.next().startswith(b"HTTP/1.1 100 Continue")
        conn.sendall(body)
        reply = replies.next()
        while reply.startswith(b"HTTP/1.1 100"):  # gunicorn confirms the continuation once more
            reply = replies.next()
        assert reply.startswith(b"HTTP/1.1 200") and b'"conforms"' in reply
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (2**30))
        reply = _Responses(conn).next()
        assert reply.startswith(b"HTTP/1.1 413") and b"request-entity-too-large" in reply


class _Responses:
    """The responses arriving on a connection, one at a time (heads, and bodies by Content-Length)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn, self.data = conn, b""

    def next(self) -> bytes:
        while b"\r\n\r\n" not in self.data:
            chunk = self.conn.recv(65536)
            assert chunk, f"the connection closed after {self.data!r}"
            self.data += chunk
        head, _, rest = self.data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += self.conn.recv(65536)
        self.data = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]
