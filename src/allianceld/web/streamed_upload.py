"""Files posted to the import endpoint, streamed to disk: the one body this service does not read
whole into memory (:mod:`.bodies` and the production worker leave it on the connection).

The body is ``multipart/form-data``: for each file, a ``name`` field (the name the client knows
it by), a ``base`` field (the IRI relative IRIs in it resolve against, for RDF) and a ``file``
part with its bytes. Werkzeug's multipart parser reads the connection in pieces of 64 KiB and
writes each file part to a file of ``directory`` as it comes; text fields are held in memory up
to 1 MiB together. A body over ``limit`` bytes gets 413, one cut short (fewer bytes than its
``Content-Length``, a multipart body without its closing boundary) gets 400."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from allianceld.errors import UnsupportedMediaType

FIELDS_MEMORY = 2**20
CHUNK = 64 * 1024
MAX_FILES = 100


class _Body(io.RawIOBase):
    """The request's body as sent: exactly ``length`` bytes (400 when the connection ends before
    them), or for a body without ``Content-Length`` (chunked) what the server's reader gives, at
    most ``limit`` bytes (413 beyond them)."""

    def __init__(self, stream: Any, length: int | None, limit: int) -> None:
        self.stream, self.length, self.limit, self.got = stream, length, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = len(buffer) if self.length is None else min(len(buffer), self.length - self.got)
        if wanted <= 0:
            return 0
        try:
            data = self.stream.read(wanted)
        except (OSError, ValueError) as exc:  # a transfer that broke off (the server's reader raises)
            raise BadRequest(f"the upload was cut short or malformed ({exc}); nothing was written") from None
        if not data and self.length is not None:
            raise BadRequest(
                f"the upload ended after {self.got} of the {self.length} bytes its Content-Length announced; "
                "nothing was written"
            )
        self.got += len(data)
        if self.got > self.limit:
            raise RequestEntityTooLarge(
                f"the files are more than the import limit of {self.limit} bytes (ALLIANCELD_MAX_IMPORT_BYTES)"
            )
        buffer[: len(data)] = data
        return len(data)


@dataclass(frozen=True)
class Upload:
    """One posted file: the client's name for it, its base IRI (or None), and where it now is
    (a file named as the client's, so that its extension and name keep their meaning)."""

    name: str
    base: str | None
    path: Path


def receive(environ: dict[str, Any], directory: Path, limit: int) -> list[Upload]:
    """The files of the request's body, written under ``directory`` (which the caller removes)."""
    mimetype, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    if mimetype != "multipart/form-data":
        raise UnsupportedMediaType(
            "post the files as multipart/form-data (fields 'name', 'base', 'file' per file), "
            f"not {mimetype or 'nothing'}"
        )
    raw = environ.get("CONTENT_LENGTH", "").strip()
    length = int(raw) if raw.isdigit() else None
    if length is not None and length > limit:
        raise RequestEntityTooLarge(
            f"the files are {length} bytes, more than the import limit of {limit} (ALLIANCELD_MAX_IMPORT_BYTES)"
        )
    parts: list[Path] = []
    handles: list[IO[bytes]] = []

    def to_disk(*_: Any, **__: Any) -> IO[bytes]:
        if len(parts) >= MAX_FILES:
            raise BadRequest(f"at most {MAX_FILES} files in one import")
        parts.append(directory / f"part-{len(parts)}")
        handles.append(parts[-1].open("w+b"))
        return handles[-1]

    parser = FormDataParser(
        stream_factory=to_disk, max_form_memory_size=FIELDS_MEMORY, max_content_length=limit, silent=False
    )
    body = _Body(environ["wsgi.input"], length, limit)
    try:
        _, form, files = parser.parse(io.BufferedReader(body, CHUNK), mimetype, length, options)
        if body.read(1):  # bytes after the closing boundary (up to the Content-Length) are not expected
            raise BadRequest("the upload has bytes after its closing boundary")
        if length is not None and body.got != length:
            raise BadRequest(f"the upload ended after {body.got} of the {length} bytes its Content-Length announced")
    except (RequestEntityTooLarge, BadRequest):
        raise
    except (ValueError, OSError) as exc:
        raise BadRequest(
            f"the upload was cut short or malformed ({exc or type(exc).__name__}); nothing was written"
        ) from None
    finally:
        for handle in handles:
            handle.close()
    names, bases, posted = form.getlist("name"), form.getlist("base"), files.getlist("file")
    if not posted:
        raise BadRequest("no file in the upload: post each file as a 'file' part after its 'name' field")
    if len(names) != len(posted) or len(bases) not in (0, len(posted)) or len(parts) != len(posted):
        raise BadRequest("each 'file' part needs its own 'name' field (and 'base' field, if any are given)")
    uploads = []
    for i, (name, part) in enumerate(zip(names, parts, strict=True)):
        base_name = Path(name.replace("\\", "/")).name
        if base_name in ("", ".", ".."):
            raise BadRequest(f"the file name {name!r} names no file")
        (directory / str(i)).mkdir()
        placed = part.rename(directory / str(i) / base_name)
        uploads.append(Upload(name, (bases[i] or None) if bases else None, placed))
    return uploads
