"""Running HermiT: the one place that looks for Java and starts HermiT's command line.

HermiT is the ``HermiT.jar`` that owlready2 ships, with owlready2's own classes beside it (they add
the realisation action, ``-I``). :func:`run` reads N-Triples from a temporary file and starts a new
JVM; :class:`Worker` keeps one JVM (``HermitWorker.java``, beside this module) warm across
consistency checks and falls back to :func:`run` when that program cannot start.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from allianceld.config import cache_directory

NO_JAVA = "no Java runtime found: OWL 2 DL checks are off (OWL 2 RL still runs); install a JRE to enable them"
TIMEOUT_S = 120.0
WORKER_SOURCE = Path(__file__).with_name("HermitWorker.java")

log = logging.getLogger(__name__)


def java_missing() -> str | None:
    """None when a Java runtime is on PATH (HermiT can run); otherwise the message every DL check
    gives instead of a verdict."""
    return NO_JAVA if java() is None else None


def java() -> str | None:
    """The ``java`` command found on PATH, None when there is none (looked up once per PATH: a
    search of PATH took several ms of every write's check)."""
    return _java_on(os.environ.get("PATH"))


@functools.lru_cache(maxsize=8)
def _java_on(path: str | None) -> str | None:
    return shutil.which("java", path=path)


def _worker_program(java: str) -> list[str]:
    """The class path and program of the worker: ``HermitWorker`` compiled once by the JDK's javac
    into a cache directory named after the source and the compiler (starting from source compiles
    it at every start: about 0.8 s of a 1.2 s start); the source itself (Java's source-file mode)
    when there is no javac or it fails."""
    javac = Path(java).resolve().with_name("javac")
    if not javac.is_file():
        return ["-cp", classpath(), str(WORKER_SOURCE)]
    source = WORKER_SOURCE.read_bytes()
    key = hashlib.sha256(source + str(javac).encode()).hexdigest()[:16]
    cache = cache_directory()
    compiled = cache / f"hermit-worker-{key}"
    if not (compiled / "HermitWorker.class").is_file():
        try:
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                done = subprocess.run(
                    [str(javac), "-nowarn", "-cp", classpath(), "-d", tmp, str(WORKER_SOURCE)],
                    capture_output=True,
                    timeout=TIMEOUT_S,
                    check=False,
                )
                if done.returncode != 0:
                    log.debug("javac could not compile the worker: %s", done.stderr.decode("utf-8", "replace"))
                    return ["-cp", classpath(), str(WORKER_SOURCE)]
                os.replace(tmp, compiled)  # whole or not at all; another process may have won the race
        except (OSError, subprocess.TimeoutExpired) as exc:
            if not (compiled / "HermitWorker.class").is_file():
                log.debug("the worker's compiled classes cannot be cached: %s", exc)
                return ["-cp", classpath(), str(WORKER_SOURCE)]
    return ["-cp", os.pathsep.join([str(compiled), classpath()]), "HermitWorker"]


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
    runtime = java()
    if runtime is None:
        return Run(None, NO_JAVA, 0.0)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="allianceld-dl-") as tmp:
        path = Path(tmp) / "module.nt"
        path.write_bytes(ntriples)
        command = [runtime, f"-Xmx{memory_mb}M"]
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
    if done.returncode == 0 and "It all went pear-shaped" not in err:  # its message when it cannot load the input
        return Run(True, out, seconds)
    if "InconsistentOntologyException" in err or "Inconsistent ontology" in err:
        return Run(False, "HermiT: inconsistent ontology", seconds)
    last = [line for line in err.strip().splitlines() if line.strip()][:3]
    return Run(None, "HermiT failed: " + (" / ".join(last) or f"exit status {done.returncode}"), seconds)


class _Stopped(Exception):
    """The worker's process ended (or its pipe broke) before it answered."""


class _TimedOut(Exception):
    pass


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc`` (also when stopped) and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


class Worker:
    """A warm HermiT for consistency checks (HermiT's ``-k``): one JVM running ``HermitWorker.java``
    (Java's source-file mode), started on the first check and kept for the next ones.

    The same verdicts as :func:`run`: :meth:`consistent` answers one request at a time (a lock),
    starts the process again when it has died (a dead process before an answer is retried once on
    a new one), and kills it on a time-out, which gives no answer (``ok`` None), never a verdict.
    When the program cannot start (no Java compiler in the runtime, for one), every check runs
    HermiT's command line instead, said once in the log. Owned by its caller (a KnowledgeBase)
    and ended with :meth:`close`."""

    def __init__(self, *, memory_mb: int = 1000, timeout_s: float = TIMEOUT_S) -> None:
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self.starts = 0  # processes started so far
        self.fallback: str | None = None  # why the program cannot start: checks use the command line
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = os.getpid()  # a forked child starts its own process
        self._buffer = b""
        self._java_options: list[str] = []

    @property
    def pid(self) -> int | None:
        """The process id of the running worker, None when none runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def consistent(self, ntriples: bytes) -> Run:
        """HermiT's consistency verdict on ``ntriples`` (mapped as HermiT reads them), as
        :func:`run` with ``["-k"]`` gives it."""
        runtime = java()
        if runtime is None:
            return Run(None, NO_JAVA, 0.0)
        with self._lock:
            if self.fallback is not None:
                return run(ntriples, ["-k"], memory_mb=self.memory_mb, timeout_s=self.timeout_s)
            start = time.perf_counter()
            deadline = start + self.timeout_s
            for attempt in (1, 2):
                try:
                    proc = self._running(runtime, deadline)
                    if proc is None:  # cannot start: the command line from now on
                        return run(ntriples, ["-k"], memory_mb=self.memory_mb, timeout_s=self.timeout_s)
                    self._send(proc, b"consistency %d\n" % len(ntriples) + ntriples, deadline)
                    status, text = self._answer(proc, deadline)
                except _TimedOut:
                    self._stop()
                    return Run(None, f"HermiT did not finish within {self.timeout_s:g} s", time.perf_counter() - start)
                except _Stopped as exc:
                    self._stop()
                    if attempt == 1:
                        continue
                    return Run(None, f"HermiT stopped without an answer: {exc}", time.perf_counter() - start)
                seconds = time.perf_counter() - start
                if status == "CONSISTENT":
                    return Run(True, "", seconds)
                if status == "INCONSISTENT":
                    return Run(False, "HermiT: inconsistent ontology", seconds)
                if status != "ERROR":  # out of step with the protocol: start afresh next time
                    self._stop()
                return Run(None, "HermiT failed: " + (text or status), seconds)
        raise AssertionError("unreachable")  # pragma: no cover

    def warm(self, first: Callable[[], bytes] | None = None, *, one_shot: bool = False) -> threading.Thread | None:
        """Start the worker's process in a thread of its own (returned), so that the first check does
        not wait for Java to start (None when there is no Java runtime; a check waits for the start).
        ``first``: gives, in that thread, the N-Triples of a first check to run, whose verdict is
        dropped: Java loads and compiles the parser's and HermiT's code on it (the ATOP import's
        first check took 2.1 s without one, 1.3 s after the ontology). ``one_shot``: the process
        serves a command that checks once or twice: Java compiles with its quick compiler only (that
        first check 0.9 s, with the ontology first; a contribution's later checks: 41 ms at the
        median instead of 31 ms, so a service does not)."""
        runtime = java()
        if runtime is None:
            return None
        if one_shot and self._proc is None:
            self._java_options = ["-XX:TieredStopAtLevel=1"]

        def start() -> None:
            with self._lock:
                if self.fallback is None:
                    with contextlib.suppress(_TimedOut, _Stopped):
                        proc = self._running(runtime, time.perf_counter() + self.timeout_s)
                        if proc is not None and first is not None:
                            ntriples = first()
                            deadline = time.perf_counter() + self.timeout_s
                            self._send(proc, b"consistency %d\n" % len(ntriples) + ntriples, deadline)
                            self._answer(proc, deadline)

        thread = threading.Thread(target=start, daemon=True, name="hermit-warm")
        thread.start()
        return thread

    def close(self) -> None:
        """End the worker's process (a later check starts a new one)."""
        with self._lock:
            self._stop()

    # -- the process and its protocol ----------------------------------------------------------

    def _running(self, java: str, deadline: float) -> subprocess.Popen[bytes] | None:
        """The live process, started (and its READY answer read) when there is none; None when the
        program cannot start, with :attr:`fallback` set and logged."""
        if self._owner != os.getpid():  # forked: the parent's process is not ours to use
            self._proc, self._buffer, self._owner = None, b"", os.getpid()
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        command = [java, f"-Xmx{self.memory_mb}M", "-XX:+UseSerialGC", *self._java_options, *_worker_program(java)]
        with tempfile.TemporaryFile() as errors:
            try:
                proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors)
            except OSError as exc:
                return self._cannot_start(f"{exc}")
            self._proc, self.starts = proc, self.starts + 1
            weakref.finalize(self, _kill, proc)
            try:
                status, _ = self._answer(proc, deadline)
            except _Stopped:
                proc.wait()
                errors.seek(0)
                lines = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
                self._stop()
                return self._cannot_start(" / ".join(lines[:3]) or f"exit status {proc.returncode}")
        if status != "READY":
            self._stop()
            return self._cannot_start(f"it answered {status!r} at start")
        return proc

    def _cannot_start(self, why: str) -> None:
        self.fallback = f"the warm HermiT worker cannot start ({why}): each DL check starts HermiT's command line"
        log.warning("%s", self.fallback)
        return None

    def _stop(self) -> None:
        proc, self._proc, self._buffer = self._proc, None, b""
        if proc is not None:
            _kill(proc)

    def _send(self, proc: subprocess.Popen[bytes], data: bytes, deadline: float) -> None:
        stdin = _stream(proc.stdin)
        view, fd = memoryview(data), stdin.fileno()
        os.set_blocking(fd, False)
        while view:
            _wait(select.select([], [fd], [], _left(deadline))[1])
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
            except OSError as exc:  # a broken pipe: the process is gone
                raise _Stopped(str(exc)) from exc

    def _answer(self, proc: subprocess.Popen[bytes], deadline: float) -> tuple[str, str]:
        """The next framed answer: its status and text."""
        header = self._until(proc, deadline, header=True)
        status, _, size = header.decode("ascii", "replace").partition(" ")
        if not size.isdigit():
            raise _Stopped(f"a malformed answer {header[:60]!r}")
        return status, self._until(proc, deadline, size=int(size)).decode("utf-8", "replace")

    def _until(self, proc: subprocess.Popen[bytes], deadline: float, *, header: bool = False, size: int = 0) -> bytes:
        """Read the header line (without its newline) or ``size`` bytes from the process."""
        fd = _stream(proc.stdout).fileno()
        while True:
            if header and b"\n" in self._buffer:
                line, _, self._buffer = self._buffer.partition(b"\n")
                return line
            if not header and len(self._buffer) >= size:
                out, self._buffer = self._buffer[:size], self._buffer[size:]
                return out
            if header and len(self._buffer) > 64:
                raise _Stopped("a malformed answer header")
            _wait(select.select([fd], [], [], _left(deadline))[0])
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise _Stopped(f"exit status {proc.wait()}")
            self._buffer += chunk


def _stream(stream: IO[bytes] | None) -> IO[bytes]:
    if stream is None:  # pragma: no cover - both are pipes
        raise _Stopped("no pipe")
    return stream


def _left(deadline: float) -> float:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise _TimedOut
    return left


def _wait(ready: list[object]) -> None:
    """``select``'s answer: nothing ready means the deadline passed."""
    if not ready:
        raise _TimedOut


__all__ = ["NO_JAVA", "TIMEOUT_S", "WORKER_SOURCE", "Run", "Worker", "classpath", "java_missing", "run"]
