"""The domain rules of ontology/rules/: time of a full recomputation of every rule, and the number
of triples each derives, on the shipped data and on generated data; and the time of one
focus-node recomputation after a small write.

    .venv/bin/python benchmarks/bench_rules.py            # shipped data and 200k generated triples
    .venv/bin/python benchmarks/bench_rules.py 20000 2000000

The stores are in memory and hold the ontology, the data and, in the inferred graph, the types
implied by rdfs:subClassOf (the one kind of OWL 2 RL inference the rules need: their focus
classes are ald:State and ald:Alliance, while records are typed by subclasses), computed by a
SPARQL update instead of the reasoner.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

from allianceld.reasoning import domain_rules as rules
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, data_graph_iri

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from generate import generate  # noqa: E402

SUBCLASS_TYPES = """INSERT {{ GRAPH {inferred} {{ ?x a ?super }} }}
{using}WHERE {{ ?x a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>+ ?super . FILTER (isIRI(?super)) }}"""


def store(graphs: dict[str, list[ox.Triple]]) -> tuple[KnowledgeBase, list[str]]:
    """An in-memory store with ``graphs`` and their subclass types in the inferred graph; the
    graphs the rules read."""
    kb = KnowledgeBase()
    kb.replace_graphs(graphs)
    using = "".join(f"USING {ox.NamedNode(g)}\n" for g in graphs)
    kb.backend.update(SUBCLASS_TYPES.format(inferred=ox.NamedNode(INFERRED_GRAPH), using=using))
    return kb, [*graphs, INFERRED_GRAPH]


def run_all(kb: KnowledgeBase, domain_rules: list[rules.DomainRule], using: list[str]) -> dict[str, float]:
    """Recompute every rule in order; seconds per rule."""
    seconds: dict[str, float] = {}
    reads = list(using)
    for rule in domain_rules:
        start = time.perf_counter()
        kb.backend.update(rules.full_update(rule, reads))
        seconds[rule.name] = time.perf_counter() - start
        reads.append(rule.graph)
    return seconds


def report(title: str, graphs: dict[str, list[ox.Triple]], domain_rules: list[rules.DomainRule]) -> None:
    """Median of three fresh stores: the first full recomputation (empty rule graphs) and a
    second one (each rule's graph dropped and written again); then one focus recomputation."""
    first, again = [], []
    for _ in range(3):
        kb, using = store(graphs)
        size = kb.count()
        first.append(run_all(kb, domain_rules, using))
        again.append(run_all(kb, domain_rules, using))
    print(f"\n{title}: {size} quads before the rules")
    print(f"  {'rule':36} {'derived':>8}  {'first run':>9}  {'again':>8}")
    for rule in domain_rules:
        one = statistics.median(r[rule.name] for r in first)
        two = statistics.median(r[rule.name] for r in again)
        print(f"  {rule.name:36} {kb.count(rule.graph):>8}  {one:8.3f}s  {two:7.3f}s")
    one = statistics.median(sum(r.values()) for r in first)
    two = statistics.median(sum(r.values()) for r in again)
    print(f"  {'all rules':36} {'':>8}  {one:8.3f}s  {two:7.3f}s")
    kb, using = store(graphs)
    run_all(kb, domain_rules, using)
    focus_timing(kb, domain_rules, using)


def focus_timing(kb: KnowledgeBase, domain_rules: list[rules.DomainRule], using: list[str]) -> None:
    """End one membership of the alliance with the most memberships on the day it began, and
    recompute only the affected focus nodes of each rule, in the same update (as the write path
    would); then check that the rules' graphs equal a full recomputation."""
    rows = kb.query(
        "SELECT ?m ?start WHERE { ?m <http://www.w3.org/ns/org#organization> ?a ; "
        "<https://w3id.org/allianceld/ontology#startDate> ?start . "
        "{ SELECT ?a (COUNT(*) AS ?n) WHERE { ?x <http://www.w3.org/ns/org#organization> ?a } "
        "GROUP BY ?a ORDER BY DESC(?n) LIMIT 1 } } LIMIT 1"
    )
    assert isinstance(rows, ox.QuerySolutions)
    row = next(iter(rows))
    membership, start = row["m"], row["start"]
    graph = next(g for g in using if kb.match([membership], graphs=[g], limit=1))
    end = ox.Triple(membership, ox.NamedNode("https://w3id.org/allianceld/ontology#endDate"), start)
    before = time.perf_counter()
    foci = {rule.name: sorted(rules.affected_foci(kb, rule, [membership]), key=str) for rule in domain_rules}
    found = time.perf_counter() - before
    parts = [f"INSERT DATA {{ GRAPH {ox.NamedNode(graph)} {{ {end} }} }}"]  # the write, then the rules
    reads = list(using)
    for rule in domain_rules:
        text = rules.focus_update(rule, reads, foci[rule.name], [membership])
        if text:
            parts.append(text)
        reads.append(rule.graph)
    start_s = time.perf_counter()
    kb.backend.update(" ;\n".join(parts))
    update_s = time.perf_counter() - start_s
    incremental = {rule.name: set(kb.triples(rule.graph)) for rule in domain_rules}
    run_all(kb, domain_rules, using)
    assert incremental == {rule.name: set(kb.triples(rule.graph)) for rule in domain_rules}
    print(
        f"  focus recomputation after a change to one membership ({membership}): "
        f"affected_foci {found:.3f} s ({sum(len(f) for f in foci.values())} foci), one update {update_s:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[200_000], help="generated triples (default 200000)")
    args = parser.parse_args()
    domain_rules = rules.load_rules(ROOT / "ontology" / "rules")
    ontology = [q.triple for q in ox.parse(path=str(ROOT / "ontology" / "allianceld.ttl"))]

    shipped = {ONTOLOGY_GRAPH: ontology}
    for path in sorted((ROOT / "data").glob("*.ttl")):
        shipped[data_graph_iri(path.stem)] = [q.triple for q in ox.parse(path=str(path))]
    report("shipped data", shipped, domain_rules)
    for size in args.sizes:
        generated = {ONTOLOGY_GRAPH: ontology, data_graph_iri("generated"): generate(size, seed=0)}
        report(f"generated data, generate({size}, seed=0)", generated, domain_rules)


if __name__ == "__main__":
    main()
