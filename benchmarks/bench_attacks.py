"""Slow and heavy clients against a real ``allianceld serve --production`` on 127.0.0.1.

Three attacks, each while a monitor asks ``GET /healthz`` every 0.2 s (the figure that matters:
its slowest answer, and how many probes failed):

- slowloris: ``--slow`` connections (half trickling a request head, half a request body) each
  send one byte every ``--interval`` seconds for ``--duration`` seconds; the server reads
  requests within ``--request-timeout`` s (ALLIANCELD_REQUEST_TIMEOUT). Reported: when the
  server closed the slow connections.
- validate: three 6.5 MB ``POST /validate`` bodies at once, from one client and then from three
  (127.0.0.2-4). Reported: their statuses and seconds, the worker process's resident memory before,
  at its peak and after.
- queries: one client sends 8 slow queries at once (a three-way cross product; the query time
  limit is ``--query-timeout``); then another client (127.0.0.2) asks a trivial ASK. Reported:
  the statuses of the 8, and how long the ASK took.

    .venv/bin/python benchmarks/bench_attacks.py [--slow 32] [--duration 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bench_sparql import BIN, allianceld_server

SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def request(
    port: int, method: str, path: str, body: bytes | None = None, *, source: str = "127.0.0.1", timeout: float = 60
) -> tuple[int, float]:
    """One request on a new connection from ``source``: (status, seconds); status 0 when it failed."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        headers = {"Content-Type": "text/turtle"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - start
    except OSError:
        return 0, time.perf_counter() - start
    finally:
        conn.close()


class Monitor:
    """Asks /healthz every 0.2 s (1 s timeout) in a thread until stopped; the latencies and failures."""

    def __init__(self, port: int) -> None:
        self.port, self.latencies, self.failures = port, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            status, seconds = request(self.port, "GET", "/healthz", source="127.0.0.9", timeout=5)
            self.latencies.append(seconds)
            if status != 200 or seconds > 1:
                self.failures += 1
            self._stop.wait(0.2)

    @contextmanager
    def running(self) -> Iterator[Monitor]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()

    def summary(self) -> str:
        lat = sorted(self.latencies)
        return (
            f"/healthz: {len(lat)} probes, median {statistics.median(lat) * 1000:.0f} ms, "
            f"max {lat[-1] * 1000:.0f} ms, {self.failures} failed or over 1 s"
        )


def worker_pid(master: int) -> int:
    """The gunicorn worker: the server process's child that is not a query worker."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master and b"multiprocessing" not in cmdline:
            return int(entry.name)
    raise RuntimeError("no worker process")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the attacks -----------------------------------------------------------------------------------


def slowloris(port: int, count: int, interval: float, duration: float, log: Callable[[str], None]) -> None:
    import socket

    conns: list[socket.socket] = []
    for i in range(count):
        conn = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.3", 0))
        head = b"POST /validate HTTP/1.1\r\nHost: x\r\n"
        conn.sendall(head + (b"X-Slow: " if i % 2 else b"Content-Length: 100000\r\n\r\n"))
        conns.append(conn)
    start = time.monotonic()
    closed: dict[int, float] = {}
    monitor = Monitor(port)
    with monitor.running():
        while time.monotonic() - start < duration and len(closed) < count:
            for i, conn in enumerate(conns):
                if i in closed:
                    continue
                try:
                    conn.sendall(b"a")
                except OSError:
                    closed[i] = time.monotonic() - start
            time.sleep(interval)
    for conn in conns:
        conn.close()
    times = sorted(closed.values())
    log(f"slowloris, {count} connections, a byte every {interval:g} s: {monitor.summary()}")
    if times:
        log(f"  {len(times)}/{count} closed by the server, after {times[0]:.1f}-{times[-1]:.1f} s")
    else:
        log(f"  none of the {count} closed by the server within {duration:g} s")


def turtle(megabytes: float) -> bytes:
    lines, size, i = [], 0, 0
    while size < megabytes * 2**20:
        line = f'<https://example.org/s{i}> <https://example.org/p{i % 7}> "value number {i}" .\n'
        lines.append(line)
        size += len(line)
        i += 1
    return "".join(lines).encode()


def validations(port: int, master: int, log: Callable[[str], None]) -> None:
    body = turtle(6.5)
    worker = worker_pid(master)
    for sources in (["127.0.0.1"] * 3, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]):
        before, peak = rss_mb(worker), 0.0
        monitor = Monitor(port)
        with monitor.running(), ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(request, port, "POST", "/validate", body, source=s) for s in sources]
            while not all(f.done() for f in futures):
                peak = max(peak, rss_mb(worker))
                time.sleep(0.05)
            results = [f.result() for f in futures]
        time.sleep(1)
        after = rss_mb(worker)
        who = "one client" if len(set(sources)) == 1 else "three clients"
        answers = ", ".join(f"{status} in {seconds:.1f} s" for status, seconds in results)
        log(f"3 x {len(body) / 2**20:.1f} MB /validate from {who}: {answers}")
        log(f"  worker memory {before:.0f} MB before, {peak:.0f} MB at peak, {after:.0f} MB after; {monitor.summary()}")


def queries(port: int, log: Callable[[str], None]) -> None:
    path = "/sparql?query=" + urllib.parse.quote(SLOW_QUERY)
    monitor = Monitor(port)
    with monitor.running(), ThreadPoolExecutor(8) as pool:
        slow = [pool.submit(request, port, "GET", path) for _ in range(8)]
        time.sleep(1)  # the slow ones are running or queued (a benchmark may wait; tests use events)
        status, seconds = request(port, "GET", "/sparql?query=ASK%7B%7D", source="127.0.0.2")
        statuses = [f.result()[0] for f in slow]
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    log(f"8 slow queries from one client: statuses {counts}; a trivial ASK from another: {status} in {seconds:.2f} s")
    log(f"  {monitor.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", type=int, default=32, help="slowloris connections")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a slow client's bytes")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds the slowloris attack lasts at most")
    parser.add_argument("--request-timeout", type=float, default=5.0, help="ALLIANCELD_REQUEST_TIMEOUT")
    parser.add_argument("--query-timeout", type=float, default=10.0, help="ALLIANCELD_QUERY_TIMEOUT")
    parser.add_argument("--only", choices=["slowloris", "validate", "queries"], help="run one attack")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-attacks-") as tmp:
        work = Path(tmp)
        store = work / "store"
        subprocess.run([str(BIN / "allianceld"), "--store", str(store), "init"], check=True, capture_output=True)
        server = allianceld_server(
            store,
            work,
            ALLIANCELD_REQUEST_TIMEOUT=str(args.request_timeout),
            ALLIANCELD_QUERY_TIMEOUT=str(args.query_timeout),
            ALLIANCELD_DL_CHECKS="off",
        )
        port = int(urllib.parse.urlsplit(server.url).port or 0)
        server.start(120)
        results: list[str] = []

        def log(line: str) -> None:
            print(line, flush=True)
            results.append(line)

        try:
            assert server.process is not None
            if args.only in (None, "slowloris"):
                slowloris(port, args.slow, args.interval, args.duration, log)
            if args.only in (None, "validate"):
                validations(port, server.process.pid, log)
            if args.only in (None, "queries"):
                queries(port, log)
        finally:
            server.stop()
        print(json.dumps({"cpus": os.cpu_count(), "python": sys.version.split()[0], "results": results}))


if __name__ == "__main__":
    main()
