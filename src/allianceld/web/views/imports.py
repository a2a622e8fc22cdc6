"""``POST /import/<kind>``: large files written by the server that holds the store, as
``allianceld load`` (``rdf``) and ``allianceld import atop|cow`` write them offline, through the
same functions (:mod:`allianceld.operations.file_writes`): same validation, same report, one atomic
commit. The body is streamed to disk (:mod:`..streamed_upload`), never held whole in memory, and
read only once the bearer token (contributor or admin) has been checked.

The answer is JSON: ``code`` (the command's exit code: 0 written, 1 refused by validation or the
import's checks, 2 refused otherwise), ``lines`` (what the command prints, each ``[text, on
stderr]``), ``failure`` (the message of a code 2), and for an import its ``graph`` and the report
file's text (``report_csv``), which the command line writes where it would offline.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, request

from allianceld.errors import AllianceldError, BadRequest, NotFound
from allianceld.importers.report import default_path, write_report
from allianceld.operations import file_writes
from allianceld.rdf import formats
from allianceld.vocab import data_graph_iri
from allianceld.web import bodies, write_keys
from allianceld.web.auth import require
from allianceld.web.services import services
from allianceld.web.streamed_upload import Upload, receive
from allianceld.write import gate, graph_policy
from allianceld.write.graph_policy import Writer

bp = Blueprint("imports", __name__)
KINDS = ("rdf", *file_writes.KINDS)
bodies.STREAMED.add("imports.upload")  # the body stays on the connection for receive()


def _flag(name: str) -> bool:
    value = request.args.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", ""):
        raise BadRequest(f"?{name} is true or false, not {value!r}", parameter=name)
    return value in ("true", "1")


def _graph() -> str | None:
    graph = request.args.get("graph")
    if graph is None:
        return None
    try:
        return ox.NamedNode(graph).value
    except ValueError:
        raise BadRequest(f"?graph is not an absolute IRI: {graph!r}", parameter="graph") from None


@bp.post("/import/<kind>")
def upload(kind: str) -> tuple[Response, int]:
    """Load (``rdf``) or import (``atop``, ``cow``) the posted files; 401/403 without a
    contributor's or admin's token (before the body is read), 413 over ALLIANCELD_MAX_IMPORT_BYTES."""
    writer = Writer.of(require("contributor"))
    if kind not in KINDS:
        raise NotFound(f"no import of {kind!r}: POST /import/rdf, /import/atop or /import/cow")
    graph = _graph()
    force, partial = _flag("force"), _flag("partial")  # refused before the upload when malformed
    if graph is not None:
        graph_policy.check_write(graph, writer)  # before the body is read (the gate asks again)
    svc = services()
    store = svc.settings.store_path if svc.kb.location != "memory" else None
    parent = store.parent if store is not None else None
    with write_keys.keyed(svc.kb, writer.agent) as keyed:
        if keyed.replay is not None:  # written already: the body is not read
            done = f"already written: the write with Idempotency-Key {keyed.key} landed at {keyed.replay.at}"
            replay = write_keys.replayed(keyed.replay, {"code": 0, "lines": [[done, False]], "failure": None})
            return replay, replay.status_code
        work = Path(tempfile.mkdtemp(prefix=f"{store.name if store else 'allianceld'}.upload-", dir=parent))
        try:
            uploads = receive(request.environ, work, svc.settings.max_import_bytes)
            answer = _run(kind, uploads, graph, writer, work, force=force, partial=partial, record=keyed.record(200))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    status = {0: 200, 1: 422}.get(answer["code"], answer.pop("status", 400))
    answer.pop("status", None)
    return jsonify(answer), status


def _run(
    kind: str,
    uploads: list[Upload],
    graph: str | None,
    writer: Writer,
    work: Path,
    *,
    force: bool,
    partial: bool,
    record: dict[str, list[ox.Triple]],
) -> dict[str, Any]:
    """Run the command's function over ``uploads``; its messages name the files as the client does."""
    svc = services()
    names = {str(u.path): u.name for u in uploads}

    def rename(text: str) -> str:
        for path, name in names.items():
            text = text.replace(path, name)
        return text

    lines: list[tuple[str, bool]] = []
    answer: dict[str, Any] = {"lines": lines, "failure": None}

    def say(line: str, err: bool) -> None:
        lines.append((rename(line), err))

    try:
        if kind == "rdf":
            try:
                sources = [
                    gate.Source(
                        graph or data_graph_iri(u.path.stem), formats.parse_file(u.path, base_iri=u.base), u.name
                    )
                    for u in uploads
                ]
            except AllianceldError as exc:  # offline, the command stops with the parser's message
                raise file_writes.CommandFailed(exc.message, exc.status) from None
            code = file_writes.load(
                svc.kb, svc.write_policy, sources, force=force, writer=writer, say=say, write_record=record
            )
        else:
            csv = work / "report.csv"
            shown = request.args.get("report")  # where the client writes the report (named in the messages)
            store = request.args.get("store")

            def report_for(imported: str) -> Path:
                answer["graph"] = imported
                return Path(shown) if shown else default_path(Path(store) if store else None, imported)

            code = file_writes.import_files(
                svc.kb,
                svc.write_policy,
                kind,
                [u.path for u in uploads],
                partial=partial,
                report_for=report_for,
                write_report=lambda _, imp, results: write_report(csv, imp, results),
                say=say,
                writer=writer,
                write_record=record,
            )
            if csv.exists():
                answer["report_csv"] = rename(csv.read_text(encoding="utf-8"))
    except file_writes.CommandFailed as exc:
        return {**answer, "code": 2, "failure": rename(exc.message), "status": exc.status}
    return {**answer, "code": code}
