"""The command line's side of a write handed to the running server: the files are streamed to
``POST /import/<kind>`` (multipart/form-data, read from disk in pieces, never whole in memory),
with the token of an environment variable (never from argv, where ``ps`` would show it); the
server answers with what the command prints and its exit code (:mod:`allianceld.web.views.imports`)."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allianceld.rdf import formats

TOKEN_ENV = "ALLIANCELD_TOKEN"
PIECE = 1 << 20
TIMEOUT_S = 3600.0


class RemoteFailed(Exception):
    """The server could not be asked, or refused the request itself (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutcomeUnknown(Exception):
    """The files were sent whole but the server's answer did not come (or said the store's did not):
    the write may have landed or not. ``key``: the write's idempotency key, to send again or look up."""

    def __init__(self, message: str, key: str | None) -> None:
        super().__init__(message)
        self.message, self.key = message, key


@dataclass
class Answer:
    """What the server did: the command's exit code and lines, and an import's report."""

    code: int
    lines: list[tuple[str, bool]] = field(default_factory=list)
    failure: str | None = None
    graph: str | None = None
    report_csv: str | None = None


def token(env_var: str = TOKEN_ENV) -> str:
    """The bearer token in ``$env_var``; :class:`RemoteFailed` naming the variable when unset."""
    value = os.environ.get(env_var, "").strip()
    if not value:
        raise RemoteFailed(
            f"the write goes to the running server, which needs a contributor's or admin's token: "
            f"set the environment variable {env_var} (or choose another with --token-env)"
        )
    return value


def _field(boundary: str, name: str, value: str) -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
    return head.encode("ascii") + value.encode("utf-8") + b"\r\n"


def _parts(boundary: str, paths: list[Path], with_base: bool) -> list[bytes | Path]:
    """The body: text pieces and the files to send between them."""
    parts: list[bytes | Path] = []
    for path in paths:
        parts.append(_field(boundary, "name", str(path)))
        if with_base:
            parts.append(_field(boundary, "base", formats.file_iri(path)))
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n'
        parts.append(head.encode("ascii") + b"Content-Type: application/octet-stream\r\n\r\n")
        parts.append(path)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode("ascii"))
    return parts


def _pieces(parts: list[bytes | Path], sizes: dict[Path, int]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, bytes):
            yield part
            continue
        left = sizes[part]
        with part.open("rb") as f:
            while left > 0:
                piece = f.read(min(PIECE, left))
                if not piece:
                    raise RemoteFailed(f"{part} became shorter while it was sent; nothing was written")
                left -= len(piece)
                yield piece


def body(paths: list[Path], *, with_base: bool) -> tuple[str, int, Iterator[bytes]]:
    """The multipart/form-data body of ``paths``: its Content-Type, its length in bytes, and its
    pieces (each file read from disk as they are taken); with ``with_base``, each file's base IRI."""
    boundary = "allianceld-" + secrets.token_hex(16)
    parts = _parts(boundary, paths, with_base)
    sizes = {p: p.stat().st_size for p in parts if isinstance(p, Path)}
    length = sum(len(p) if isinstance(p, bytes) else sizes[p] for p in parts)
    return f"multipart/form-data; boundary={boundary}", length, _pieces(parts, sizes)


def body_size(paths: list[Path], *, with_base: bool) -> int:
    """The bytes :func:`send` will send for ``paths`` (for a progress bar)."""
    return body(paths, with_base=with_base)[1]


def send(
    server: str,
    kind: str,
    paths: list[Path],
    params: dict[str, str],
    bearer: str,
    progress: Callable[[int], None] | None = None,
    key: str | None = None,
) -> Answer:
    """POST ``paths`` to ``server``'s ``/import/<kind>`` with ``params`` in the query string and
    ``key`` as its ``Idempotency-Key``; ``progress(n)`` after each ``n`` bytes sent. :class:`RemoteFailed`
    when the server cannot be reached or refuses the request before running the command (401, 403,
    413, ...); :class:`OutcomeUnknown` when the request was sent whole and its outcome is unknown
    (the server answered 202 ``write-outcome-unknown``, or its answer never came)."""
    url = urllib.parse.urlsplit(server)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise RemoteFailed(f"--server must be an http(s) URL, not {server!r}")
    content_type, length, pieces = body(paths, with_base=kind == "rdf")
    target = url.path.rstrip("/") + f"/import/{kind}" + ("?" + urllib.parse.urlencode(params) if params else "")
    connection = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = connection(url.hostname, url.port, timeout=TIMEOUT_S)
    try:
        try:
            conn.putrequest("POST", target)
            conn.putheader("Authorization", f"Bearer {bearer}")
            conn.putheader("Content-Type", content_type)
            conn.putheader("Content-Length", str(length))
            if key is not None:
                conn.putheader("Idempotency-Key", key)
            conn.endheaders()
            sent = False
            try:
                for piece in pieces:
                    conn.send(piece)
                    if progress is not None:
                        progress(len(piece))
                sent = True
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early (a refusal): read it below
            resp = conn.getresponse()
            status, raw = resp.status, resp.read()
        except OSError as exc:
            if sent:  # the server has the whole request: it may be writing it
                raise OutcomeUnknown(f"the server at {server} did not answer: {exc}", key) from None
            raise RemoteFailed(f"cannot reach the server at {server}: {exc}; nothing was written") from None
    finally:
        conn.close()
    try:
        answer: dict[str, Any] = json.loads(raw)
    except ValueError:
        answer = {}
    if status == 202 and isinstance(answer, dict) and answer.get("error") == "write-outcome-unknown":
        raise OutcomeUnknown(str(answer.get("message", "")), answer.get("key", key))
    if not isinstance(answer, dict) or "code" not in answer:
        message = answer.get("message", "") if isinstance(answer, dict) else ""
        raise RemoteFailed(f"the server refused the write: {status} {message or resp.reason}; nothing was written")
    return Answer(
        code=int(answer["code"]),
        lines=[(str(text), bool(err)) for text, err in answer.get("lines", [])],
        failure=answer.get("failure"),
        graph=answer.get("graph"),
        report_csv=answer.get("report_csv"),
    )
