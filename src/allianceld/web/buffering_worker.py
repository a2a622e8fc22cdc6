"""A gunicorn gthread worker that reads each request whole before a thread takes it.

gunicorn's gthread worker hands a connection to a thread as soon as its first byte arrives, and
the thread then blocks reading the rest: a few clients sending a byte every few seconds hold every
thread, and nothing else is answered. Here the worker's event loop reads every connection without
blocking, buffers what arrives, and submits the connection to a thread only once a whole request
(head and body, :mod:`.request_framing`) is in memory; the thread's parser reads it from there.
A request that is not whole ``read_timeout`` seconds after it started (its first byte, or the
connection's opening) is dropped, as is a kept-alive connection idle for ``keepalive`` seconds.

Memory is bounded too: the bodies being buffered may take ``buffer_bytes`` together; a request
that would need more is answered 503 with ``Retry-After``; a body over ``max_body`` bytes gets 413
as soon as its size is known, and a head over 64 KiB gets 431. These answers are written by the
loop itself (they are small) and the connection is closed after its remaining input is drained.

One kind of request is handed to a thread as soon as its head is whole: a ``POST`` to the import
of large files (:data:`STREAMED_PATHS`, ``web.views.imports``), whose endpoint checks the token
before it reads the body in pieces to disk, under ``ALLIANCELD_MAX_IMPORT_BYTES`` instead of
``max_body``. Its thread waits at most ``read_timeout`` seconds for each piece.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import sys
import time
from concurrent import futures
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

from allianceld.web.request_framing import HEAD_LIMIT, ChunkWalk, Head, Refused, parse_head, request_end

RECV_BYTES = 256 * 1024
SEND_PIECE = 256 * 1024  # an answer is sent in pieces of this size, each within the read timeout
# after a refusal, at most this much more input is read and dropped before closing, so that a
# client still sending reads the answer instead of a reset connection
DRAIN_BYTES = 4 * 2**20
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
SWITCH_INTERVAL_S = 0.001
HEALTH_CHECKS = (b"GET /healthz ", b"GET /healthz?", b"HEAD /healthz ", b"HEAD /healthz?")
STREAMED_PATHS = (b"/import/",)  # POSTs whose endpoint reads the body itself (bodies.STREAMED)


def streamed(head: Head) -> bool:
    """Whether the request of ``head`` goes to a thread before its body is read: a well-formed
    ``POST`` to a path under :data:`STREAMED_PATHS` (any other spelling is buffered as usual)."""
    return not head.malformed and head.method == b"POST" and head.path.startswith(STREAMED_PATHS)


class _TimedSocket:
    """The connection's socket as the thread sees it: blocking, but never for more than
    ``timeout`` seconds without progress (gthread sets its sockets blocking without a limit): a
    client that stops reading its answer frees the thread, one that reads slowly does not."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self._sock, self._timeout = sock, timeout

    def setblocking(self, flag: bool) -> None:
        self._sock.settimeout(self._timeout if flag else 0.0)

    def sendall(self, data: bytes) -> None:
        # the timeout bounds a whole sendall: given in pieces, it bounds each piece
        view = memoryview(data)
        for start in range(0, len(view), SEND_PIECE):
            self._sock.sendall(view[start : start + SEND_PIECE])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Conn(TConn):  # type: ignore[misc]
    """A connection with the bytes read for its next request."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any, timeout: float) -> None:
        super().__init__(cfg, _TimedSocket(sock, timeout), client, server)
        self.inbox = bytearray()
        self.head: Head | None = None
        self.walk: ChunkWalk | None = None  # how far a chunked body has been read
        self.continued = False  # 100 Continue sent for the request being read
        self.deadline = 0.0
        self.started = False  # a byte of the request being read has arrived
        self.draining = -1  # bytes dropped after a refusal (-1: not refused)


def _receive(conn: _Conn) -> bytes | None:
    """What the client sent next: b"" when it closed (or the connection broke), None when nothing
    is there yet."""
    try:
        return conn.sock.recv(RECV_BYTES)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


class BufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, with requests read whole by the event loop (see the module's docstring)."""

    read_timeout = 60.0  # the defaults of ALLIANCELD_REQUEST_TIMEOUT, _MAX_BODY_BYTES, _REQUEST_BUFFER_BYTES
    max_body = 16 * 2**20
    buffer_bytes = 128 * 2**20

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: set[_Conn] = set()
        self.buffered = 0  # bytes held in the inboxes of ``reading``
        self.health_pool: futures.ThreadPoolExecutor | None = None

    def init_process(self) -> None:
        # CPU-bound requests (a large validation) hold the GIL; a thread waiting for it (the event
        # loop, /healthz) gets it after at most the switch interval: 1 ms instead of 5 ms keeps
        # the many hand-overs of a quick request from adding up to seconds
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        super().init_process()

    # -- connections waiting for a whole request --------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = _Conn(self.cfg, client_sock, client_addr, listener.getsockname(), self.read_timeout)
        self._wait_for_request(conn, b"", idle=self.read_timeout)

    def _wait_for_request(self, conn: _Conn, data: bytes, idle: float) -> None:
        """Read ``conn``'s next request in the event loop, starting with ``data`` already read;
        without a byte of it within ``idle`` seconds, the connection is closed."""
        conn.inbox, conn.head, conn.walk = bytearray(data), None, None
        conn.continued, conn.started = False, bool(data)
        conn.deadline = time.monotonic() + (self.read_timeout if data else idle)
        self.buffered += len(data)
        conn.sock.setblocking(False)  # the loop never waits for a client (a thread makes it blocking)
        if self._whole(conn):
            return
        self.reading.add(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: _Conn, _sock: Any) -> None:
        if conn.draining >= 0:
            self._drain(conn)
            return
        data = _receive(conn)
        if data is None:
            return
        if not data:
            self._close(conn)
            return
        if not conn.started:
            conn.started, conn.deadline = True, time.monotonic() + self.read_timeout
        conn.inbox += data
        self.buffered += len(data)
        self._whole(conn)

    def _whole(self, conn: _Conn) -> bool:
        """Submit ``conn`` to a thread when its request is whole (True); answer a refusal."""
        try:
            if conn.head is None:
                conn.head = parse_head(conn.inbox)
                if conn.head is not None and conn.head.chunked:
                    conn.walk = ChunkWalk(conn.head.body_start)
            if conn.head is not None and streamed(conn.head):
                end = conn.head.body_start  # the endpoint reads the body itself
            else:
                end = None if conn.head is None else request_end(conn.inbox, conn.head, self.max_body, conn.walk)
            if end is None and len(conn.inbox) > 2 * self.max_body + HEAD_LIMIT:  # framing of tiny chunks
                end = request_end(b"", Head(0, length=self.max_body + 1), self.max_body)
            if end is None and self.buffered > self.buffer_bytes:
                raise Refused(
                    503,
                    "service-unavailable",
                    "the server is receiving too many request bodies at once; try again shortly",
                    retry_after=5,
                )
        except Refused as refusal:
            self._refuse(conn, refusal)
            return True
        if end is None:
            if conn.head is not None and conn.head.expects_continue and not conn.continued:
                conn.continued = True
                with contextlib.suppress(OSError):
                    conn.sock.send(CONTINUE)
            return False
        self.buffered -= len(conn.inbox)
        self._stop_reading(conn)
        self.enqueue_req(conn)
        return True

    def _stop_reading(self, conn: _Conn) -> None:
        if conn in self.reading:
            self.reading.discard(conn)
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)

    def _refuse(self, conn: _Conn, refusal: Refused) -> None:
        """Answer ``refusal``, then drop what the client still sends (up to DRAIN_BYTES) and close."""
        self.buffered -= len(conn.inbox)
        conn.inbox = bytearray()
        try:
            conn.sock.send(refusal.response())
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.draining = 0
        conn.deadline = min(conn.deadline, time.monotonic() + 5)
        if conn not in self.reading:
            self.reading.add(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _drain(self, conn: _Conn) -> None:
        data = _receive(conn)
        if data is None:
            return
        conn.draining += len(data)
        if not data or conn.draining > DRAIN_BYTES:
            self._close(conn)

    def _close(self, conn: _Conn) -> None:
        self._stop_reading(conn)
        self.buffered -= len(conn.inbox)
        conn.inbox = bytearray()
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close the connections whose request did not arrive in time (all idle ones when stopping)."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c in self.reading if c.deadline <= now or (not self.alive and not c.started)]:
            self._close(conn)

    # -- a thread serves the whole request ----------------------------------------------------

    def enqueue_req(self, conn: _Conn) -> None:
        """Submit ``conn``'s whole request to a thread: ``/healthz`` to threads of its own, which
        busy threads never delay; everything else to the worker's threads."""
        if conn.inbox.startswith(HEALTH_CHECKS):
            if self.health_pool is None:
                self.health_pool = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")
            done = self.health_pool.submit(self.handle, conn)
            done.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))
            return
        super().enqueue_req(conn)

    def handle(self, conn: _Conn) -> Any:
        conn.data_ready = True  # the request is in memory: no waiting for the socket
        conn.init()
        conn.sock.setblocking(True)
        conn.parser.unreader.unread(bytes(conn.inbox))
        conn.inbox = bytearray()
        return super().handle(conn)

    def finish_request(self, conn: _Conn, fs: Any) -> None:
        """After a response: read the next request of a kept-alive connection in the loop."""
        try:
            keep = bool(fs.result()) if not fs.cancelled() else False
        except Exception:
            keep = False
        if keep and self.alive:
            self._wait_for_request(conn, conn.parser.unreader.take_buffered(), idle=self.cfg.keepalive)
        else:
            self.nr_conns -= 1
            conn.close(graceful=keep)


def worker_class(read_timeout: float, max_body: int, buffer_bytes: int) -> type[BufferingWorker]:
    """:class:`BufferingWorker` with these limits (gunicorn builds the worker from its class)."""
    return type(
        "BufferingWorker",
        (BufferingWorker,),
        {"read_timeout": read_timeout, "max_body": max_body, "buffer_bytes": buffer_bytes, "__module__": __name__},
    )
