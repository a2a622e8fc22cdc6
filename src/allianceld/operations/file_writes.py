"""Loading RDF files and importing the ATOP and COW CSV files, with what the command line says
about it: one implementation, whether ``allianceld load``/``import`` writes the store itself or
hands the files to the running server, which runs the same functions (``POST /import/<kind>``).

Each function writes through the gate (validated, reasoned over, one atomic commit) and tells
its messages to ``say(line, err)`` as they come; it returns the exit code the command ends with
(0 written, 1 refused by validation or the import's own checks) or raises :class:`CommandFailed`
(exit code 2: refused for another reason, nothing written)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from allianceld.errors import AllianceldError, ValidationFailed, WriteOutcomeUnknown
from allianceld.store import KnowledgeBase
from allianceld.write import gate
from allianceld.write.graph_policy import LOCAL, Writer
from allianceld.write.write_policy import WritePolicy

Say = Callable[[str, bool], None]  # (line, on stderr)
Tick = Callable[[], None]
Progress = Callable[[int], AbstractContextManager[Tick]]  # rows to read -> a context giving a tick per row
KINDS = ("atop", "cow")


class CommandFailed(Exception):
    """The write was refused for a reason other than the data's validity; nothing was written (exit 2)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status  # the HTTP status when the server refuses


def load(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    sources: list[gate.Source],
    *,
    force: bool,
    writer: Writer,
    say: Say,
    write_record: Mapping[str, list[ox.Triple]] | None = None,
) -> int:
    """Validate ``sources`` with the store's data and write them atomically (all or nothing), with
    ``write_record`` (``write.write_records``) in the same transaction."""
    try:
        result = gate.commit(kb, write_policy, sources, force=force, writer=writer, provenance=write_record)
    except ValidationFailed as exc:
        say(exc.report.to_text(), True)
        say("refused: nothing was written (use --force to load invalid data anyway)", True)
        return 1
    except WriteOutcomeUnknown:
        raise  # not a refusal: it may have been written
    except AllianceldError as exc:  # e.g. a contribution's graph, which only /contributions writes
        raise CommandFailed(f"refused: {exc.message}; nothing was written", exc.status) from None
    if not result.report.accepted:
        say(f"--force: loaded despite {result.report.violation_count} violation(s)", True)
    say(f"loaded {result.triples} triples into {', '.join(result.graphs)}", False)
    return 0


def _no_progress(total: int) -> AbstractContextManager[Tick]:
    return contextlib.nullcontext(lambda: None)


def import_files(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    kind: str,
    paths: list[Path],
    *,
    partial: bool,
    report_for: Callable[[str], Path],
    write_report: Callable[[Path, Any, list[Any]], None],
    say: Say,
    progress: Progress = _no_progress,
    writer: Writer = LOCAL,
    write_record: Mapping[str, list[ox.Triple]] | None = None,
) -> int:
    """Import the ``kind`` data set (``atop`` or ``cow``) from ``paths`` into its graph. The
    report of rows left out and validation results is written by ``write_report`` to
    ``report_for(graph)``, before anything is written (an unwritable report stops the import)."""
    from allianceld import importers
    from allianceld.importers import atop, cow

    report: Path | None = None
    imp: importers.Import | None = None

    def write(results: list[Any], *, written: bool = False) -> None:
        assert report is not None
        try:
            write_report(report, imp, results)
        except OSError as exc:
            done = "the import was written" if written else "nothing was written"
            raise CommandFailed(f"cannot write the report {report}: {exc}; {done}", 500) from None

    try:
        total = importers.common.count_rows(paths)
        with progress(total) as tick:
            imp = (atop if kind == "atop" else cow).build(kb, paths, tick=tick)
        report = report_for(imp.graph)
        write([])  # before anything is written: an unwritable report stops here
        if partial or not imp.skipped:
            say(f"validating and writing {len(set(imp.triples))} triples into <{imp.graph}>", True)
        result = importers.commit_import(kb, write_policy, imp, partial=partial, writer=writer, provenance=write_record)
        write(result.report.results, written=True)
    except importers.ImportIncomplete as exc:
        say(f"report: {report}", False)
        say(
            f"refused: {len(exc.left_out)} row(s) cannot be placed, listed in {report}; nothing was written "
            "(--partial imports the other rows)",
            True,
        )
        return 1
    except importers.ImportRejected as exc:
        write(exc.report.results)
        say(exc.to_text(), True)
        say(f"report: {report}", False)
        say(f"refused: nothing was written; the violations are listed in {report}", True)
        return 1
    except WriteOutcomeUnknown:
        raise  # not a refusal: it may have been written
    except AllianceldError as exc:
        raise CommandFailed(f"refused: {exc.message}; nothing was written", exc.status) from None
    for left in imp.skipped[:10]:
        say(f"left out: {left}", True)
    if len(imp.skipped) > 10:
        say(f"left out: {len(imp.skipped) - 10} more row(s), listed in {report}", True)
    counts = ", ".join(f"{n} {name}" for name, n in sorted(imp.counts.items()))
    say(
        f"imported {kind} into <{imp.graph}>: {counts}; {result.triples} triples, {len(imp.skipped)} row(s) left out, "
        f"{len(result.report.warnings)} warning(s)",
        False,
    )
    say(f"report: {report}", False)
    return 0
