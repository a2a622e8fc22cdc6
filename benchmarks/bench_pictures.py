"""Latency of the pictures' data endpoints (an alliance's timeline, the network of states on a day,
a state's network, the chart of alliances per decade) through the Flask test client, on the shipped
data, on the shipped data plus generated data, and on the shipped data plus the ATOP 5.0 import.

    .venv/bin/python benchmarks/bench_pictures.py                  # shipped, + 200k generated, + ATOP
    .venv/bin/python benchmarks/bench_pictures.py --sizes 20000 --no-atop

The shipped data goes through the write gate (validated, reasoned). Generated data
(``benchmarks/generate.py``) and the ATOP records (``allianceld.importers.atop.build`` over
``../shared/data/external/atop``) are written directly beside it, with the types implied by
``rdfs:subClassOf`` computed by a SPARQL update instead of the reasoner (as ``bench_pages.py``
does), so the figures are the endpoints', not the import's. Each figure is the median of five
requests after one warm-up, in memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, data_graph_iri
from allianceld.web import create_app
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

ROOT = Path(__file__).resolve().parents[1]
ATOP_DIR = ROOT.parent / "shared" / "data" / "external"
sys.path.insert(0, str(Path(__file__).parent))
from bench_pages import SUBCLASS_TYPES, median_ms  # noqa: E402
from generate import generate  # noqa: E402

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}
REQUESTS = [
    ("/alliances/nato/timeline", JSON),
    ("/alliances/{largest}/timeline", JSON),
    ("/network.json?date=1990-01-01", JSON),
    ("/network.json?date=2000-01-01", JSON),
    ("/network?date=1990-01-01", HTML),
    ("/states/usa/network?date=2000-01-01", JSON),
    ("/states/{busiest}/network?date=2000-01-01", JSON),
    ("/charts/data", JSON),
    ("/charts", HTML),
]
# the alliance with the most memberships, and the state with the most
LARGEST = """SELECT ?a (COUNT(?m) AS ?n) WHERE { ?m org:organization ?a } GROUP BY ?a ORDER BY DESC(?n) ?a LIMIT 1"""
BUSIEST = """SELECT ?s (COUNT(?m) AS ?n) WHERE { ?m org:member ?s } GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT 1"""


def held(resp) -> str:  # type: ignore[no-untyped-def]
    """What a JSON answer holds: states and links, memberships, or chart bars."""
    body = resp.get_json() if resp.is_json else None
    if body is None:
        return ""
    if "nodes" in body:
        return f"{len(body['nodes'])} states, {len(body['edges'])} links"
    if "items" in body:
        return f"{body['total']} memberships"
    return f"{sum(len(d['counts']) for d in body['decades'])} bars"


def report(title: str, kb: KnowledgeBase, settings: Settings) -> None:
    client = create_app({"SETTINGS": settings, "KB": kb, "TESTING": True}).test_client()
    slugs = {
        "largest": kb.select(LARGEST)[0]["a"].rsplit("/", 1)[-1],
        "busiest": kb.select(BUSIEST)[0]["s"].rsplit("/", 1)[-1],
    }
    print(f"\n{title}: {kb.count()} quads")
    print(f"{'request':48} {'Accept':17} {'ms':>9} {'bytes':>10}  holds")
    for url, headers in REQUESTS:
        url = url.format(**slugs)
        ms, resp = median_ms(client, url, headers)
        print(f"{url:48} {headers['Accept']:17} {ms:9.1f} {len(resp.data):10d}  {held(resp)}", flush=True)


def atop_triples(kb: KnowledgeBase) -> list:  # type: ignore[type-arg]
    """The ATOP 5.0 import's triples, matched against the curated states of ``kb``."""
    from allianceld.importers import atop

    paths = [
        ATOP_DIR / "atop" / "atop5_0a.csv",
        ATOP_DIR / "atop" / "atop5_0m.csv",
        ATOP_DIR / "cow-states" / "cow_country_codes.csv",
    ]
    return sorted(set(atop.build(kb, paths).triples), key=str)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[200_000], help="generated triples (default 200000)")
    parser.add_argument("--no-atop", action="store_true", help="leave out the ATOP import")
    args = parser.parse_args()
    settings = Settings(store_path=None, home=ROOT)
    write_policy = WritePolicy.from_settings(settings)
    shipped = gate.shipped_sources(settings.ontology_file, settings.data_files())

    def fresh() -> KnowledgeBase:
        kb = KnowledgeBase()
        gate.commit(kb, write_policy, shipped)
        return kb

    report("shipped data", fresh(), settings)
    for size in args.sizes:
        kb = fresh()
        graph = data_graph_iri("generated")
        kb.write({graph: generate(size, seed=0)})
        kb.write({}, then=[SUBCLASS_TYPES.format(inferred=INFERRED_GRAPH, graph=graph)])
        report(f"shipped data + {size} generated triples", kb, settings)
    if not args.no_atop:
        kb = fresh()
        start = time.perf_counter()
        triples = atop_triples(kb)
        graph = data_graph_iri("atop")
        kb.write({graph: triples})
        kb.write({}, then=[SUBCLASS_TYPES.format(inferred=INFERRED_GRAPH, graph=graph)])
        print(f"\n(ATOP 5.0: {len(triples)} triples built and written in {time.perf_counter() - start:.1f} s)")
        report("shipped data + ATOP 5.0", kb, settings)


if __name__ == "__main__":
    main()
