"""OWL 2 RL closure of the shipped ontology + data: reasonable (as used by allianceld) vs owlrl,
measured in one run on this machine. Also times the whole validated load of the shipped data.

    .venv/bin/python benchmarks/bench_reasoning.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import owlrl
import rdflib

from allianceld import gate, reasoning
from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.validation import Validator

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    settings = Settings(store_path=None, home=ROOT)
    validator = Validator.from_settings(settings)
    sources = gate.shipped_sources(settings.ontology_file, settings.data_files())

    load_s = timed(lambda: gate.commit(KnowledgeBase(), validator, sources), repeat=3)
    kb = KnowledgeBase()
    gate.commit(kb, validator, sources)
    asserted = reasoning.without_identity_links(kb.rdflib_graph(kb.asserted_graphs()))

    def with_owlrl() -> None:
        g = rdflib.Graph()
        g += asserted
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)

    ours = timed(lambda: reasoning.rl_closure(asserted))
    theirs = timed(with_owlrl)
    print(f"shipped data: {len(asserted)} asserted triples (ontology + data, without owl:sameAs)")
    print(f"validated load of ontology + data (parse, SHACL, RL, commit): {load_s:.2f} s")
    print(f"RL closure, reasonable (+ chain/ifp rules): {ours:.3f} s")
    print(f"RL closure, owlrl:                          {theirs:.3f} s")
    print(f"ratio owlrl / allianceld: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
