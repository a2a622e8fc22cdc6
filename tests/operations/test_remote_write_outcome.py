"""The command line's side of a write handed to the server: sent with its Idempotency-Key, and an
outcome the server could not tell (202 write-outcome-unknown), or an answer that never came once the
files were sent, is an unknown outcome, not a failure claiming that nothing was written."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from allianceld.operations import remote_write
from conftest import TEST_DATA

VALID = TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl"


class _Server(ThreadingHTTPServer):
    """A server on 127.0.0.1 that reads the whole request, keeps its headers, and answers ``mode``."""

    mode = "unknown"
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.headers = dict(self.headers)
        if self.server.mode == "drop":  # the request was read whole; no answer
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = json.dumps(
            {
                "error": "write-outcome-unknown",
                "status": 202,
                "message": "the store did not answer in time",
                "key": self.headers["Idempotency-Key"],
                "check": "/writes/k",
            }
        ).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _send(server: _Server) -> remote_write.Answer:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return remote_write.send(url, "rdf", [Path(VALID)], {}, "token", key="the-key")


def test_a_202_write_outcome_unknown_is_an_unknown_outcome_with_the_key(server: _Server) -> None:
    with pytest.raises(remote_write.OutcomeUnknown) as unknown:
        _send(server)
    assert unknown.value.key == "the-key" and "did not answer in time" in unknown.value.message
    assert server.headers["Idempotency-Key"] == "the-key"


def test_no_answer_after_the_files_were_sent_is_an_unknown_outcome(server: _Server) -> None:
    server.mode = "drop"
    with pytest.raises(remote_write.OutcomeUnknown) as unknown:
        _send(server)
    assert unknown.value.key == "the-key"
