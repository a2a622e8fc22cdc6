"""Import time of the full ATOP 5.0 release and the COW v4.1 directed-dyad file (terminated
alliances only) into an on-disk store holding the shipped data, through the write gate.

    .venv/bin/python benchmarks/bench_import.py [--external ../shared/data/external] [--dl-checks on|off]

For each data set: building the RDF from the CSV files, the write through the gate (SHACL
validation with the store's data, the OWL 2 DL check when on, OWL 2 RL and domain-rule upkeep, the
transaction), and a second import of the same files (which must leave the store unchanged: the
dump is compared). Prints the counts of alliances, members and memberships in each import graph.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--external", type=Path, default=ROOT.parent / "shared" / "data" / "external")
    parser.add_argument("--dl-checks", choices=["on", "off"], default=os.environ.get("ALLIANCELD_DL_CHECKS", "on"))
    args = parser.parse_args()
    os.environ["ALLIANCELD_DL_CHECKS"] = args.dl_checks

    from allianceld.config import Settings
    from allianceld.importers import atop, commit_import, cow
    from allianceld.store import KnowledgeBase
    from allianceld.write import gate
    from allianceld.write.write_policy import WritePolicy

    x = args.external
    crosswalk = x / "cow-crosswalk" / "cow_iso_wikidata_geonames_crosswalk.csv"
    jobs = {
        "atop": (atop, [x / "atop" / "atop5_0a.csv", x / "atop" / "atop5_0m.csv", crosswalk]),
        "cow": (cow, [x / "cow-alliances-dyadr" / "alliance_v4.1_by_directed_terminated_only.csv", crosswalk]),
    }
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        settings = Settings(store_path=Path(tmp) / "store", home=ROOT)
        kb = KnowledgeBase(settings.store_path)
        write_policy = WritePolicy.from_settings(settings)
        start = time.perf_counter()
        gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, settings.data_files()))
        print(
            f"shipped data loaded in {time.perf_counter() - start:.1f} s ({kb.count()} quads); "
            f"DL checks {'on' if write_policy.dl_checks else 'off'}"
        )
        for name, (module, files) in jobs.items():
            start = time.perf_counter()
            imp = module.build(kb, files)
            built = time.perf_counter() - start
            start = time.perf_counter()
            result = commit_import(kb, write_policy, imp, partial=True)  # the published files leave rows out
            written = time.perf_counter() - start
            dump = kb.dump()
            start = time.perf_counter()
            commit_import(kb, write_policy, module.build(kb, files), partial=True)
            again = time.perf_counter() - start
            same = kb.dump() == dump
            rows = kb.select(
                "SELECT (COUNT(DISTINCT ?a) AS ?alliances) (COUNT(DISTINCT ?s) AS ?members) "
                "(COUNT(DISTINCT ?m) AS ?memberships) WHERE { GRAPH ?g { ?m org:organization ?a ; org:member ?s } }",
                named_graph_uris=[imp.graph],
            )
            r = rows[0]
            print(
                f"{name}: {result.triples} triples; {r['alliances']} alliances with memberships, "
                f"{r['members']} members, "
                f"{r['memberships']} memberships; {imp.counts.get('linked to curated', 0)} linked to curated, "
                f"{imp.counts.get('new states', 0)} new states, {len(imp.skipped)} rows left out"
            )
            reasoning = result.reasoning
            print(
                f"  build {built:.1f} s; write through the gate {written:.1f} s "
                f"(reasoning {reasoning.seconds if reasoning else 0:.1f} s, "
                f"{reasoning.reasoner if reasoning else '-'}); "
                f"re-import {again:.1f} s, store unchanged: {same}"
            )
        kb.close()


if __name__ == "__main__":
    sys.exit(main())
