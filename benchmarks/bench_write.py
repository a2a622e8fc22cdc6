"""Writes, measured side by side in one run: contributions to a running server, bulk loads beside
Oxigraph's own loaders, and the ATOP 5.0 import.

    .venv/bin/python benchmarks/bench_write.py                        # all three parts
    .venv/bin/python benchmarks/bench_write.py --only contributions --writes 50
    .venv/bin/python benchmarks/bench_write.py --only load --sizes 20000 200000 --big   # --big adds 2M
    .venv/bin/python benchmarks/bench_write.py --only import
    .venv/bin/python benchmarks/bench_write.py --only contributions --only init --remote   # on `oxigraph serve`

*contributions*: ``allianceld serve --production`` on 127.0.0.1 over an on-disk store of the
shipped data, and of the shipped data plus generated triples (``generate.py``, seed 0, loaded with
``allianceld load``), with the OWL 2 DL check on (the default) and with ``ALLIANCELD_DL_CHECKS=off``.
One writer posts ``--writes`` contributions in a row, each of three memberships (as
``bench_load.py``'s writers post); the first write (which starts HermiT's worker) is reported apart.

*load*: ``allianceld load`` of a generated N-Triples file into a copy of the shipped-data store, a
subprocess timed end to end (Python's start, validation, OWL 2 RL, domain rules, provenance, one
transaction), with the DL check on and off; beside it, on the same file in the same run:
``oxigraph load`` (the Rust command line, atomic by default) into a new store directory, and
pyoxigraph's ``Store.bulk_load`` (not atomic) and ``Store.extend`` (atomic; the file parsed in
Python) into copies of the shipped-data store, timed around the call.

With ``--remote``, the contributions' server keeps its data in ``oxigraph serve`` (the same store
directory, opened by Oxigraph's own server on 127.0.0.1; allianceld over ``ALLIANCELD_SPARQL_QUERY_URL``
and ``_UPDATE_URL``) instead of embedding it.

*init*: ``allianceld init`` (ontology, shipped data, OWL 2 RL, domain rules) into a new embedded store
and into an empty ``oxigraph serve``, end to end, with the DL check off.

*import*: ``allianceld import atop --partial`` of the ATOP 5.0 files into a copy of the
shipped-data store, end to end, with the DL check on and off.

Each table is printed as Markdown, with the load average when its part started.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate
from bench_load import (
    ID,
    OXIGRAPH,
    STATES,
    _request,
    membership_turtle,
    oxigraph_server,
    percentiles,
    production_server,
    shipped_store,
)

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
TIMES = "\u00d7"
LOAD_GRAPH = "https://w3id.org/allianceld/graph/bench-write"


def load_average() -> str:
    """The machine's load average (1, 5 and 15 minutes) as text."""
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


@contextlib.contextmanager
def dl_checks(on: bool) -> Iterator[None]:
    """$ALLIANCELD_DL_CHECKS set to on or off for what starts inside (servers, commands)."""
    old = os.environ.get("ALLIANCELD_DL_CHECKS")
    os.environ["ALLIANCELD_DL_CHECKS"] = "on" if on else "off"
    try:
        yield
    finally:
        if old is None:
            del os.environ["ALLIANCELD_DL_CHECKS"]
        else:
            os.environ["ALLIANCELD_DL_CHECKS"] = old


def allianceld(store: Path, *args: str, dl: bool, timeout: float) -> tuple[float, str]:
    """Run ``allianceld --store store ARGS`` with the DL check on or off; (wall seconds, its
    output's first line that says what was written, else its last line). Stops the benchmark
    with the output when the command fails."""
    env = {**os.environ, "ALLIANCELD_DL_CHECKS": "on" if dl else "off"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "allianceld.cli", "--store", str(store), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    seconds = time.perf_counter() - start
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        sys.exit(f"allianceld {' '.join(args)} failed ({done.returncode}):\n{output[-2000:]}")
    lines = output.splitlines() or [""]
    return seconds, next((line for line in lines if "writing" in line or "loaded" in line), lines[-1])


class Workdir:
    """The stores and files the parts share, made once each in ``root``."""

    def __init__(self, root: Path, timeout: float) -> None:
        self.root = root
        self.timeout = timeout

    def shipped(self) -> Path:
        """A store of the shipped ontology and data (``allianceld init``)."""
        path = self.root / "shipped"
        if not path.exists():
            shipped_store(path)
        return path

    def generated(self, size: int) -> tuple[Path, int]:
        """An N-Triples file of about ``size`` generated triples (seed 0) and its exact count."""
        path = self.root / f"generated-{size}.nt"
        count = self.root / f"generated-{size}.count"
        if not count.exists():  # written after the file: an interrupted run makes it again
            triples = generate.generate(size, seed=0)
            generate.write_ntriples(triples, path)
            count.write_text(str(len(triples)))
        return path, int(count.read_text())

    def shipped_plus(self, size: int) -> Path:
        """A store of the shipped data plus ``size`` generated triples (``allianceld load``)."""
        path = self.root / f"shipped+{size}"
        if not path.exists():
            source, _ = self.generated(size)
            fresh = self.copy(self.shipped(), f"making-{size}")
            allianceld(fresh, "load", str(source), dl=False, timeout=self.timeout)
            fresh.rename(path)
        return path

    def fresh_folder(self, name: str) -> Path:
        """A new, empty folder named ``name``, replacing an older one."""
        target = self.root / name
        shutil.rmtree(target, ignore_errors=True)
        return target

    def copy(self, store: Path, name: str) -> Path:
        """A fresh copy of the (closed) store ``store`` named ``name``, replacing an older one."""
        target = self.root / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(store, target)
        return target


# -- contributions --------------------------------------------------------------------------------


@contextlib.contextmanager
def oxigraph_serve(location: Path | None) -> Iterator[None]:
    """``oxigraph serve`` on a free port of 127.0.0.1 over the store directory ``location`` (None:
    in memory), with $ALLIANCELD_SPARQL_QUERY_URL and _UPDATE_URL pointing at it for what starts inside."""
    names = ("ALLIANCELD_SPARQL_QUERY_URL", "ALLIANCELD_SPARQL_UPDATE_URL")
    old = {name: os.environ.get(name) for name in names}
    with oxigraph_server(location) as base:
        os.environ.update(dict(zip(names, (base + "/query", base + "/update"), strict=True)))
        try:
            yield
        finally:
            for name, value in old.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def contributions(work: Workdir, writes: int, size: int, *, remote: bool = False) -> None:
    """p50/p99 of ``writes`` contributions in a row, per store and DL setting (``remote``: the store
    served by ``oxigraph serve``)."""
    from allianceld.tokens import TokenStore

    where = "on `oxigraph serve`, " if remote else ""
    print(f"\n### Contributions ({where}{writes} in a row, 3 memberships each; {load_average()})\n")
    print("| store | DL check | first write | p50 | p95 | p99 | max | answered 201 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    stores = [("shipped data", work.shipped())]
    if size:
        stores.append((f"shipped + {size:,} generated", work.shipped_plus(size)))
    for index, (name, original) in enumerate(stores):
        for dl in (True, False):
            store = work.copy(original, "contributions")
            tokens = work.root / "tokens.json"
            token = TokenStore(tokens).create(f"bench-write-{os.getpid()}-{name}-{dl}", "contributor")
            served = oxigraph_serve(store) if remote else contextlib.nullcontext()
            with dl_checks(dl), served, production_server(store, tokens, log=work.root / "server.log") as base:
                latencies, statuses = post_contributions(
                    base, token, writes + 1, tag=f"s{index}-{'on' if dl else 'off'}"
                )
            first, rest = latencies[0], latencies[1:]
            p50, p95, p99 = percentiles(rest)
            ok = sum(1 for s in statuses if s == 201)
            cells = [
                name,
                "on" if dl else "off",
                f"{first * 1000:,.0f} ms",
                *(f"{v:,.0f} ms" for v in (p50, p95, p99, max(rest) * 1000)),
                f"{ok} of {len(statuses)}",
            ]
            print("| " + " | ".join(cells) + " |", flush=True)
            if ok != len(statuses):
                sys.exit("a contribution was refused: the figures are not those of accepted writes")


def post_contributions(base: str, token: str, count: int, *, tag: str) -> tuple[list[float], list[int]]:
    """Post ``count`` contributions one after the other; their latencies (s) and statuses."""
    latencies, statuses = [], []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
    for n in range(count):
        states = [STATES[(n * 3 + k) % len(STATES)] for k in range(3)]
        iris = [f"{ID}membership/bench-write-{tag}-{n}-{state}" for state in states]
        start = time.perf_counter()
        status, body = _request(
            base, "/contributions", accept="application/json", data=membership_turtle(iris, states, n), headers=headers
        )
        latencies.append(time.perf_counter() - start)
        statuses.append(status)
        if status != 201:
            print(f"  write {n}: {status} {body[:300].decode('utf-8', 'replace')}", file=sys.stderr)
    return latencies, statuses


def init_times(work: Workdir) -> None:
    """``allianceld init`` into a new embedded store and into an empty ``oxigraph serve``."""
    print(f"\n### allianceld init (DL check off; {load_average()})\n")
    print("| store | init |")
    print("|---|---:|")
    embedded, _ = allianceld(work.fresh_folder("init-embedded"), "init", dl=False, timeout=work.timeout)
    with oxigraph_serve(None):
        remote, _ = allianceld(work.fresh_folder("init-remote"), "init", dl=False, timeout=work.timeout)
    print(f"| embedded | {embedded:.2f} s |")
    print(f"| oxigraph serve | {remote:.2f} s ({remote / embedded:.1f}{TIMES}) |", flush=True)


# -- bulk loads -----------------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    """Wall seconds of ``action()``."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def pyoxigraph_load(work: Workdir, source: Path, count: int, *, atomic: bool) -> float:
    """Seconds of ``Store.extend`` (atomic, parsed in Python) or ``Store.bulk_load`` of ``source``
    into a named graph of a copy of the shipped-data store, flushed; checks the store grew."""
    store = ox.Store(str(work.copy(work.shipped(), "pyoxigraph")))
    before = len(store)
    graph = ox.NamedNode(LOAD_GRAPH)

    def extend() -> None:
        quads = ox.parse(path=str(source), format=ox.RdfFormat.N_TRIPLES)
        store.extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads)

    def bulk_load() -> None:
        store.bulk_load(path=str(source), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        store.flush()

    seconds = timed(extend if atomic else bulk_load)
    grew = len(store) - before  # the store closes when the function returns
    if grew != count:
        sys.exit(f"pyoxigraph {'extend' if atomic else 'bulk_load'} added {grew} quads, not {count}")
    return seconds


def bulk_loads(work: Workdir, sizes: list[int]) -> None:
    """``allianceld load`` with the DL check on and off beside Oxigraph's loaders, per size."""
    if not OXIGRAPH.exists():
        sys.exit(f"no {OXIGRAPH}: install the dev extra (the oxigraph package)")
    for size in sizes:
        source, count = work.generated(size)
        shipped = work.shipped()
        print(f"\n### Bulk load of {count:,} generated triples ({load_average()})\n")
        rows: list[tuple[str, float, str]] = []
        for dl in (True, False):
            seconds, last = allianceld(work.copy(shipped, "load"), "load", str(source), dl=dl, timeout=work.timeout)
            rows.append((f"`allianceld load`, DL check {'on' if dl else 'off'}", seconds, last))
        fresh = work.root / "oxigraph-load"
        shutil.rmtree(fresh, ignore_errors=True)
        cmd = [str(OXIGRAPH), "load", "--location", str(fresh), "--file", str(source)]
        seconds = timed(functools.partial(subprocess.run, cmd, check=True, capture_output=True))
        rows.append(("`oxigraph load` (new store)", seconds, ""))
        rows.append(("pyoxigraph `Store.extend` (atomic)", pyoxigraph_load(work, source, count, atomic=True), ""))
        rows.append(("pyoxigraph `Store.bulk_load`", pyoxigraph_load(work, source, count, atomic=False), ""))
        on, off = rows[0][1], rows[1][1]
        print("| loader | seconds | triples/s | allianceld (DL on) ÷ this | allianceld (DL off) ÷ this |")
        print("|---|---:|---:|---:|---:|")
        for name, seconds, _ in rows:
            ratios = f"{on / seconds:.1f}{TIMES} | {off / seconds:.1f}{TIMES}"
            print(f"| {name} | {seconds:,.2f} | {count / seconds:,.0f} | {ratios} |")
        for name, _, last in rows[:2]:
            print(f"\n{name}: {last}")
        version = [sys.executable, "-m", "allianceld.cli", "--version"]
        started = timed(functools.partial(subprocess.run, version, capture_output=True))
        print(f"\nallianceld's start alone (`allianceld --version`): {started:.2f} s")


# -- the ATOP import ------------------------------------------------------------------------------


def atop_import(work: Workdir, external: Path) -> None:
    """``allianceld import atop`` of the ATOP 5.0 files into a copy of the shipped-data store."""
    files = [
        external / "atop" / "atop5_0a.csv",
        external / "atop" / "atop5_0m.csv",
        external / "cow-crosswalk" / "cow_iso_wikidata_geonames_crosswalk.csv",
    ]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        sys.exit(f"missing: {', '.join(missing)}")
    print(f"\n### ATOP 5.0 import ({load_average()})\n")
    print("| DL check | `allianceld import atop --partial` | its report |")
    print("|---|---:|---|")
    for dl in (True, False):
        store = work.copy(work.shipped(), "import")
        report = work.root / "atop-report.csv"
        seconds, last = allianceld(
            store, "import", "atop", "--partial", "--report", str(report), *map(str, files), dl=dl, timeout=work.timeout
        )
        print(f"| {'on' if dl else 'off'} | {seconds:,.1f} s | {last} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", choices=["contributions", "init", "load", "import"], action="append", help="parts to run"
    )
    parser.add_argument("--remote", action="store_true", help="contributions to a store served by `oxigraph serve`")
    parser.add_argument("--writes", type=int, default=50, help="contributions per setting (default 50)")
    parser.add_argument(
        "--generated", type=int, default=200_000, help="generated triples beside the shipped data for contributions"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000], help="bulk load sizes")
    parser.add_argument("--big", action="store_true", help="also load 2,000,000 triples (long)")
    parser.add_argument("--external", type=Path, default=EXTERNAL, help="the folder holding atop/ and cow-crosswalk/")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a command may take (default 1800)")
    parser.add_argument("--workdir", type=Path, help="where stores and files go (kept; default: a temporary folder)")
    args = parser.parse_args(argv)
    parts = args.only or ["contributions", "load", "import"]
    with contextlib.ExitStack() as stack:
        root = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-write-")))
        root.mkdir(parents=True, exist_ok=True)
        work = Workdir(root, args.timeout)
        print(f"bench_write: {', '.join(parts)}; {os.cpu_count()} cores; {load_average()}")
        if "contributions" in parts:
            contributions(work, args.writes, args.generated, remote=args.remote)
        if "init" in parts:
            init_times(work)
        if "load" in parts:
            bulk_loads(work, [*args.sizes, *([2_000_000] if args.big else [])])
        if "import" in parts:
            atop_import(work, args.external)


if __name__ == "__main__":
    main()
