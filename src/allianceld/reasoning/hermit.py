"""Running HermiT: the one place that looks for Java and starts HermiT's command line.

HermiT is the ``HermiT.jar`` that owlready2 ships, with owlready2's own classes beside it (they add
the realisation action, ``-I``). Each run reads N-Triples from a temporary file and starts a new JVM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NO_JAVA = "no Java runtime found: OWL 2 DL checks are off (OWL 2 RL still runs); install a JRE to enable them"
TIMEOUT_S = 120.0


def java_missing() -> str | None:
    """None when a Java runtime is on PATH (HermiT can run); otherwise the message every DL check
    gives instead of a verdict."""
    return NO_JAVA if shutil.which("java") is None else None


def classpath() -> str:
    """HermiT's classes: owlready2's additions first, then the jar."""
    import owlready2

    home = Path(owlready2.__file__).parent / "hermit"
    return os.pathsep.join([str(home), str(home / "HermiT.jar")])


@dataclass(frozen=True)
class Run:
    """One HermiT run: ``ok`` is False when HermiT finds the input inconsistent, None when it gave no
    answer (no Java, a failure, a time-out; ``output`` then says why), True with its ``output``."""

    ok: bool | None
    output: str
    seconds: float


def run(
    ntriples: bytes,
    action: list[str],
    *,
    memory_mb: int = 1000,
    timeout_s: float | None = TIMEOUT_S,
    short: bool = True,
) -> Run:
    """Run HermiT's command line with ``action`` (``["-k"]``, ``["-c"]``, ``["-c", "-I"]``) on
    ``ntriples`` (already mapped as HermiT reads them: ``materialise.dl_graph``). ``short``: a run
    of a second or so, compiled by the JVM's first compiler only (the second competes for the CPU)."""
    java = shutil.which("java")
    if java is None:
        return Run(None, NO_JAVA, 0.0)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="allianceld-dl-") as tmp:
        path = Path(tmp) / "module.nt"
        path.write_bytes(ntriples)
        command = [java, f"-Xmx{memory_mb}M"]
        if short:
            command += ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
        command += ["-cp", classpath(), "org.semanticweb.HermiT.cli.CommandLine", *action, path.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return Run(None, f"HermiT did not finish within {timeout_s:.0f} s", time.perf_counter() - start)
        except OSError as exc:
            return Run(None, f"HermiT could not start: {exc}", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    if done.returncode == 0:
        return Run(True, out, seconds)
    if "InconsistentOntologyException" in err or "Inconsistent ontology" in err:
        return Run(False, "HermiT: inconsistent ontology", seconds)
    last = [line for line in err.strip().splitlines() if line.strip()][:3]
    return Run(None, "HermiT failed: " + (" / ".join(last) or f"exit status {done.returncode}"), seconds)


__all__ = ["NO_JAVA", "TIMEOUT_S", "Run", "classpath", "java_missing", "run"]
