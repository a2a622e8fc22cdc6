"""Time of the Linked Data pages and listings (/id/..., /ontology, /alliances, /states) through
the Flask test client, on the shipped data and on the shipped data plus generated data.

    .venv/bin/python benchmarks/bench_pages.py               # shipped data, then + 200k generated triples
    .venv/bin/python benchmarks/bench_pages.py 20000 2000000
    .venv/bin/python benchmarks/bench_pages.py --table-limit 5000   # the network table's former limit
    .venv/bin/python benchmarks/bench_pages.py --atop 0     # shipped data + the whole ATOP 5.0 record only

The shipped data goes through the write gate (validated, reasoned); generated data is written
directly beside it with the types implied by rdfs:subClassOf in the inferred graph (what the
listings read: alliances are typed by subclasses of ald:Alliance), computed by a SPARQL update
instead of the reasoner. Each figure is the median of five requests after one warm-up, each made as
after a write (the store's version moved on: nothing kept for the version before is used), and beside
it the same request answered from the page the service keeps until the next write.
"""

from __future__ import annotations

import argparse
import statistics
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
sys.path.insert(0, str(Path(__file__).parent))
from generate import generate  # noqa: E402

SUBCLASS_TYPES = """INSERT {{ GRAPH <{inferred}> {{ ?x a ?super }} }}
USING <{graph}> USING <https://w3id.org/allianceld/graph/ontology>
WHERE {{ ?x a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>+ ?super . FILTER (isIRI(?super)) }}"""

BROWSER = {"Accept": "text/html"}
TURTLE = {"Accept": "text/turtle"}
JSON = {"Accept": "application/json"}
REQUESTS = [
    ("/id/state/usa", BROWSER),
    ("/id/state/usa", TURTLE),
    ("/id/alliance/nato", BROWSER),
    ("/id/region/europe", BROWSER),
    ("/ontology", BROWSER),
    ("/ontology", TURTLE),
    ("/alliances", JSON),
    ("/alliances?active_on=1990-01-01&type=multilateral", JSON),
    ("/states", JSON),
    ("/states?active_on=2000-01-01", JSON),
    ("/states?alliance=nato&active_on=1990-01-01", BROWSER),
    ("/states/usa/alliances?year=2008", JSON),
    # the pictures' pages (their sizes: every page under about 1 MB)
    ("/network?date=2000-01-01", BROWSER),
    ("/network?date=2000-01-01&obligation=any", BROWSER),
    ("/network.json?date=2000-01-01", JSON),
    ("/states/usa/network?date=2000-01-01", BROWSER),
    ("/charts", BROWSER),
    ("/reasoning", BROWSER),
    ("/id/state/rus", BROWSER),
    ("/alliances", BROWSER),
]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
ATOP_FILES = [
    EXTERNAL / "atop" / "atop5_0a.csv",
    EXTERNAL / "atop" / "atop5_0m.csv",
    EXTERNAL / "cow-crosswalk" / "cow_iso_wikidata_geonames_crosswalk.csv",
]


def median_ms(client, kb: KnowledgeBase, url: str, headers: dict[str, str], repeat: int = 5, *, built: bool = True):  # type: ignore[no-untyped-def]
    """The median time in ms of ``repeat`` requests after a warm-up, and the warm-up's answer;
    ``built``: each one as after a write (the store's version moved on, so that nothing kept for
    the version before is used: kept pages, listings' and names' caches), else from the kept page."""
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, (url, resp.status_code, resp.data[:300])
    times = []
    for _ in range(repeat):
        if built:
            kb.version += 1
        start = time.perf_counter()
        client.get(url, headers=headers)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, resp


def report(title: str, kb: KnowledgeBase, settings: Settings) -> None:
    client = create_app({"SETTINGS": settings, "KB": kb, "TESTING": True}).test_client()
    print(f"\n{title}: {kb.count()} quads")
    print(f"{'request':58} {'Accept':18} {'built ms':>9} {'kept ms':>8} {'bytes':>9}")
    for url, headers in REQUESTS:
        ms, resp = median_ms(client, kb, url, headers)
        kept, _ = median_ms(client, kb, url, headers, built=False)
        print(f"{url:58} {headers['Accept']:18} {ms:9.1f} {kept:8.1f} {len(resp.data):9d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[200_000], help="generated triples (default 200000)")
    parser.add_argument("--table-limit", type=int, help="the links a network page lists (to compare with another)")
    parser.add_argument("--atop", action="store_true", help="also the shipped data with the whole ATOP 5.0 import")
    args = parser.parse_args()
    if args.table_limit:
        from allianceld.web.views import pictures

        pictures.TABLE_LIMIT = args.table_limit
    settings = Settings(store_path=None, home=ROOT)
    write_policy = WritePolicy.from_settings(settings)
    shipped = gate.shipped_sources(settings.ontology_file, settings.data_files())
    kb = KnowledgeBase()
    gate.commit(kb, write_policy, shipped)
    report("shipped data", kb, settings)
    if args.atop:  # the whole record, as `allianceld import atop --partial` writes it (one row is left out)
        from allianceld import importers
        from allianceld.importers import atop

        kb = KnowledgeBase()
        gate.commit(kb, write_policy, shipped)
        start = time.perf_counter()
        importers.commit_import(kb, write_policy, atop.build(kb, ATOP_FILES), partial=True)
        print(f"\nATOP 5.0 imported in {time.perf_counter() - start:.1f} s")
        report("shipped data + the ATOP 5.0 import", kb, settings)
    for size in args.sizes:
        kb = KnowledgeBase()
        gate.commit(kb, write_policy, shipped)
        graph = data_graph_iri("generated")
        kb.write({graph: generate(size, seed=0)})
        kb.write({}, then=[SUBCLASS_TYPES.format(inferred=INFERRED_GRAPH, graph=graph)])
        report(f"shipped data + {size} generated triples", kb, settings)


if __name__ == "__main__":
    main()
