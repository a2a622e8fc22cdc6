"""The per-write OWL 2 DL check with a JVM per check (HermiT's command line) and with the warm
HermiT worker, side by side: 50 small contributions (a new bilateral alliance with two founding
memberships of stored states, 17 triples) checked with ``dl_check.check_write`` on the shipped data
and on a generated store, p50 / p99 of the whole check and of its HermiT part.

    .venv/bin/python benchmarks/bench_dl_worker.py [--writes 50] [--generated 200000]

The shipped data is loaded through the write gate; the generated store straight into the store,
with its OWL 2 RL inferences. The command line is the worker's own fallback (``Worker.fallback``).
The worker's first check (start, compilation of ``HermitWorker.java``, HermiT's first run) is
reported apart from the 50.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.reasoning import dl_check, hermit, materialise
from allianceld.store import KnowledgeBase
from allianceld.vocab import ONTOLOGY_GRAPH, data_graph_iri
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

ROOT = Path(__file__).resolve().parents[1]
ID, ALD, ORG = generate.ID, generate.ALD, generate.ORG
TARGET = data_graph_iri("bench-dl-worker")


def contribution(i: int, a: str, b: str) -> list[ox.Triple]:
    """A new bilateral alliance of the stored states ``a`` and ``b``."""
    pact = f"{ID}alliance/bench-worker-{i}"
    text = f"""@prefix ald: <{ALD}> . @prefix org: <{ORG}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix prov: <http://www.w3.org/ns/prov#> .
<{pact}> a ald:BilateralAlliance ; rdfs:label "Bench pact {i}"@en ; ald:foundingDate "1990-01-01"^^xsd:date ;
    prov:wasDerivedFrom <https://example.org/bench-source> .
"""
    for j, state in enumerate((a, b)):
        text += (
            f"<{ID}membership/bench-worker-{i}-{j}> a org:Membership ; org:member <{state}> ;"
            f" org:organization <{pact}> ; org:role ald:FoundingMember ;"
            f' ald:startDate "1990-06-01"^^xsd:date ; prov:wasDerivedFrom <https://example.org/bench-source> .\n'
        )
    return formats.parse(text, ox.RdfFormat.TURTLE, source="bench")


def states_of(kb: KnowledgeBase) -> list[str]:
    rows = kb.query(f"SELECT DISTINCT ?s WHERE {{ ?s a <{ALD}State> }} ORDER BY ?s")
    return [row[0].value for row in rows]  # type: ignore[union-attr,index]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(kb: KnowledgeBase, writes: int, *, warm: bool) -> dict[str, float]:
    """p50 / p99 (seconds) of ``writes`` checks, each of a new contribution."""
    worker = hermit.Worker()
    if not warm:
        worker.fallback = "the benchmark's command-line side"
    states = states_of(kb)
    first = 0.0
    if warm:
        start = time.perf_counter()
        first_write = contribution(-1, states[0], states[1])
        assert dl_check.check_write(kb, None, first_write, [TARGET], worker=worker).consistent
        first = time.perf_counter() - start
    total, part = [], []
    for i in range(writes):
        a, b = states[(2 * i) % len(states)], states[(2 * i + 1) % len(states)]
        start = time.perf_counter()
        verdict = dl_check.check_write(kb, None, contribution(i, a, b), [TARGET], worker=worker)
        total.append(time.perf_counter() - start)
        assert verdict.consistent is True, verdict.message
        part.append(verdict.timings["hermit"])
    worker.close()
    return {
        "first": first,
        "p50": statistics.median(total),
        "p99": percentile(total, 0.99),
        "hermit p50": statistics.median(part),
        "hermit p99": percentile(part, 0.99),
        "module triples": float(verdict.module["dataTriples"]),
    }


def shipped(settings: Settings) -> KnowledgeBase:
    kb = KnowledgeBase()
    gate.commit(
        kb, WritePolicy.from_settings(settings), gate.shipped_sources(settings.ontology_file, settings.data_files())
    )
    return kb


def generated(size: int, settings: Settings) -> KnowledgeBase:
    kb = KnowledgeBase()
    kb.replace_graphs(
        {
            ONTOLOGY_GRAPH: formats.parse_file(settings.ontology_file),
            data_graph_iri("synthetic"): generate.generate(size, seed=0),
        }
    )
    materialise.materialise(kb)
    return kb


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--generated", type=int, default=200_000)
    args = parser.parse_args(argv)
    if hermit.java_missing():
        sys.exit(hermit.java_missing())
    settings = Settings(store_path=None, home=ROOT)
    print("| store | triples | module data triples | path | first check | p50 | p99 | HermiT p50 | HermiT p99 |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for name, kb in (("shipped", shipped(settings)), (f"generated {args.generated:,}", None)):
        kb = kb or generated(args.generated, settings)
        for warm in (False, True):
            r = measure(kb, args.writes, warm=warm)
            cells = [
                name,
                f"{kb.count():,}",
                f"{r['module triples']:.0f}",
                "warm worker" if warm else "command line",
                f"{r['first']:.2f} s" if warm else "",
                *(f"{r[k] * 1000:.0f} ms" for k in ("p50", "p99", "hermit p50", "hermit p99")),
            ]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
