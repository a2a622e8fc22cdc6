"""Where an HTTP/1.1 request ends in the bytes received so far, without waiting for more.

The production server reads each request whole before a thread takes it (:mod:`.buffering_worker`);
this tells it when a request is whole: its head (request line and headers) and its body, framed by
``Content-Length`` or ``Transfer-Encoding: chunked``. It only frames: a malformed head is "whole"
as soon as its end is seen, and gunicorn's parser refuses it with 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# the request line and headers together (gunicorn's own limits are per line and per field)
HEAD_LIMIT = 64 * 1024


class Refused(Exception):
    """The request is refused before it reaches the app: ``status``, a machine-readable ``kind``,
    a message, and for a busy server how many seconds to wait (``retry_after``)."""

    def __init__(self, status: int, kind: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.retry_after = status, kind, message, retry_after

    def response(self) -> bytes:
        """The whole HTTP response: the app's JSON error shape, and ``Connection: close``."""
        body = json.dumps({"error": self.kind, "status": self.status, "message": self.message}).encode()
        reason = {413: "Content Too Large", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}
        head = [
            f"HTTP/1.1 {self.status} {reason.get(self.status, 'Error')}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        if self.retry_after is not None:
            head.append(f"Retry-After: {self.retry_after}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Head:
    """A request's head: where its body starts, and how the body is framed."""

    body_start: int
    length: int = 0  # Content-Length (0: no body)
    chunked: bool = False
    expects_continue: bool = False  # ``Expect: 100-continue`` on HTTP/1.1
    malformed: bool = False  # left to gunicorn's parser, which answers 400
    method: bytes = b""  # of the request line
    path: bytes = b""  # of the request line's target, without its query string


def parse_head(data: bytes | bytearray) -> Head | None:
    """The head at the start of ``data``, or None while it is incomplete; :class:`Refused` (431)
    when it grows past :data:`HEAD_LIMIT`."""
    end = data.find(b"\r\n\r\n", 0, HEAD_LIMIT + 4)
    if end < 0:
        if len(data) > HEAD_LIMIT:
            raise Refused(
                431, "request-header-fields-too-large", f"the request line and headers exceed {HEAD_LIMIT} bytes"
            )
        return None
    start = end + 4
    request_line, *lines = bytes(data[:end]).split(b"\r\n")
    words = request_line.split(b" ")
    target = {"method": words[0], "path": words[1].split(b"?", 1)[0]} if len(words) == 3 else {}
    lengths: list[bytes] = []
    codings: list[bytes] = []
    expects = False
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep:
            return Head(start, malformed=True)
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.extend(c.strip() for c in value.split(b","))
        elif name == b"expect" and value == b"100-continue":
            expects = request_line.endswith(b"HTTP/1.1")
    if codings:
        if lengths or codings[-1] != b"chunked":
            return Head(start, malformed=True)
        return Head(start, chunked=True, expects_continue=expects, **target)
    if not lengths:
        return Head(start, **target)
    if len(set(lengths)) != 1 or not lengths[0].isdigit():
        return Head(start, malformed=True)
    return Head(start, length=int(lengths[0]), expects_continue=expects, **target)


@dataclass
class ChunkWalk:
    """How far a chunked body has been read: where the next chunk-size (or trailer) line starts,
    the body's bytes so far, and whether the last chunk has been seen. Walking resumes here when
    more bytes arrive, so a body of many small chunks is walked once, not once per arrival."""

    position: int
    total: int = 0
    trailers: bool = False


HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def request_end(data: bytes | bytearray, head: Head, max_body: int, walk: ChunkWalk | None = None) -> int | None:
    """The index just past the request that starts ``data`` (whose head is ``head``), or None
    while its body is incomplete; :class:`Refused` (413) when the body exceeds ``max_body``
    bytes, as soon as that is known. A chunked body resumes from ``walk`` (updated) when given."""
    if head.malformed:
        return head.body_start
    too_large = Refused(
        413,
        "request-entity-too-large",
        f"the body is more than the limit of {max_body} bytes (ALLIANCELD_MAX_BODY_BYTES)",
    )
    if not head.chunked:
        if head.length > max_body:
            raise too_large
        end = head.body_start + head.length
        return end if len(data) >= end else None
    return _chunked_end(data, walk or ChunkWalk(head.body_start), max_body, too_large)


def _chunked_end(data: bytes | bytearray, walk: ChunkWalk, max_body: int, too_large: Refused) -> int | None:
    """The end of a chunked body (after its trailers) walked from ``walk``, or None."""
    while not walk.trailers:
        if len(data) < walk.position:  # the previous chunk has not all arrived
            return None
        line_end = data.find(b"\r\n", walk.position, walk.position + 1024)
        if line_end < 0:
            if len(data) - walk.position > 1024:  # a chunk-size line (with extensions) this long is malformed
                return len(data)
            return None
        size_text = bytes(data[walk.position : line_end]).split(b";", 1)[0].strip()
        if not size_text or not HEX_DIGITS.issuperset(size_text):
            return len(data)  # malformed: gunicorn's parser refuses it
        size = int(size_text, 16)
        if walk.total + size > max_body:
            raise too_large
        walk.total += size
        if size == 0:
            walk.position, walk.trailers = line_end + 2, True
        else:
            walk.position = line_end + 2 + size + 2  # the chunk and its CRLF
    while True:  # trailers: header lines up to an empty line
        line_end = data.find(b"\r\n", walk.position)
        if line_end < 0:
            if len(data) - walk.position > HEAD_LIMIT:
                raise Refused(431, "request-header-fields-too-large", f"the trailers exceed {HEAD_LIMIT} bytes")
            return None
        if line_end == walk.position:
            return walk.position + 2
        walk.position = line_end + 2
