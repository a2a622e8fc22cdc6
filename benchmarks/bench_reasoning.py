"""Reasoning at scale, measured in one run on this machine.

1. The OWL 2 RL closure of the ontology + generated data (benchmarks/generate.py) at each size:
   allianceld's full closure (``reasonable`` plus its own chain / functional / inverse-functional
   rules) side by side with ``owlrl``, both from the same rdflib graph. ``owlrl`` runs in a child
   process and is stopped after ``--owlrl-cap`` seconds (the ratio is then a lower bound).
2. Keeping inferences current: an on-disk store holding the same data with its inferences (OWL 2
   RL and the domain rules of ontology/rules/); a ~100-triple contribution (a new alliance with
   13 members) is written through the gate and then retracted. Reported: the time the write spends
   on reasoning (incremental OWL 2 RL, planning the rules' updates, and the write with the rules'
   updates minus the same write without them), the whole validated write, and the full
   recomputation it replaces.

    .venv/bin/python benchmarks/bench_reasoning.py                 # 20k and 200k
    .venv/bin/python benchmarks/bench_reasoning.py 20000 200000 2000000
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import owlrl
import pyoxigraph as ox
import rdflib

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.reasoning import materialise
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, data_graph_iri
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from generate import ID, generate  # noqa: E402


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _owlrl_child(graph: rdflib.Graph, out: mp.connection.Connection) -> None:
    start = time.perf_counter()
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    out.send(time.perf_counter() - start)


def owlrl_seconds(graph: rdflib.Graph, cap: float) -> tuple[float, bool]:
    """owlrl's closure time of ``graph`` in a forked child; (cap, False) when it did not finish."""
    parent, child = mp.Pipe(duplex=False)
    proc = mp.get_context("fork").Process(target=_owlrl_child, args=(graph, child))
    proc.start()
    if parent.poll(cap):
        seconds = parent.recv()
        proc.join()
        return seconds, True
    proc.kill()
    proc.join()
    return cap, False


def closure_row(size: int, ontology: rdflib.Graph, cap: float) -> dict[str, object]:
    graph = formats.to_rdflib(generate(size, seed=0))
    graph += ontology
    graph = materialise.without_identity_links(graph)
    ours = timed(lambda: materialise.rl_closure(graph), 1 if size > 500_000 else 3)
    theirs, finished = owlrl_seconds(graph, cap)
    row = {"triples": len(graph), "allianceld": ours, "owlrl": theirs, "finished": finished}
    return row


def upkeep_row(size: int, settings: Settings, write_policy: WritePolicy, work: Path) -> dict[str, object]:
    from bench_validation import contribution  # it imports timed() from here

    triples = generate(size, seed=0)
    kb = KnowledgeBase(work / f"store-{size}")
    store = kb.backend.store  # type: ignore[attr-defined]
    ontology = formats.parse_file(settings.ontology_file)
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(ONTOLOGY_GRAPH)) for t in ontology)
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(data_graph_iri("synthetic"))) for t in triples)
    kb.version += 1
    states = sorted({t.subject.value for t in triples if t.subject.value.startswith(ID + "state/")})[:13]
    count = len(triples)
    del triples
    gc.collect()

    start = time.perf_counter()
    inferred, _ = materialise.inferred_graph(kb.rdflib_graph(kb.knowledge_graphs()))
    inferred_triples = formats.from_rdflib(inferred)
    del inferred
    rl_full = time.perf_counter() - start
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(INFERRED_GRAPH)) for t in inferred_triples)
    kb.version += 1
    start = time.perf_counter()
    updates = materialise.rule_updates(kb, write_policy.rules, kb.knowledge_graphs(), None, inferred=inferred_triples)
    kb.write(updates.graphs, then=updates.ops, keep=updates.graphs)
    rules_full = time.perf_counter() - start
    store.optimize()
    gc.collect()

    data = formats.from_rdflib(contribution(states))
    graph = data_graph_iri("bench-contribution")
    source = [gate.Source(graph, data, "benchmark")]
    retract = [gate.Source(graph, [], "benchmark")]
    rl, plan, write_with, write_without, total, retraction = [], [], [], [], [], []
    for _ in range(5):
        # the parts of a reasoned write, timed one by one
        start = time.perf_counter()
        change = materialise.maintain(kb, {graph: data})
        rl.append(time.perf_counter() - start)
        knowledge = sorted({*kb.knowledge_graphs(), graph})
        start = time.perf_counter()
        ops = materialise.rule_updates(kb, write_policy.rules, knowledge, change, {graph: data}).ops
        plan.append(time.perf_counter() - start)
        start = time.perf_counter()
        kb.write({graph: data}, remove={INFERRED_GRAPH: change.removed}, add={INFERRED_GRAPH: change.added}, then=ops)
        write_with.append(time.perf_counter() - start)
        start = time.perf_counter()
        gate.commit(kb, write_policy, retract)
        retraction.append(time.perf_counter() - start)
        # the same write without the rules' updates, undone
        start = time.perf_counter()
        kb.write({graph: data}, remove={INFERRED_GRAPH: change.removed}, add={INFERRED_GRAPH: change.added})
        write_without.append(time.perf_counter() - start)
        kb.write({graph: []}, remove={INFERRED_GRAPH: change.added}, add={INFERRED_GRAPH: change.removed})
        # the whole validated, reasoned write through the gate, undone
        start = time.perf_counter()
        gate.commit(kb, write_policy, source)
        total.append(time.perf_counter() - start)
        gate.commit(kb, write_policy, retract)
    med = statistics.median
    reasoning_s = med(rl) + med(plan) + max(0.0, med(write_with) - med(write_without))
    kb.close()
    return {
        "triples": count,
        "inferred": len(inferred_triples),
        "contribution": len(data),
        "rl": med(rl),
        "plan": med(plan),
        "rules write": med(write_with) - med(write_without),
        "reasoning": reasoning_s,
        "commit": med(total),
        "retract": med(retraction),
        "rl full": rl_full,
        "rules full": rules_full,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[20_000, 200_000])
    parser.add_argument("--upkeep", nargs="*", type=int, help="sizes for part 2 (default: the same)")
    parser.add_argument("--closure", nargs="*", type=int, help="sizes for part 1 (default: the same)")
    parser.add_argument("--owlrl-cap", type=float, default=1800.0, help="seconds owlrl may run per size")
    args = parser.parse_args(argv)
    settings = Settings(store_path=None, home=ROOT)
    write_policy = WritePolicy.from_settings(settings)
    ontology = rdflib.Graph().parse(settings.ontology_file)

    print("OWL 2 RL closure of ontology + generated data (seconds, median)")
    print(f"{'triples':>10} {'allianceld':>11} {'owlrl':>10} {'ratio':>8}")
    for size in args.closure if args.closure is not None else args.sizes:
        r = closure_row(size, ontology, args.owlrl_cap)
        ratio = r["owlrl"] / r["allianceld"]  # type: ignore[operator]
        bound = "" if r["finished"] else ">"
        print(
            f"{r['triples']:>10,} {r['allianceld']:>11.2f} {bound:>1}{r['owlrl']:>9.1f} {bound:>1}{ratio:>6.1f}x",
            flush=True,
        )

    print("\nkeeping inferences current after a contribution (seconds, median of 5)")
    cols = ["triples", "inferred", "contribution", "rl", "plan", "rules write", "reasoning", "commit", "retract"]
    print(" ".join(f"{c:>12}" for c in [*cols, "rl full", "rules full"]))
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.upkeep if args.upkeep is not None else args.sizes:
            r = upkeep_row(size, settings, write_policy, Path(tmp))
            print(
                " ".join(
                    f"{r[c]:>12,}" if isinstance(r[c], int) else f"{r[c]:>12.3f}"
                    for c in [*cols, "rl full", "rules full"]
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
