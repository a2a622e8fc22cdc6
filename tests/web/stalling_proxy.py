"""A TCP proxy on 127.0.0.1 in front of a SPARQL store that can hold a write back, for the tests of writes
whose answer does not come in time. One HTTP request per connection (as urllib sends them)."""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field

from allianceld.vocab import WRITE_LEASE_GRAPH, WRITE_VERSION_GRAPH_BASE


@dataclass
class Hold:
    """One held update. ``"answer"``: the update reaches the store, its answer is kept until ``release``;
    ``"request"``: the update itself waits for ``release`` before it reaches the store; ``"withhold"``: it
    waits for ``release`` and never reaches the store (the connection is closed); ``"drop"``: the
    update reaches the store and the connection is closed without its answer. ``reached`` is set once
    the store has answered the update (it landed, if the store accepted it); ``arrived`` once the update
    has come to the proxy. ``lease``: the update held may be a service's claim of the write lease or its
    withdrawal (by default those pass, and the update held is a write's own)."""

    mode: str
    lease: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    reached: threading.Event = field(default_factory=threading.Event)


def _read_message(conn: socket.socket) -> bytes:
    """One HTTP message (head and a Content-Length body) read from ``conn``; what came before EOF otherwise."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return data
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            break
        body += piece
    return head + b"\r\n\r\n" + body


def _is_update(request: bytes) -> bool:
    """Whether ``request`` is a SPARQL update: sent to ``/update``, or a form with an ``update`` field
    (to a store with one endpoint for queries and updates, such as Virtuoso's ``/sparql``)."""
    head, _, body = request.partition(b"\r\n\r\n")
    return head.startswith(b"POST /update ") or (head.startswith(b"POST ") and body.startswith(b"update="))


def _is_lease_claim(request: bytes) -> bool:
    """Whether the update ``request`` claims the write lease or withdraws a claim: it names the lease graph
    and no write version (a write's own update names both: it ends the lease it was made under)."""
    body = urllib.parse.unquote_plus(request.partition(b"\r\n\r\n")[2].decode("utf-8", "replace"))
    return WRITE_LEASE_GRAPH in body and WRITE_VERSION_GRAPH_BASE not in body


def _read_to_end(conn: socket.socket) -> bytes:
    data = b""
    while piece := conn.recv(65536):
        data += piece
    return data


class StallingProxy:
    """Forwards every request to ``upstream`` (host, port); :meth:`hold` makes it hold the next update."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._next: Hold | None = None
        self._held: list[Hold] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hold(self, mode: str = "answer", *, lease: bool = False) -> Hold:
        """Hold the next update that comes (see :class:`Hold`)."""
        held = Hold(mode, lease=lease)
        with self._lock:
            self._next, self._held = held, [*self._held, held]
        return held

    def close(self) -> None:
        """Release everything held and stop accepting connections."""
        for held in self._held:
            held.release.set()
        self._server.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client or the store may be gone (the end of a test)
            request = _read_message(conn)
            held = None
            if _is_update(request):
                with self._lock:
                    if self._next is not None and (self._next.lease or not _is_lease_claim(request)):
                        held, self._next = self._next, None
            if held is not None:
                held.arrived.set()
            if held is not None and held.mode in ("request", "withhold"):
                held.release.wait(60)
                if held.mode == "withhold":
                    return
            with socket.create_connection(self.upstream) as up:
                up.sendall(request)
                answer = _read_to_end(up)  # urllib asks for "Connection: close"
            if held is not None:
                held.reached.set()
                if held.mode == "drop":
                    return
                held.release.wait(60)
            conn.sendall(answer)  # the client may have given up waiting
