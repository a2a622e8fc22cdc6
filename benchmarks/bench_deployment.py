"""What each deployment costs, measured side by side in one run (docs/deployment.md):

    .venv/bin/python benchmarks/bench_deployment.py                 # 20 contributions per setting
    .venv/bin/python benchmarks/bench_deployment.py --writes 50

- *embedded*: ``allianceld init`` into a new store directory, then ``allianceld serve --production``
  over it;
- *oxigraph serve*: ``oxigraph serve --location`` on 127.0.0.1, ``allianceld init`` into it, then one
  ``allianceld serve --production`` over ``ALLIANCELD_SPARQL_QUERY_URL``/``_UPDATE_URL``;
- *two services*: two ``allianceld serve --production`` processes over that same ``oxigraph serve``,
  a writer posting to each at the same time (their writes overtake each other: a write another service
  overtook is made again, see ``store.write_version``).

Each contribution holds three NATO partnerships (``bench_load.membership_turtle``); the reads are
``bench_load.READS`` (a SPARQL point query and join, pages, listings), each asked ``--reads`` times of
one service. The DL check is off (``ALLIANCELD_DL_CHECKS=off``) unless the environment says otherwise:
it costs the same in every deployment. Markdown tables, with the load average when the run started.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import (
    ID,
    READS,
    STATES,
    _request,
    free_port,
    membership_turtle,
    oxigraph_server,
    percentiles,
    process_group,
)

from allianceld.tokens import TokenStore

CLI = [sys.executable, "-m", "allianceld.cli"]


def _env(store: str | None, tokens: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ALLIANCELD_TOKENS": str(tokens)}
    env.setdefault("ALLIANCELD_DL_CHECKS", "off")
    if store is not None:
        env["ALLIANCELD_SPARQL_QUERY_URL"], env["ALLIANCELD_SPARQL_UPDATE_URL"] = store + "/query", store + "/update"
    return env


@contextlib.contextmanager
def _service(work: Path, name: str, embedded: Path | None, store: str | None, tokens: Path) -> Iterator[str]:
    """``allianceld serve --production`` over the embedded store ``embedded`` or the remote ``store``."""
    port = free_port()
    cmd = [*CLI, *(["--store", str(embedded)] if embedded else [])]
    cmd += ["serve", "--production", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"]
    base = f"http://127.0.0.1:{port}"
    with process_group(cmd, _env(store, tokens), base, "/healthz", work / f"{name}.log"):
        yield base


def _init(embedded: Path | None, store: str | None, tokens: Path) -> float:
    start = time.perf_counter()
    cmd = [*CLI, *(["--store", str(embedded)] if embedded else []), "init"]
    subprocess.run(cmd, check=True, capture_output=True, env=_env(store, tokens))
    return time.perf_counter() - start


def _token(tokens: Path) -> str:
    return TokenStore(tokens).create("bench", "contributor")


def _writes(base: str, token: str, first: int, count: int, times: list[float], statuses: dict[int, int]) -> None:
    for n in range(first, first + count):
        iris = [f"{ID}membership/bench-{n}-{s}" for s in STATES[:3]]
        start = time.perf_counter()
        status, _ = _request(
            base,
            "/contributions",
            accept="application/json",
            data=membership_turtle(iris, STATES[:3], n),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"},
        )
        times.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1


def _reads(base: str, rounds: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for _ in range(rounds):
        for kind, path, accept in READS:
            start = time.perf_counter()
            status, _ = _request(base, path, accept=accept)
            assert status == 200, (path, status)
            found.setdefault(kind, []).append(time.perf_counter() - start)
    return found


def _row(name: str, values: list[float]) -> str:
    p50, p95, _ = percentiles(values)
    return f"| {name} | {len(values)} | {p50:.0f} | {p95:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=20, help="contributions per writer (default 20)")
    parser.add_argument("--reads", type=int, default=10, help="rounds of the reads (default 10)")
    args = parser.parse_args()
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-deployment-"))
    tokens = work / "tokens.json"
    token = _token(tokens)
    inits: dict[str, float] = {}
    writes: dict[str, list[float]] = {}
    reads: dict[str, dict[str, list[float]]] = {}
    statuses: dict[str, dict[int, int]] = {}

    def measure(name: str, base: str, first: int) -> None:
        """One writer's contributions to the service at ``base``, then the reads."""
        statuses[name], writes[name] = {}, []
        _writes(base, token, first, args.writes, writes[name], statuses[name])
        reads[name] = _reads(base, args.reads)

    try:
        embedded = work / "embedded"
        inits["embedded"] = _init(embedded, None, tokens)
        with _service(work, "embedded", embedded, None, tokens) as base:
            measure("embedded", base, 0)
        with oxigraph_server(work / "oxigraph", work / "oxigraph.log") as store:
            inits["oxigraph serve"] = _init(None, store, tokens)
            with _service(work, "a", None, store, tokens) as a:
                measure("oxigraph serve", a, 1000)
                with _service(work, "b", None, store, tokens) as b:
                    both: list[float] = []
                    statuses["two services"] = {}
                    started = time.perf_counter()
                    writers = [
                        threading.Thread(
                            target=_writes, args=(url, token, first, args.writes, both, statuses["two services"])
                        )
                        for url, first in ((a, 2000), (b, 3000))
                    ]
                    for w in writers:
                        w.start()
                    for w in writers:
                        w.join()
                    wall = time.perf_counter() - started
                    writes["two services"] = both
                    reads["two services (B)"] = _reads(b, args.reads)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores\n")
    print("| init | seconds |\n|---|---|")
    for name, seconds in inits.items():
        print(f"| {name} | {seconds:.1f} |")
    print("\n| contributions | n | p50 ms | p95 ms |\n|---|---|---|---|")
    for name, values in writes.items():
        print(_row(name, values) + f" statuses {statuses[name]}")
    print(f"\ntwo services: {len(writes['two services'])} contributions in {wall:.1f} s, two writers at once\n")
    print("| read | deployment | n | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for name, kinds in reads.items():
        for kind, values in kinds.items():
            p50, p95, _ = percentiles(values)
            print(f"| {kind} | {name} | {len(values)} | {p50:.0f} | {p95:.0f} |")


if __name__ == "__main__":
    main()
