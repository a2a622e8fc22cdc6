"""An import's report file: every row left out and every validation result (warnings included),
one CSV line each, with the file and line of the row behind it."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from allianceld.importers.common import Import
from allianceld.validation.report import Result

COLUMNS = ["kind", "file", "line", "subject", "path", "value", "message"]


def default_path(store_path: Path | None, graph: str) -> Path:
    """Where the report of an import into ``graph`` goes by default: beside the store, named after
    it and the data set (``var/store.import-atop-5.0.csv``); in the current directory for a remote store."""
    slug = graph.rstrip("/").rsplit("/", 1)[-1]
    if store_path is None:
        return Path(f"import-{slug}.csv")
    return store_path.parent / f"{store_path.name}.import-{slug}.csv"


def _file_and_line(where: str) -> tuple[str, str]:
    """``file:line`` split in two ('' and '' for a record no row is behind)."""
    file, _, line = where.rpartition(":")
    return (file, line) if line.isdigit() else (where, "")


def write_report(path: Path, imp: Import, results: list[Result]) -> None:
    """Write the report to ``path`` (replacing an earlier one, never half written): a line per row
    left out (kind ``left out``), then a line per validation result (``violation``, ``warning``, ``info``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        rows = [(*_file_and_line(left.where), left.reason) for left in imp.skipped]
        for file, line, reason in sorted(rows, key=lambda r: (r[0], int(r[1] or 0))):
            writer.writerow(["left out", file, line, "", "", "", reason])
        for r in sorted(results, key=lambda r: (r.severity, r.focus_node, r.path or "", r.message)):
            origin = _file_and_line(imp.origins.get(r.focus_node, ""))
            writer.writerow([r.severity.lower(), *origin, r.focus_node, r.path or "", r.value or "", r.message])
    os.replace(partial, path)
