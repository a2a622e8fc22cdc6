"""What the write lease of a remote store costs (docs/deployment.md, several services):

    .venv/bin/python benchmarks/bench_write_lease.py                 # 20 contributions, 50 leases
    .venv/bin/python benchmarks/bench_write_lease.py --writes 40

An on-disk ``oxigraph serve`` on 127.0.0.1, ``allianceld init`` into it (the shipped data), then one
``allianceld serve --production`` over it: the time of ``--writes`` contributions posted one after the
other (three NATO partnerships each, as ``bench_deployment``), and of ``--leases`` leases taken and
withdrawn in this process (the claim and the read of the claims: the two round trips a write adds).
Run it with the code of another version on ``PYTHONPATH`` to compare (the service inherits it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_deployment import _init, _service, _token, _writes
from bench_load import oxigraph_server, percentiles

from allianceld.store import write_lease, write_version
from allianceld.store.backends import SparqlBackend


def _leases(store: str, count: int) -> list[float]:
    """The time of taking the lease (claim, then read the claims), for ``count`` leases, each withdrawn."""
    backend = SparqlBackend(store + "/query", store + "/update")
    times = []
    for _ in range(count):
        start = time.perf_counter()
        held = write_lease.take(backend, write_version.new_token())
        times.append(time.perf_counter() - start)
        assert held is not None, "the lease is taken by another"
        write_lease.withdraw(backend, held)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=20, help="contributions (default 20)")
    parser.add_argument("--leases", type=int, default=50, help="leases taken and withdrawn (default 50)")
    args = parser.parse_args()
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-write-lease-"))
    tokens = work / "tokens.json"
    token = _token(tokens)
    times: list[float] = []
    statuses: dict[int, int] = {}
    try:
        with oxigraph_server(work / "oxigraph", work / "oxigraph.log") as store:
            _init(None, store, tokens)
            with _service(work, "a", None, store, tokens) as base:
                _writes(base, token, 0, args.writes, times, statuses)
            leases = _leases(store, args.leases)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")
    median, p95 = statistics.median(times) * 1000, percentiles(times)[1]
    print(f"contributions: n {len(times)}, median {median:.0f} ms, p95 {p95:.0f} ms, statuses {statuses}")
    p50, p95, _ = percentiles(leases)
    print(f"a lease taken (claim + read): n {len(leases)}, median {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
