"""Validation cost as the store grows: a 100-triple contribution validated against on-disk stores
of generated alliance data (20k, 200k, 2M triples), incrementally (what every write does) and, at
the sizes where it finishes in reasonable time, with a full pySHACL run over store + contribution
(what validation cost before). Also the rate of bulk validation (all the generated data, as
`allianceld load` validates a file): allianceld's compiled SPARQL engine, and pySHACL where it
finishes in reasonable time; and the same file loaded again in place of its stored graph, which
the gate validates with the whole store (``Validator.validate_bulk``, a large write).

The contribution and the bulk validation are run again with one shape added to the shipped ones
that the compiler cannot compile, so pySHACL validates it (``docs/examples/shape-founders-join-early.ttl``,
a SPARQL constraint with LIMIT on alliances): the cost of a fallback shape. The two goals are
checked at the end: a contribution validated in at most 0.06 s at 2M triples with the shipped
shapes, bulk validation at least 100k triples/s with the compiled shapes.

    .venv/bin/python benchmarks/bench_validation.py [--sizes 20000,200000,2000000] [--full-max 200000] [--cap 600]

Bulk validation with the fallback shape runs in a forked child stopped after ``--cap`` seconds
(pySHACL runs the constraint once per alliance, over an rdflib copy of all the data); a run that
did not finish is printed as a bound ("< n triples/s").

The generated data is bulk-loaded into the store directly (it is generated valid); the
contribution goes through ``Validator.validate`` exactly as the write gate calls it.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate
from bench_reasoning import timed

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.scope import scope
from allianceld.validation.validator import Validator
from allianceld.vocab import data_graph_iri

ROOT = Path(__file__).resolve().parents[1]
FALLBACK_SHAPE = ROOT / "docs" / "examples" / "shape-founders-join-early.ttl"
CONTRIBUTION_GOAL = 0.06  # seconds, at 2M triples, with the shipped shapes
BULK_GOAL = 100_000  # triples/s, with the compiled shapes
FALLBACK_NAME = "https://example.org/curator-shapes#Alliance-foundersJoinEarly"
ID, ALD, ORG = generate.ID, generate.ALD, generate.ORG
PREFIXES = f"""@prefix id: <{ID}> . @prefix ald: <{ALD}> . @prefix org: <{ORG}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
"""


def contribution(states: list[str], start: str = "1990-06-01") -> rdflib.Graph:
    """A new alliance with a member from each of ``states`` (about 100 triples): each membership
    is checked against the alliance, the state (stored) and the source."""
    text = (
        PREFIXES
        + f"""
<{ID}alliance/bench-pact> a ald:MultilateralAlliance ; rdfs:label "Bench Pact"@en ;
    ald:foundingDate "1990-01-01"^^xsd:date ; prov:wasDerivedFrom <https://example.org/bench-source> .
<https://example.org/bench-source> dcterms:title "A source for the benchmark" .
"""
    )
    for i, state in enumerate(states):
        m = f"<{ID}membership/bench-pact-{i}>"
        text += (
            f"{m} a org:Membership ; org:member <{state}> ; org:organization <{ID}alliance/bench-pact> ;\n"
            f'    org:role ald:FoundingMember ; ald:startDate "{start}"^^xsd:date ;\n'
            f"    prov:wasDerivedFrom <https://example.org/bench-source> .\n"
        )
    return rdflib.Graph().parse(data=text, format="turtle")


def with_fallback(settings: Settings) -> Validator:
    """The shipped shapes and one that falls back to pySHACL (checked: it is not compiled)."""
    ontology = rdflib.Graph().parse(settings.ontology_file, format="turtle")
    validator = Validator([*settings.shape_files(), FALLBACK_SHAPE], ontology)
    assert [kind for _, kind, _ in validator.shape_plan()].count("fallback") == 1, validator.shape_plan()
    return validator


def _bulk_child(validator: Validator, triples: list[ox.Triple], out: mp.connection.Connection) -> None:
    start = time.perf_counter()
    accepted = validator.validate_triples(triples).accepted
    out.send((time.perf_counter() - start, accepted))


def capped_bulk_seconds(validator: Validator, triples: list[ox.Triple], cap: float) -> float | None:
    """Seconds ``validator`` takes over ``triples`` in a forked child (whose report must accept
    them), or None when it did not finish within ``cap`` seconds."""
    parent, child = mp.Pipe(duplex=False)
    proc = mp.get_context("fork").Process(target=_bulk_child, args=(validator, triples, child))
    proc.start()
    if parent.poll(cap):
        seconds, accepted = parent.recv()
        proc.join()
        assert accepted
        return seconds
    proc.kill()
    proc.join()
    return None


def run_size(
    size: int, validator: Validator, reference: Validator, slower: Validator, work: Path, full_max: int, cap: float
) -> dict[str, object]:
    triples = generate.generate(size, seed=0)
    count = len(triples)
    # first, before the store's threads start: the fallback shape over all the data, in a child
    seconds = capped_bulk_seconds(slower, triples, cap)
    fallback_bulk = count / seconds if seconds is not None else None
    kb = KnowledgeBase(work / f"store-{size}")
    kb.backend.store.extend(  # type: ignore[attr-defined]
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(data_graph_iri("synthetic"))) for t in triples
    )
    states = sorted({t.subject.value for t in triples if t.subject.value.startswith(ID + "state/")})[:13]
    start = time.perf_counter()
    bulk = validator.validate_triples(triples)
    bulk_rate = count / (time.perf_counter() - start)
    assert bulk.accepted, bulk.to_text()[:2000]
    start = time.perf_counter()  # the file loaded again beside what is stored, as the gate validates a large write
    again = validator.validate_bulk(triples, kb, replacing=[data_graph_iri("synthetic")])
    again_rate = count / (time.perf_counter() - start)
    assert again.accepted, again.to_text()[:2000]
    if count > full_max:
        del triples  # millions of Python objects would make every garbage collection slow
        gc.collect()
    good, bad = contribution(states), contribution(states, start="1980-01-01")  # before the founding
    target = [data_graph_iri("bench-contribution")]
    row: dict[str, object] = {"triples": count, "contribution": len(good)}

    report = validator.validate(good, kb, replacing=target)
    assert report.accepted, report.to_text()
    refused = validator.validate(bad, kb, replacing=target)
    assert len(refused.violations) == len(states), refused.to_text()  # each membership starts too early
    row["incremental"] = timed(lambda: validator.validate(good, kb, replacing=target), 5)
    late = slower.validate(contribution(states, start="2000-01-01"), kb, replacing=target)  # founders 10 years late
    assert [r.source_shape for r in late.violations].count(FALLBACK_NAME) == 1, late.to_text()  # LIMIT 1
    assert slower.validate(good, kb, replacing=target).accepted
    row["incremental fallback"] = timed(lambda: slower.validate(good, kb, replacing=target), 5)
    row["bulk fallback"] = fallback_bulk if fallback_bulk is not None else f"< {count / cap:,.0f}"
    found = scope(kb, good, target, validator.reach)
    assert found is not None
    row["scope"] = (len(found.focus), len(found.context))
    row["bulk"] = bulk_rate
    row["bulk in store"] = again_rate
    if count <= full_max:
        row["full"] = timed(lambda: reference.validate(good, kb, replacing=target, full=True), 1)
        start = time.perf_counter()
        assert reference.validate(formats.to_rdflib(triples)).accepted
        row["bulk pyshacl"] = count / (time.perf_counter() - start)
    kb.close()
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000,2000000")
    parser.add_argument("--full-max", type=int, default=250_000, help="largest store for the full pySHACL runs")
    parser.add_argument("--cap", type=float, default=600, help="seconds for bulk validation with the fallback shape")
    args = parser.parse_args(argv)
    settings = Settings(store_path=None, home=ROOT)
    validator, reference = Validator.from_settings(settings), Validator.from_settings(settings, engine="pyshacl")
    slower = with_fallback(settings)
    rows = []
    with tempfile.TemporaryDirectory(prefix="allianceld-bench-validation-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            row = run_size(size, validator, reference, slower, Path(tmp), args.full_max, args.cap)
            rows.append(row)
            print(f"  {row}", file=sys.stderr, flush=True)
    print(
        "| store (triples) | contribution | incremental validation | focus nodes / context triples "
        "| full pySHACL run | ratio | bulk validation (compiled SPARQL) | the same, replacing its stored graph "
        "| bulk validation (pySHACL) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        full, inc = r.get("full"), r["incremental"]
        cells = [
            f"{r['triples']:,}",
            f"{r['contribution']} triples",
            f"{inc:.3f} s",
            "{} / {}".format(*r["scope"]),  # type: ignore[misc]
            f"{full:.1f} s" if full else "not run",
            f"{full / inc:.0f}x" if full else "",  # type: ignore[operator]
            f"{r['bulk']:,.0f} triples/s",
            f"{r['bulk in store']:,.0f} triples/s",
            f"{r['bulk pyshacl']:,.0f} triples/s" if "bulk pyshacl" in r else "not run",
        ]
        print("| " + " | ".join(cells) + " |")
    print()
    print(
        "| store (triples) | contribution, shipped shapes | with one fallback shape | the fallback's cost "
        "| bulk, shipped shapes | bulk with one fallback shape |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        inc, slow = r["incremental"], r["incremental fallback"]
        cells = [
            f"{r['triples']:,}",
            f"{inc:.3f} s",
            f"{slow:.3f} s",
            f"+{slow - inc:.3f} s",  # type: ignore[operator]
            f"{r['bulk']:,.0f} triples/s",
            f"{r['bulk fallback']:,.0f} triples/s"
            if isinstance(r["bulk fallback"], float)
            else f"{r['bulk fallback']} triples/s (stopped after --cap s)",
        ]
        print("| " + " | ".join(cells) + " |")
    print()
    for line in goals(rows):
        print(line)


def goals(rows: list[dict[str, object]]) -> list[str]:
    """The two goals, met or not: a contribution in at most 0.06 s at the largest size (2M), bulk
    validation with the compiled shapes at least 100k triples/s at every size."""
    largest = max(rows, key=lambda r: r["triples"])  # type: ignore[arg-type,return-value]
    inc = float(largest["incremental"])  # type: ignore[arg-type]
    slowest = min(float(r["bulk"]) for r in rows)  # type: ignore[arg-type]
    return [
        f"goal: a contribution validated in at most {CONTRIBUTION_GOAL} s at {largest['triples']:,} triples: "
        f"{inc:.3f} s ({'met' if inc <= CONTRIBUTION_GOAL else 'NOT MET'})",
        f"goal: bulk validation at least {BULK_GOAL:,} triples/s with the compiled shapes: "
        f"{slowest:,.0f} triples/s at the slowest size ({'met' if slowest >= BULK_GOAL else 'NOT MET'})",
    ]


if __name__ == "__main__":
    main()
