"""Load: concurrent readers and writers against a real ``allianceld serve --production`` on
127.0.0.1, over an on-disk store of the shipped data.

    .venv/bin/python benchmarks/bench_load.py --seconds 60          # 8 readers, 2 writers
    .venv/bin/python benchmarks/bench_load.py --seconds 10 --readers 4 --writers 1
    .venv/bin/python benchmarks/bench_load.py --seconds 60 --dl-checks on     # HermiT's check of each write

Readers loop over a mix of reads: SPARQL point and join queries, resource pages (HTML and
Turtle), the listings and the contributions' list. Writers loop posting contributions of a few
``org:Membership`` nodes each (shipped states in shipped alliances), every membership with an IRI
of its own. At the end every acknowledged contribution (201) is looked up: its record must answer
and all its memberships must be in the store, or it counts as lost. Server errors (5xx) and
connection errors must be 0. The table gives requests, errors and latency per kind of request.

``tests/test_load.py`` runs the same harness for a few seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/allianceld/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MEMBERSHIP_PREFIX = ID + "membership/load-"  # every membership the writers create starts so
NATO_1990 = (ROOT / "docs" / "queries" / "nato-members-on-1990-01-01.rq").read_text()
POINT = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "SELECT ?label WHERE { <https://w3id.org/allianceld/id/alliance/nato> rdfs:label ?label }"
)
COUNT_WRITTEN = (
    "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a <http://www.w3.org/ns/org#Membership> "
    f'FILTER(STRSTARTS(STR(?m), "{MEMBERSHIP_PREFIX}")) }}'
)

#: (kind, path, Accept) of each read; readers take them in turn, each from its own offset.
READS: list[tuple[str, str, str]] = [
    ("sparql point", "/sparql?" + urllib.parse.urlencode({"query": POINT}), "application/sparql-results+json"),
    ("sparql join", "/sparql?" + urllib.parse.urlencode({"query": NATO_1990}), "application/sparql-results+json"),
    ("page html", "/id/alliance/nato", "text/html"),
    ("page turtle", "/id/state/usa", "text/turtle"),
    ("listing", "/alliances?active_on=1990-01-01", "application/json"),
    ("listing", "/states?alliance=nato&active_on=2000-01-01", "application/json"),
    ("contributions", "/contributions?limit=20", "application/json"),
]
#: Shipped states and the alliance their memberships join (as partners, after its founding).
STATES = ["aus", "jpn", "kor", "nzl", "swe", "fin", "geo", "arm", "aze", "kaz", "bra", "zaf"]
ALLIANCE = ID + "alliance/nato"
SOURCE = "https://www.nato.int/cps/en/natohq/topics_52044.htm"


@dataclass
class LoadRun:
    """What one run saw: latencies (s) and counts per kind, errors, acknowledged writes."""

    seconds: float = 0.0  # from the start until the threads were told to stop
    started: float = field(default_factory=time.perf_counter)
    slowest: list[tuple[float, str, float]] = field(default_factory=list)  # reads: (s, kind, s after start)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)  # 5xx answers
    connection_errors: list[str] = field(default_factory=list)  # no answer at all
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # contribution id -> membership IRIs
    lost: list[str] = field(default_factory=list)  # acknowledged but not found afterwards
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, kind: str, status: int, start: float, detail: str) -> None:
        """Count one request sent at ``start`` (``time.perf_counter``) and answered now
        (``status`` 0: no answer)."""
        seconds = time.perf_counter() - start
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if kind != "write":
                self.slowest = sorted([*self.slowest, (seconds, kind, start - self.started)], reverse=True)[:3]
            counts = self.statuses.setdefault(kind, {})
            counts[status] = counts.get(status, 0) + 1
            if status == 0:
                self.connection_errors.append(f"{kind}: {detail}")
            elif status >= 500:
                self.server_errors.append(f"{kind} {status}: {detail}")

    def read_latencies(self) -> list[float]:
        """Every read's latency (s), all kinds together."""
        return [s for kind, values in self.latencies.items() if kind != "write" for s in values]

    def table(self) -> str:
        """The run as a plain-text table, a line per kind of request and one for all reads."""
        lines = [f"{'kind':<15}{'requests':>9}{'2xx':>7}{'4xx':>6}{'5xx':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
        rows = sorted(self.latencies.items())
        rows.append(("all reads", self.read_latencies()))
        for kind, values in rows:
            counts = self.statuses.get(kind, {})
            if kind == "all reads":
                counts = {}
                for k, c in self.statuses.items():
                    if k != "write":
                        for status, n in c.items():
                            counts[status] = counts.get(status, 0) + n
            ok = sum(n for s, n in counts.items() if 200 <= s < 300)
            client = sum(n for s, n in counts.items() if 400 <= s < 500)
            server = sum(n for s, n in counts.items() if s >= 500)
            p50, p95, p99 = percentiles(values)
            lines.append(f"{kind:<15}{len(values):>9}{ok:>7}{client:>6}{server:>6}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
        read_rate = len(self.read_latencies()) / self.seconds if self.seconds else 0.0
        lines.append(
            f"{self.seconds:.0f} s; {read_rate:.1f} reads/s; server errors {len(self.server_errors)}; "
            f"connection errors {len(self.connection_errors)}; acknowledged writes {len(self.acknowledged)} "
            f"({sum(len(m) for m in self.acknowledged.values())} memberships); lost {len(self.lost)}"
        )
        slow = ", ".join(f"{kind} {s * 1000:.0f} ms sent at {at:.1f} s" for s, kind, at in self.slowest)
        lines.append(f"slowest reads: {slow}")
        return "\n".join(lines)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of ``values`` (seconds) in milliseconds; zeros when there are none."""
    if len(values) < 2:
        return (values[0] * 1000,) * 3 if values else (0.0, 0.0, 0.0)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def _request(
    base: str,
    path: str,
    *,
    accept: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    source: str | None = None,
) -> tuple[int, bytes]:
    """(status, body) of one request, sent from the address ``source`` when given (each reader is
    a client of its own, as the server's per-client limits count them); status 0 and the error
    when there was no answer."""
    url = urllib.parse.urlsplit(base + path)
    conn = http.client.HTTPConnection(
        url.hostname or "127.0.0.1", url.port, timeout=60, source_address=(source, 0) if source else None
    )
    target = url.path + (f"?{url.query}" if url.query else "")
    try:
        method = "POST" if data is not None else "GET"
        conn.request(method, target, body=data, headers={"Accept": accept, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError as exc:
        return 0, repr(exc).encode()
    finally:
        conn.close()


def membership_turtle(iris: list[str], states: list[str], day: int) -> bytes:
    """A contribution of one partnership of NATO per state, with the given membership IRIs."""
    start = f"{2001 + day // 365:04d}-{1 + day % 12:02d}-{1 + day % 28:02d}"
    lines = [
        "@prefix org: <http://www.w3.org/ns/org#> .",
        "@prefix ald: <https://w3id.org/allianceld/ontology#> .",
        "@prefix prov: <http://www.w3.org/ns/prov#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
    ]
    for iri, state in zip(iris, states, strict=True):
        lines.append(
            f"<{iri}> a org:Membership ; org:member <{ID}state/{state}> ; org:organization <{ALLIANCE}> ; "
            f'org:role ald:Partner ; ald:startDate "{start}"^^xsd:date ; prov:wasDerivedFrom <{SOURCE}> .'
        )
    return "\n".join(lines).encode()


def _reader(base: str, run: LoadRun, offset: int, stop: threading.Event) -> None:
    # on this machine each reader sends from an address of its own: 8 readers are 8 clients
    source = f"127.0.0.{10 + offset}" if urllib.parse.urlsplit(base).hostname == "127.0.0.1" else None
    for kind, path, accept in itertools.islice(itertools.cycle(READS), offset, None):
        if stop.is_set():
            return
        start = time.perf_counter()
        status, body = _request(base, path, accept=accept, source=source)
        run.record(kind, status, start, f"{path[:60]} {body[:200]!r}")


def _writer(base: str, token: str, run: LoadRun, number: int, per_write: int, stop: threading.Event) -> None:
    for n in itertools.count():
        if stop.is_set():
            return
        states = [STATES[(n * per_write + k) % len(STATES)] for k in range(per_write)]
        iris = [f"{MEMBERSHIP_PREFIX}w{number}-{n}-{state}" for state in states]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
        start = time.perf_counter()
        status, body = _request(
            base, "/contributions", accept="application/json", data=membership_turtle(iris, states, n), headers=headers
        )
        run.record("write", status, start, body[:300].decode("utf-8", "replace"))
        if status == 201:
            with run.lock:
                run.acknowledged[json.loads(body)["id"]] = iris


def run_load(
    base: str, token: str, seconds: float, *, readers: int = 8, writers: int = 2, per_write: int = 3
) -> LoadRun:
    """Run ``readers`` reading and ``writers`` writing threads against ``base`` for ``seconds``,
    then check every acknowledged write (:func:`find_lost`)."""
    run, stop = LoadRun(), threading.Event()
    threads = [
        threading.Thread(target=_reader, args=(base, run, i, stop), name=f"reader-{i}") for i in range(readers)
    ] + [
        threading.Thread(target=_writer, args=(base, token, run, i, per_write, stop), name=f"writer-{i}")
        for i in range(writers)
    ]
    run.started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    run.seconds = time.perf_counter() - run.started
    for t in threads:  # the requests under way are answered and counted
        t.join()
    run.lost = find_lost(base, run.acknowledged)
    return run


def find_lost(base: str, acknowledged: dict[str, list[str]]) -> list[str]:
    """The acknowledged writes the server no longer has: a contribution whose record does not
    answer, or one of whose memberships is missing; and a count of the writers' memberships that
    differs from the acknowledged ones (a write stored without being acknowledged is not lost)."""
    lost = []
    for cid, iris in sorted(acknowledged.items()):
        status, body = _request(base, f"/contributions/{cid}", accept="application/n-quads")
        if status != 200:
            lost.append(f"{cid}: GET /contributions/{cid} answered {status}")
            continue
        text = body.decode()
        missing = [iri for iri in iris if f"<{iri}> <{RDF_TYPE}>" not in text]
        if missing:
            lost.append(f"{cid}: memberships missing: {missing}")
    status, body = _request(
        base, "/sparql?" + urllib.parse.urlencode({"query": COUNT_WRITTEN}), accept="application/sparql-results+json"
    )
    stored = int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) if status == 200 else -1
    expected = sum(len(iris) for iris in acknowledged.values())
    if stored < expected:
        lost.append(f"the store holds {stored} of the writers' memberships; {expected} were acknowledged")
    return lost


@contextlib.contextmanager
def process_group(
    cmd: list[str], env: dict[str, str], base: str, ready: str, log: Path | None = None
) -> Iterator[None]:
    """``cmd`` in a process group of its own (its output to ``log``, else nowhere) until ``base +
    ready`` answers 200 (within 90 s); stopped afterwards (SIGTERM, then SIGKILL)."""
    import signal

    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while _request(base, ready, accept="*/*")[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                shown = log.read_text(errors="replace")[-2000:] if log is not None else ""
                raise RuntimeError(f"{cmd[0]} did not start (exit code {proc.poll()}) {shown}")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log is not None:
            out.close()  # type: ignore[union-attr]


#: Oxigraph's own server, from the oxigraph package beside this Python
OXIGRAPH = Path(sys.executable).with_name("oxigraph")


@contextlib.contextmanager
def oxigraph_server(location: Path | None, log: Path | None = None) -> Iterator[str]:
    """``oxigraph serve`` on a free port of 127.0.0.1 over the store directory ``location`` (None: in
    memory), in a process group of its own; yields its base URL (``/query``, ``/update``) and stops it
    afterwards."""
    port = free_port()
    where = ["--location", str(location)] if location is not None else []
    base = f"http://127.0.0.1:{port}"
    cmd = [str(OXIGRAPH), "serve", *where, "--bind", f"127.0.0.1:{port}"]
    with process_group(cmd, os.environ.copy(), base, "/query?query=ASK%7B%7D", log):
        yield base


def free_port() -> int:
    """A port of 127.0.0.1 free now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def production_server(store: Path, tokens: Path, *, threads: int = 8, log: Path | None = None) -> Iterator[str]:
    """``allianceld serve --production`` on a free port of 127.0.0.1 over the store at ``store``
    (tokens from the file ``tokens``; HermiT's per-write check off unless $ALLIANCELD_DL_CHECKS
    says otherwise), in a process group of its own; yields its base URL, once its query workers hold
    their in-memory copies of the store (so that what is measured is the running service, not its
    start), and stops it afterwards."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ALLIANCELD_TOKENS": str(tokens)}
    env.setdefault("ALLIANCELD_DL_CHECKS", "off")
    cmd = [sys.executable, "-m", "allianceld.cli", "--store", str(store), "serve", "--production"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    base = f"http://127.0.0.1:{port}"
    with process_group(cmd, env, base, "/healthz", log):
        wait_until_warm(base)
        yield base


def wait_until_warm(base: str, timeout: float = 300) -> None:
    """Wait until ``/healthz`` says every query worker answers from an up-to-date in-memory copy
    (at most ``timeout`` seconds; a service without copies is warm at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = _request(base, "/healthz", accept="application/json")
        workers = json.loads(body).get("query_workers") if status == 200 else None
        if not workers or not workers.get("memory") or 0 < workers["workers"] == workers["in_memory"]:
            return
        time.sleep(0.5)
    sys.exit(f"the service at {base} did not load its query workers' copies within {timeout:g} s")


def shipped_store(target: Path) -> None:
    """An on-disk store of the shipped ontology and data at ``target`` (``allianceld init``)."""
    subprocess.run(
        [sys.executable, "-m", "allianceld.cli", "--store", str(target), "init"],
        check=True,
        capture_output=True,
        env={"ALLIANCELD_DL_CHECKS": "off", **os.environ},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs (default 60)")
    parser.add_argument("--readers", type=int, default=8, help="reading threads (default 8)")
    parser.add_argument("--writers", type=int, default=2, help="writing threads (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="the server's threads (default 8)")
    parser.add_argument("--workdir", type=Path, help="where the store goes (default: a new temporary folder)")
    parser.add_argument(
        "--dl-checks", choices=["on", "off"], help="the server's OWL 2 DL check of each write (default: off)"
    )
    args = parser.parse_args()
    if args.dl_checks:
        os.environ["ALLIANCELD_DL_CHECKS"] = args.dl_checks
    import tempfile

    from allianceld.tokens import TokenStore

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="allianceld-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    store, tokens = workdir / "store", workdir / "tokens.json"
    if not store.exists():
        shipped_store(store)
    token = TokenStore(tokens).create(f"load-{os.getpid()}", "contributor")
    load_before = os.getloadavg()[0]
    with production_server(store, tokens, threads=args.threads, log=workdir / "server.log") as base:
        run = run_load(base, token, args.seconds, readers=args.readers, writers=args.writers)
    print(
        f"{args.readers} readers, {args.writers} writers, allianceld serve --production --threads {args.threads}; "
        f"DL check {os.environ.get('ALLIANCELD_DL_CHECKS', 'off')}; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print(run.table())
    for problem in (run.server_errors + run.connection_errors + run.lost)[:10]:
        print("  ", problem)
    sys.exit(1 if run.server_errors or run.connection_errors or run.lost else 0)


if __name__ == "__main__":
    main()
