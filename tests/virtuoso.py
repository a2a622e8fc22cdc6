"""A real Virtuoso Open Source server (Debian's ``virtuoso-opensource``) for the remote-store tests:
its own database folder, a generated ``virtuoso.ini``, free ports on 127.0.0.1."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt") or shutil.which("isql-v")
NOT_INSTALLED = "Virtuoso is not installed (apt-get install virtuoso-opensource; `make test` does it as root)"
STARTUP_S = 120.0  # a fresh database is created on the first start: about 2 s here, more on a slow disk

#: the settings an allianceld deployment needs from Virtuoso (docs/operations.md, "Virtuoso"): every
#: row of an answer (ResultSetMaxRows) and no "anytime" partial answers (MaxQueryExecutionTime 0)
INI = """\
[Database]
DatabaseFile       = {db}/virtuoso.db
ErrorLogFile       = {db}/virtuoso.log
LockFile           = {db}/virtuoso.lck
TransactionFile    = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile    = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
Striping        = 0

[Parameters]
ServerPort         = 127.0.0.1:{sql_port}
DisableUnixSocket  = 1
CheckpointInterval = 60
CaseMode           = 2
DirsAllowed        = .
NumberOfBuffers    = 10000
MaxDirtyBuffers    = 6000

[HTTPServer]
ServerPort    = 127.0.0.1:{http_port}
ServerRoot    = {db}
ServerThreads = 10
Charset       = UTF-8

[SPARQL]
ResultSetMaxRows           = 10000000
MaxQueryExecutionTime      = 0
MaxQueryCostEstimationTime = 0
"""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def virtuoso_serve(folder: Path, sql_port: int, http_port: int) -> Iterator[str]:
    """Start ``virtuoso-t`` in the foreground over a new database in ``folder``, wait (with a
    deadline) until its SPARQL endpoint answers, let the anonymous SPARQL user update, and yield
    the endpoint's URL (queries and updates alike); the server is killed afterwards."""
    if VIRTUOSO is None or ISQL is None:
        pytest.skip(NOT_INSTALLED)
    folder.mkdir(parents=True, exist_ok=True)
    ini = folder / "virtuoso.ini"
    ini.write_text(INI.format(db=folder, sql_port=sql_port, http_port=http_port))
    log = (folder / "server.out").open("wb")
    proc = subprocess.Popen(
        [VIRTUOSO, "+foreground", "+configfile", str(ini)], cwd=folder, stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{http_port}/sparql"
    try:
        deadline = time.monotonic() + STARTUP_S
        while not _answers(endpoint + "?query=ASK%7B%7D"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"virtuoso-t did not start: {(folder / 'server.out').read_text()[-2000:]}")
            time.sleep(0.2)
        grant = 'GRANT SPARQL_UPDATE TO "SPARQL";'
        subprocess.run(
            [ISQL, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={grant}"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield endpoint
    finally:
        proc.kill()
        proc.wait(timeout=30)
        log.close()
