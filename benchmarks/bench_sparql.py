"""SPARQL over HTTP: allianceld in production against `oxigraph serve` and an rdflib endpoint.

For each size (20k, 200k and 2M triples of ``generate.py``'s synthetic alliance data), the same
three queries are sent over HTTP (POST, SPARQL JSON results, 127.0.0.1) to three servers, all
running at once and queried in turn (round-robin), so that a change in the machine's load falls
on all three alike:

* **allianceld**: ``allianceld serve --production`` (gunicorn, one gthread worker, 8 threads,
  queries in the query-worker pool, default ALLIANCELD_QUERY_TIMEOUT, ALLIANCELD_QUERY_WORKERS and
  ALLIANCELD_QUERY_MEMORY: each worker answers from a copy of the store in memory, and the
  measurements start once ``/healthz`` says every worker has loaded its copy) on an on-disk
  store. The data is bulk-loaded into one named graph with pyoxigraph's ``Store.bulk_load`` on
  the KnowledgeBase's store, *without* SHACL validation or reasoning (the KnowledgeBase has no
  bulk API; its writes go through SPARQL INSERT DATA), then ``Store.optimize()`` is run, as
  pyoxigraph advises after a batch upload;
* **oxigraph serve**: the Rust server of the ``oxigraph`` PyPI package (same Oxigraph version as
  pyoxigraph) on a store made by ``oxigraph load`` and ``oxigraph optimize`` from the same
  N-Triples;
* **rdflib**: ``rdflib_endpoint.py``, a minimal Flask endpoint over an in-memory rdflib Graph,
  served by gunicorn like allianceld (one gthread worker).

Per query: one warm-up request to each server, then rounds of a block of back-to-back requests
(up to 10, or 1 s) to each until every server has ``--requests`` runs or has spent ``--budget``
seconds (at least one run after the warm-up; a warm-up slower than ``--single-run-above``
seconds is the only run), the median of those, then the throughput of ``--threads`` client
threads, each on its own keep-alive connection, over ``--duration`` seconds in three windows
taken in turn (only for queries of at most 1 s). An rdflib request is given up after
``--rdflib-cap`` seconds (the table shows ">cap"); its server is then stopped, as rdflib cannot
cancel a query, and started again for the next query. Every server must return the same rows.

Then the point query's floor: 3 x 1,000 requests to allianceld, oxigraph serve, gunicorn
answering a fixed body (``fixed_endpoint.py``) and, with the bench extra, granian calling a Flask
app that answers a fixed body (``fixed_endpoint.py --flask``) and granian running the query inline
(``inline_endpoint.py``), taken in turn: what a Python endpoint costs per request.

    .venv/bin/python benchmarks/bench_sparql.py                  # 20k, 200k and 2M (about 30 min)
    .venv/bin/python benchmarks/bench_sparql.py --sizes 20000    # a quick check
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import generate
import pyoxigraph as ox

from allianceld.store import KnowledgeBase
from allianceld.vocab import data_graph_iri

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
DATE = "2000-01-01"
PREFIXES = """PREFIX ald: <https://w3id.org/allianceld/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX region: <https://w3id.org/allianceld/id/region/>
"""

#: name -> (what it asks, SPARQL)
QUERIES: dict[str, tuple[str, str]] = {
    "point": (
        "the label of one alliance, by IRI",
        PREFIXES + f"SELECT ?label WHERE {{ <{generate.alliance_iri(1)}> rdfs:label ?label }}",
    ),
    "group": (
        "memberships and distinct member states per alliance type",
        PREFIXES
        + """SELECT ?type (COUNT(?m) AS ?memberships) (COUNT(DISTINCT ?state) AS ?states) WHERE {
  ?m org:organization ?alliance ; org:member ?state .
  ?alliance a ?type .
} GROUP BY ?type ORDER BY ?type""",
    ),
    "join": (
        f"pairs of states both members of one European multilateral alliance on {DATE}",
        PREFIXES
        + f"""SELECT DISTINCT ?a ?b WHERE {{
  ?alliance a ald:MultilateralAlliance ; ald:region region:europe .
  ?m1 org:organization ?alliance ; org:member ?a ; ald:startDate ?s1 .
  ?m2 org:organization ?alliance ; org:member ?b ; ald:startDate ?s2 .
  FILTER (STR(?a) < STR(?b) && ?s1 <= "{DATE}"^^xsd:date && ?s2 <= "{DATE}"^^xsd:date)
  OPTIONAL {{ ?m1 ald:endDate ?e1 }}
  OPTIONAL {{ ?m2 ald:endDate ?e2 }}
  FILTER ((!BOUND(?e1) || ?e1 > "{DATE}"^^xsd:date) && (!BOUND(?e2) || ?e2 > "{DATE}"^^xsd:date))
}} ORDER BY ?a ?b""",
    ),
}
SYSTEMS = ["allianceld", "oxigraph", "rdflib"]
LABELS = {"allianceld": "allianceld", "oxigraph": "oxigraph serve", "rdflib": "rdflib"}
FLOOR_LABELS = {
    **LABELS,
    "fixed": "gunicorn with a fixed answer",
    "flask": "granian + Flask with a fixed answer",
    "inline": "granian with the query inline",
}


# -- HTTP ----------------------------------------------------------------------------------------


class ServerError(RuntimeError):
    """The server answered with another status than 200."""


class Client:
    """One keep-alive HTTP connection sending SPARQL queries as POSTed forms."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def query(self, sparql: str) -> bytes:
        body = urllib.parse.urlencode({"query": sparql}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        }
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", self.path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, http.client.CannotSendRequest, ConnectionError):
                self.close()  # the server closed an idle keep-alive connection: reconnect once
                if attempt:
                    raise
                continue
            except BaseException:
                self.close()
                raise
            if response.will_close:
                self.close()
            if response.status != 200:
                raise ServerError(f"{self.path} answered {response.status}: {data[:300]!r}")
            return data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def rows_of(body: bytes) -> list[tuple[str | None, ...]]:
    """The solutions of a SPARQL JSON result as tuples of values, in the order received."""
    doc = json.loads(body)
    names = doc["head"]["vars"]
    return [tuple(b.get(n, {}).get("value") for n in names) for b in doc["results"]["bindings"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- servers -------------------------------------------------------------------------------------


class Server:
    """A server process (and its children, in a session of their own) on a free local port."""

    def __init__(self, name: str, command: list[str], url: str, log: Path, **popen: object) -> None:
        self.name, self.command, self.url, self.log_path, self.popen = name, command, url, log, popen
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float) -> float:
        """Start the server and wait until it answers a query; the seconds it took."""
        start = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # type: ignore[call-overload]
                self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self.popen
            )
        client = Client(self.url, timeout=ready_timeout)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                client.query("ASK { ?s ?p ?o }")
                client.close()
                return time.perf_counter() - start
            except (ConnectionError, OSError, RuntimeError):
                if time.perf_counter() - start > ready_timeout:
                    self.stop()
                    raise RuntimeError(f"{self.name} did not answer within {ready_timeout:g} s") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after 15 s."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # children left behind (query workers)
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


def allianceld_server(store: Path, work: Path, **settings: str) -> Server:
    """``allianceld serve --production`` over ``store`` with the default configuration, but for
    ``settings`` (ALLIANCELD_* variables)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCELD_")}  # the default configuration
    env.update(ALLIANCELD_STORE=str(store), ALLIANCELD_TOKENS=str(work / "tokens.json"), **settings)
    return Server(
        "allianceld",
        [str(BIN / "allianceld"), "serve", "--production", "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/sparql",
        work / "allianceld.log",
        env=env,
        cwd=str(work),
    )


def oxigraph_server(store: Path, work: Path) -> Server:
    port = free_port()
    return Server(
        "oxigraph serve",
        [str(BIN / "oxigraph"), "serve", "--location", str(store), "--bind", f"127.0.0.1:{port}"],
        f"http://127.0.0.1:{port}/query",
        work / "oxigraph.log",
    )


def script_server(name: str, script: str, argument: Path, work: Path, *options: str) -> Server:
    """One of the benchmark's own endpoints (``script`` in benchmarks/), given one file."""
    port = free_port()
    return Server(
        name,
        [sys.executable, str(HERE / script), str(argument), "--port", str(port), *options],
        f"http://127.0.0.1:{port}/sparql",
        work / f"{'-'.join([Path(script).stem, *(o.lstrip('-') for o in options)])}.log",
    )


def measure_floor(urls: dict[str, str], sparql: str, rounds: int = 3, requests: int = 1000) -> dict[str, float]:
    """Median latency of ``sparql`` on each server, ``requests`` back-to-back requests per server
    per round, the servers taken in turn ``rounds`` times."""
    clients = {name: Client(url, timeout=30) for name, url in urls.items()}
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    for client in clients.values():
        for _ in range(100):  # warm-up
            client.query(sparql)
    for _ in range(rounds):
        for name, client in clients.items():
            for _ in range(requests):
                start = time.perf_counter()
                client.query(sparql)
                latencies[name].append(time.perf_counter() - start)
    for client in clients.values():
        client.close()
    return {name: statistics.median(values) for name, values in latencies.items()}


def wait_for_copies(base: str, timeout: float) -> str:
    """Wait until every query worker of the allianceld at ``base`` answers from its in-memory copy
    of the store (``/healthz``), as a server does once it has loaded them; what it reported."""
    start = time.perf_counter()
    while True:
        with urllib.request.urlopen(base + "/healthz", timeout=60) as resp:
            workers = json.loads(resp.read())["query_workers"]
        if not workers["memory"]:
            return "query workers answer from snapshots on disk (ALLIANCELD_QUERY_MEMORY)"
        if workers["workers"] and workers["in_memory"] == workers["workers"]:
            took = time.perf_counter() - start
            return f"{workers['in_memory']} query workers answering from memory after {took:.1f} s more"
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"the query workers did not load their copies within {timeout:g} s: {workers}")
        time.sleep(0.5)


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class Measurement:
    rows: list[tuple[str | None, ...]] | None = None
    latencies: list[float] = field(default_factory=list)
    single: bool = False  # the warm-up was the only run
    capped: float | None = None  # the request was given up after this many seconds
    error: str | None = None  # the server answered with an error (e.g. 503 past its time limit)
    throughput: float | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.latencies) if self.latencies else None


def measure_query(
    servers: dict[str, Server],
    restart: Callable[[str], None],
    sparql: str,
    args: argparse.Namespace,
) -> dict[str, Measurement]:
    """One query on every server, interleaved so that a change in the machine's load hits all of
    them alike: a warm-up request each, then rounds of a block of back-to-back requests (up to 10,
    or 1 s) per server until each has
    ``args.requests`` runs or has spent ``args.budget`` seconds (at least one run after the
    warm-up, unless the warm-up took more than ``args.single_run_above`` seconds), then the
    throughput of concurrent clients in interleaved windows (queries of at most 1 s)."""
    results = {system: Measurement() for system in servers}
    clients = {system: Client(server.url, timeout=_cap(system, args)) for system, server in servers.items()}
    active: list[str] = []
    for system, client in clients.items():
        m = results[system]
        start = time.perf_counter()
        if _request(system, client, sparql, m, restart, args, first=True):
            elapsed = time.perf_counter() - start
            if elapsed > args.single_run_above:
                m.latencies.append(elapsed)  # too slow to repeat: the warm-up is the one run
                m.single = True
            else:
                active.append(system)
    spent = dict.fromkeys(active, 0.0)
    while active:
        for system in list(active):  # a block of back-to-back requests (up to 10, or 1 s) each
            m = results[system]
            block_start, block = time.perf_counter(), 0
            while block < 10 and time.perf_counter() - block_start < 1.0:
                start = time.perf_counter()
                if not _request(system, clients[system], sparql, m, restart, args, first=False):
                    active.remove(system)
                    break
                elapsed = time.perf_counter() - start
                m.latencies.append(elapsed)
                spent[system] += elapsed
                block += 1
                if len(m.latencies) >= args.requests or spent[system] >= args.budget:
                    active.remove(system)
                    break
    for client in clients.values():
        client.close()

    fast = [s for s, m in results.items() if m.median is not None and m.median <= 1.0 and m.error is None]
    counts, seconds = dict.fromkeys(fast, 0), dict.fromkeys(fast, 0.0)
    windows = 3
    for _ in range(windows):
        for system in fast:
            count, elapsed = throughput(
                servers[system].url, sparql, threads=args.threads, duration=args.duration / windows
            )
            counts[system] += count
            seconds[system] += elapsed
    for system in fast:
        results[system].throughput = counts[system] / seconds[system]
    return results


def _cap(system: str, args: argparse.Namespace) -> float:
    return args.rdflib_cap if system == "rdflib" else 900.0


def _request(
    system: str,
    client: Client,
    sparql: str,
    m: Measurement,
    restart: Callable[[str], None],
    args: argparse.Namespace,
    *,
    first: bool,
) -> bool:
    """Send the query once; False (and the reason noted in ``m``) when it failed or was given up,
    in which case ``restart`` stops the server (it may still be computing)."""
    try:
        body = client.query(sparql)
    except TimeoutError:
        client.close()
        m.capped = _cap(system, args)
        m.latencies.clear()
        restart(system)  # it cannot cancel the query: a fresh server for the next one
        return False
    except ServerError as exc:
        m.error = str(exc)
        m.latencies.clear()
        return False
    if first:
        m.rows = rows_of(body)
    return True


def throughput(url: str, sparql: str, *, threads: int, duration: float) -> tuple[int, float]:
    """Requests completed by ``threads`` clients looping for ``duration`` seconds, and the seconds
    they took (each client sends one request first, not counted, so that every server has all its
    workers up)."""
    counts = [0] * threads
    ends = [0.0] * threads
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def run(i: int) -> None:
        client = Client(url, timeout=120)
        try:
            client.query(sparql)
            barrier.wait()
            while time.perf_counter() < stop_at[0]:
                client.query(sparql)
                counts[i] += 1
            ends[i] = time.perf_counter()
        except BaseException as exc:
            errors.append(exc)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.abort()
        finally:
            client.close()

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        stop_at[0] = time.perf_counter() + 3600  # until set below
        barrier.wait()
    begin = time.perf_counter()
    stop_at[0] = begin + duration
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return sum(counts), max(ends) - begin


# -- one size ------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    triples: int
    setup: dict[str, float]
    results: dict[str, dict[str, Measurement]]  # system -> query -> measurement
    floor: dict[str, float] = field(default_factory=dict)  # server -> median point latency (s)


def prepare(size: int, seed: int, work: Path) -> tuple[int, Path, Path, Path, dict[str, float]]:
    """Generate the data and build the two on-disk stores; the triple count, paths and timings."""
    setup: dict[str, float] = {}
    t = time.perf_counter()
    triples = generate.generate(size, seed)
    data = work / f"alliances-{size}.nt"
    generate.write_ntriples(triples, data)
    count = len(triples)
    del triples
    setup["generate"] = time.perf_counter() - t

    t = time.perf_counter()
    ald_store = work / f"allianceld-{size}"
    kb = KnowledgeBase(ald_store)
    store = kb.backend.store  # type: ignore[attr-defined]
    store.bulk_load(path=str(data), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(data_graph_iri("synthetic")))
    store.optimize()  # as pyoxigraph advises after a batch upload (without it: 2.4x slower group query at 2M)
    del store
    kb.close()
    setup["allianceld load"] = time.perf_counter() - t

    t = time.perf_counter()
    ox_store = work / f"oxigraph-{size}"
    for command in (["load", "--file", str(data)], ["optimize"]):
        subprocess.run(
            [str(BIN / "oxigraph"), *command, "--location", str(ox_store)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    setup["oxigraph load"] = time.perf_counter() - t
    return count, data, ald_store, ox_store, setup


def run_size(size: int, args: argparse.Namespace, work: Path, log: Callable[[str], None]) -> SizeResult:
    count, data, ald_store, ox_store, setup = prepare(size, args.seed, work)
    log(
        f"\n== {count:,} triples: generated in {setup['generate']:.1f} s, loaded (and optimized) into "
        f"allianceld in {setup['allianceld load']:.1f} s and by `oxigraph load` in {setup['oxigraph load']:.1f} s"
    )
    factories: dict[str, Callable[[], Server]] = {
        "allianceld": lambda: allianceld_server(ald_store, work),
        "oxigraph": lambda: oxigraph_server(ox_store, work),
        "rdflib": lambda: script_server("rdflib endpoint", "rdflib_endpoint.py", data, work),
    }
    servers: dict[str, Server] = {}

    def launch(system: str) -> None:
        servers[system] = factories[system]()
        ready = servers[system].start(ready_timeout=3600)
        log(f"  {LABELS[system]}: answering after {ready:.1f} s")
        if system == "allianceld":
            copies = wait_for_copies(servers[system].url.removesuffix("/sparql"), timeout=3600)
            log(f"  {LABELS[system]}: {copies}")

    stopped: set[str] = set()

    def restart(system: str) -> None:  # stopped now (it is still computing), started before the next query
        servers[system].stop()
        stopped.add(system)

    results: dict[str, dict[str, Measurement]] = {system: {} for system in SYSTEMS}
    try:
        for system in SYSTEMS:
            launch(system)
        for name, (_, sparql) in QUERIES.items():
            while stopped:
                launch(stopped.pop())
            measured = measure_query(servers, restart, sparql, args)
            for system in SYSTEMS:
                results[system][name] = measured[system]
                log(f"    {name:5} {LABELS[system]:15} {_describe(measured[system])}")
        floor = point_floor(servers, data, work, log)
    finally:
        for server in servers.values():
            server.stop()
        _remove(ald_store.parent / f".{ald_store.name}.snapshots")
    for name in QUERIES:
        answered = [(s, results[s][name].rows) for s in SYSTEMS if results[s][name].rows is not None]
        first, reference = answered[0] if answered else ("", [])
        for system, rows in answered:
            assert rows is not None and reference is not None
            assert len(rows) == len(reference), f"{name}: {system} gave {len(rows)} rows, {first} {len(reference)}"
            assert sorted(rows, key=str) == sorted(reference, key=str), f"{name}: {system}'s rows differ from {first}'s"
    if not args.keep:
        for path in (data, ald_store, ox_store):
            _remove(path)
    return SizeResult(count, setup, results, floor)


def point_floor(servers: dict[str, Server], data: Path, work: Path, log: Callable[[str], None]) -> dict[str, float]:
    """The point query on allianceld and oxigraph serve beside gunicorn giving oxigraph's answer
    without running anything (``fixed_endpoint.py``): what the server alone costs; and, with the
    bench extra installed, beside granian giving it through Flask (``fixed_endpoint.py --flask``)
    and granian running it inline (``inline_endpoint.py``)."""
    answer = work / "point-answer.json"
    reference = Client(servers["oxigraph"].url, timeout=30)
    answer.write_bytes(reference.query(QUERIES["point"][1]))
    reference.close()
    extra = {"fixed": script_server("gunicorn, a fixed answer", "fixed_endpoint.py", answer, work)}
    if importlib.util.find_spec("granian") is not None:
        extra["flask"] = script_server("granian + Flask, a fixed answer", "fixed_endpoint.py", answer, work, "--flask")
        extra["inline"] = script_server("granian, the query inline", "inline_endpoint.py", data, work)
    else:
        log("    (granian is not installed: pip install -e '.[bench]' adds its two endpoints to the floor)")
    try:
        for server in extra.values():
            server.start(ready_timeout=600)
        urls = {"allianceld": servers["allianceld"].url, "oxigraph": servers["oxigraph"].url}
        floor = measure_floor({**urls, **{name: server.url for name, server in extra.items()}}, QUERIES["point"][1])
    finally:
        for server in extra.values():
            server.stop()
    log(
        "    point, 3 x 1,000 requests each in turn: "
        + ", ".join(f"{FLOOR_LABELS[name]} {_ms(seconds)}" for name, seconds in floor.items())
    )
    return floor


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _describe(m: Measurement) -> str:
    if m.error is not None:
        return f"error: {m.error}"
    if m.capped is not None:
        return f"stopped after {m.capped:g} s"
    lat = m.latencies
    rps = f"{m.throughput:,.1f} req/s" if m.throughput is not None else "no throughput run"
    return (
        f"{len(m.rows or [])} rows; median {_ms(m.median)} over {len(lat)} run(s) "
        f"(min {_ms(min(lat))}, max {_ms(max(lat))}); {rps}"
    )


# -- the table -----------------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1000
    if ms >= 10_000:
        return f"{seconds:,.0f} s"
    if ms >= 100:
        return f"{ms:,.0f} ms"
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def _latency(m: Measurement) -> str:
    if m.error is not None:
        return "error"
    if m.capped is not None:
        return f"> {m.capped:g} s"
    text = _ms(m.median)
    return text + "¹" if m.single else text


def _rps(m: Measurement) -> str:
    return "-" if m.throughput is None else f"{m.throughput:,.0f}" if m.throughput >= 10 else f"{m.throughput:.1f}"


def _ratio(numerator: Measurement, denominator: Measurement) -> str:
    if denominator.median is None:
        return "-"
    if numerator.capped is not None:
        return f"> {_times(numerator.capped / denominator.median)}"
    if numerator.median is None:
        return "-"
    return _times(numerator.median / denominator.median)


def _times(r: float) -> str:
    return f"{r:,.0f}x" if r >= 10 else f"{r:.2f}x"


def table(sizes: list[SizeResult]) -> str:
    head = (
        "| triples | query | rows | allianceld | oxigraph serve | rdflib | allianceld req/s | oxigraph req/s "
        "| rdflib req/s | speed-up vs rdflib | allianceld ÷ oxigraph |"
    )
    lines = [head, "|" + "---|" * 11]
    for size in sizes:
        for name in QUERIES:
            ald, oxi, rdf = (size.results[s][name] for s in SYSTEMS)
            lines.append(
                f"| {size.triples:,} | {name} | {len(ald.rows or [])} | {_latency(ald)} | {_latency(oxi)} "
                f"| {_latency(rdf)} | {_rps(ald)} | {_rps(oxi)} | {_rps(rdf)} | {_ratio(rdf, ald)} "
                f"| {_ratio(ald, oxi)} |"
            )
    return "\n".join(lines)


def goals(sizes: list[SizeResult]) -> list[str]:
    out = []
    for size in sizes:
        ald, rdf = size.results["allianceld"]["join"], size.results["rdflib"]["join"]
        bound = rdf.capped if rdf.capped is not None else rdf.median
        if ald.median is None or bound is None:
            out.append(f"{size.triples:,} triples, join: no comparison (an error)")
        else:
            speedup = bound / ald.median
            if speedup >= 100:
                verdict = "met"
            elif rdf.capped is not None:
                verdict = "not determined (rdflib was stopped)"
            else:
                verdict = "NOT met"
            out.append(
                f"{size.triples:,} triples, join: allianceld {'> ' if rdf.capped else ''}{speedup:,.0f}x faster "
                f"than rdflib (goal ≥ 100x): {verdict}"
            )
        for name in ("point",):
            a, o = size.results["allianceld"][name], size.results["oxigraph"][name]
            if a.median is None or o.median is None:
                continue
            r = a.median / o.median
            out.append(
                f"{size.triples:,} triples, {name}: allianceld takes {r:.2f}x the time of oxigraph serve "
                f"(goal ≤ 1.3x): {'met' if r <= 1.3 else 'NOT met'}"
            )
            if size.floor:
                f = size.floor
                out.append(
                    f"{size.triples:,} triples, {name}, 3 x 1,000 requests, the time of oxigraph serve: "
                    + "; ".join(f"{FLOOR_LABELS[k]} {v / f['oxigraph']:.2f}x" for k, v in f.items() if k != "oxigraph")
                )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="20000,200000,2000000",
        help="comma-separated approximate triple counts (default 20000,200000,2000000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--requests", type=int, default=50, help="sequential requests per latency (default 50)")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per latency measurement (default 20)")
    parser.add_argument("--threads", type=int, default=4, help="client threads for throughput (default 4)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per throughput run (default 3)")
    parser.add_argument(
        "--single-run-above", type=float, default=60.0, help="no repeat of a warm-up slower than this (s)"
    )
    parser.add_argument("--rdflib-cap", type=float, default=300.0, help="give up an rdflib request after (s)")
    parser.add_argument("--workdir", type=Path, help="where data and stores go (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the data files and stores")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    def log(line: str) -> None:
        print(line, flush=True)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="allianceld-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log(
        f"SPARQL over HTTP: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pyoxigraph {ox.__version__}; work directory {work}"
    )
    for name, (what, _) in QUERIES.items():
        log(f"  {name}: {what}")
    done: list[SizeResult] = []
    try:
        for size in sizes:
            done.append(run_size(size, args, work, log))
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    log(f"\nMedian latency over HTTP (ms unless marked), throughput with {args.threads} client threads:\n")
    log(table(done))
    log(
        f"\n¹ a single run (the warm-up took more than {args.single_run_above:g} s). > N s: the rdflib request "
        "was given up after N s. -: no throughput run (queries slower than 1 s). "
        "Speed-up = rdflib ÷ allianceld median latency."
    )
    log("")
    for line in goals(done):
        log(line)


if __name__ == "__main__":
    main()
