"""The per-write OWL 2 DL check as the store grows: a ~100-triple contribution (a new alliance
with 13 memberships of stored states) checked with ``dl_check.check_write`` against in-memory
stores of generated alliance data, consistent and inconsistent (one of the states also typed as an
alliance); and the classification of the ontology, cold and cached.

    .venv/bin/python benchmarks/bench_dl_check.py [--sizes 20000,200000] [--no-materialise] [--full-max 0]

The generated data is loaded with the ontology straight into the store (it is generated valid);
the OWL 2 RL inferences are materialised first unless ``--no-materialise`` (the check then also
reads the inferred graph's types). ``--full-max N`` also times HermiT over the whole store
(``reasoning.kb_consistency``, what a per-write check must not do) up to N triples.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.reasoning import dl_check
from allianceld.reasoning import materialise as reasoning
from allianceld.store import KnowledgeBase
from allianceld.vocab import ONTOLOGY_GRAPH, data_graph_iri

ROOT = Path(__file__).resolve().parents[1]
ID, ALD, ORG = generate.ID, generate.ALD, generate.ORG
TARGET = data_graph_iri("bench-contribution")


def contribution(states: list[str]) -> list[ox.Triple]:
    """A new alliance with a founding membership of each of ``states`` (100 triples for 13 states)."""
    pact = f"{ID}alliance/bench-dl-pact"
    text = f"""@prefix ald: <{ALD}> . @prefix org: <{ORG}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix prov: <http://www.w3.org/ns/prov#> .
<{pact}> a ald:MultilateralAlliance ; rdfs:label "Bench DL Pact"@en ; ald:foundingDate "1990-01-01"^^xsd:date ;
    ald:headquarters "Nowhere" ; prov:wasDerivedFrom <https://example.org/bench-dl-source> ;
    ald:benefit ald:CollectiveDefence , ald:Deterrence , ald:Interoperability , ald:ResourcePooling .
"""
    for i, state in enumerate(states):
        text += (
            f"<{ID}membership/bench-dl-pact-{i}> a org:Membership ;\n"
            f"    org:member <{state}> ; org:organization <{pact}> ;\n"
            f'    org:role ald:FoundingMember ; ald:startDate "1990-06-01"^^xsd:date ; rdfs:label "member {i}"@en ;\n'
            f"    prov:wasDerivedFrom <https://example.org/bench-dl-source> .\n"
        )
    return formats.parse(text, ox.RdfFormat.TURTLE, source="bench")


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """The median wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_size(size: int, settings: Settings, materialise: bool, full_max: int) -> dict[str, object]:
    triples = generate.generate(size, seed=0)
    kb = KnowledgeBase()
    kb.replace_graphs(
        {ONTOLOGY_GRAPH: formats.parse_file(settings.ontology_file), data_graph_iri("synthetic"): triples}
    )
    row: dict[str, object] = {"triples": kb.count()}
    if materialise:
        start = time.perf_counter()
        reasoning.materialise(kb)
        row["materialise"] = time.perf_counter() - start
    states = sorted({t.subject.value for t in triples if t.subject.value.startswith(ID + "state/")})[:13]
    good = contribution(states)
    bad = [
        *good,
        ox.Triple(ox.NamedNode(states[0]), ox.NamedNode(generate.RDF + "type"), ox.NamedNode(ALD + "Alliance")),
    ]
    row["write"] = len(good)
    seconds, verdict = timed(lambda: dl_check.check_write(kb, None, good, [TARGET]), 5)
    assert isinstance(verdict, dl_check.WriteConsistency) and verdict.consistent is True, verdict
    row["consistent"], row["module"], row["timings"] = seconds, verdict.module, verdict.timings
    seconds, verdict = timed(lambda: dl_check.check_write(kb, None, bad, [TARGET]), 3)
    assert isinstance(verdict, dl_check.WriteConsistency) and verdict.consistent is False, verdict
    assert verdict.explanation is not None and verdict.explanation.individuals == [states[0]]
    row["inconsistent"] = seconds
    if row["triples"] <= full_max:  # type: ignore[operator]
        start = time.perf_counter()
        whole = reasoning.kb_consistency(kb)
        row["whole store"] = (time.perf_counter() - start, whole.consistent)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--no-materialise", action="store_true")
    parser.add_argument("--full-max", type=int, default=0, help="time HermiT over the whole store up to this size")
    args = parser.parse_args(argv)
    if dl_check.java_missing():
        sys.exit(dl_check.java_missing())
    settings = Settings(store_path=None, home=ROOT)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = run_size(size, settings, not args.no_materialise, args.full_max)
        rows.append(row)
        print(f"  {row}", file=sys.stderr, flush=True)

    ontology = KnowledgeBase()
    ontology.replace_graphs({ONTOLOGY_GRAPH: formats.parse_file(settings.ontology_file)})
    onto = ontology.rdflib_graph([ONTOLOGY_GRAPH])
    dl_check._classify.cache_clear()
    with tempfile.TemporaryDirectory() as tmp:
        cold, result = timed(lambda: dl_check.classify(onto, cache_dir=Path(tmp)), 1)
        assert isinstance(result, dl_check.Classification) and result.available, result
        memory, _ = timed(lambda: dl_check.classify(onto), 5)
        dl_check._classify.cache_clear()
        disk, _ = timed(lambda: dl_check.classify(onto, cache_dir=Path(tmp)), 5)

    print(
        "| store (triples) | write | module: touched / neighbours / data triples | consistent write "
        "(module + HermiT) | inconsistent write, explained | whole store, HermiT |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m, t = r["module"], r["timings"]
        whole = r.get("whole store")
        cells = [
            f"{r['triples']:,}",
            f"{r['write']} triples",
            f"{m['touched']} / {m['neighbours']} / {m['dataTriples']}",  # type: ignore[index]
            f"{r['consistent']:.2f} s ({t['module']:.2f} + {t['hermit']:.2f})",  # type: ignore[index]
            f"{r['inconsistent']:.2f} s",
            f"{whole[0]:.1f} s" if whole else "not run",  # type: ignore[index]
        ]
        print("| " + " | ".join(cells) + " |")
    print(
        f"\nclassification of the ontology: {cold:.2f} s cold, {memory * 1000:.0f} ms cached in memory, "
        f"{disk * 1000:.0f} ms from the disk cache"
    )


if __name__ == "__main__":
    main()
