"""Reconciliation quality and speed on the shipped data: the Correlates of War state names
(``StateNme`` of the COW country-code list, other spellings than ours: "German Federal Republic",
"Republic of Korea") of the 65 shipped states, as given and with one typo each (two neighbouring
letters swapped), reconciled through POST /reconcile in batches; the COW names of the states that
are not in the data (any match is wrong); and the cost of building the index.

    .venv/bin/python benchmarks/bench_reconcile.py [--cow ../shared/data/external/cow-states/cow_country_codes.csv]

Prints, per variant: top-1 correct, auto-matched (``match: true``) and wrong matches; then the time
of one batch of all the queries and of an index build.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.web import create_app
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

ROOT = Path(__file__).resolve().parents[1]
COW = ROOT.parent / "shared" / "data" / "external" / "cow-states" / "cow_country_codes.csv"


def typo(name: str) -> str:
    """The name with two neighbouring letters in its middle swapped (deterministic)."""
    i = len(name) // 2
    if i < 1 or not (name[i - 1].isalpha() and name[i].isalpha()):
        return name
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cow", type=Path, default=COW, help="the COW country-code list (StateAbb,CCode,StateNme)")
    args = parser.parse_args()

    settings = Settings(store_path=None, home=ROOT)
    kb = KnowledgeBase()
    gate.commit(
        kb, WritePolicy.from_settings(settings), gate.shipped_sources(settings.ontology_file, settings.data_files())
    )
    app = create_app({"SETTINGS": settings, "KB": kb})
    client = app.test_client()

    by_cow = {}
    for row in kb.select("SELECT ?s ?c WHERE { ?s a ald:State ; ald:cowCode ?c }"):
        by_cow[int(row["c"])] = row["s"].rsplit("/id/", 1)[-1]
    names, others = {}, set()
    with args.cow.open(newline="") as f:
        for row in csv.DictReader(f):
            code = int(row["CCode"])
            if code in by_cow:
                names[by_cow[code]] = row["StateNme"]
            else:
                others.add(row["StateNme"])
    print(f"{len(names)} of {len(by_cow)} shipped states have a COW name")

    for variant, make in (("COW names", lambda n: n), ("COW names, one typo", typo)):
        queries = {
            f"q{i}": {"query": make(name), "type": "https://w3id.org/allianceld/ontology#State"}
            for i, name in enumerate(names.values())
        }
        start = time.perf_counter()
        resp = client.post("/reconcile", data={"queries": json.dumps(queries)})
        took = time.perf_counter() - start
        body = resp.get_json()
        correct = matched = wrong = 0
        for i, expected in enumerate(names):
            result = body[f"q{i}"]["result"]
            first = result[0] if result else None
            correct += bool(first and first["id"] == expected)
            matched += bool(first and first["match"] and first["id"] == expected)
            wrong += bool(first and first["match"] and first["id"] != expected)
            if not first or first["id"] != expected:
                print(f"  {make(names[expected])!r}: expected {expected}, got {first and first['id']}")
        n = len(names)
        print(
            f"{variant}: top-1 {correct}/{n}, matched {matched}/{n}, wrong matches {wrong}; "
            f"batch of {n} in {took * 1000:.0f} ms"
        )

    # states that are not in the data: any match is a wrong one
    queries = {f"q{i}": {"query": name} for i, name in enumerate(sorted(others))}
    body = client.post("/reconcile", data={"queries": json.dumps(queries)}).get_json()
    false = [
        (name, body[f"q{i}"]["result"][0]["id"]) for i, name in enumerate(sorted(others)) if _matched(body[f"q{i}"])
    ]
    print(f"COW states not in the data: {len(false)} of {len(others)} matched to something: {false}")

    big = {f"q{i}": {"query": typo(name)} for i, name in enumerate(list(names.values()) * 15)}
    start = time.perf_counter()
    client.post("/reconcile", data={"queries": json.dumps(big)})
    print(f"a batch of {len(big)} untyped queries: {(time.perf_counter() - start) * 1000:.0f} ms")
    reconciler = app.extensions["allianceld.reconcile"]
    start = time.perf_counter()
    for _ in range(10):
        reconciler.kb.version += 1  # as after a write
        reconciler.index()
    print(f"index build: {(time.perf_counter() - start) * 100:.1f} ms ({reconciler.builds} builds)")


def _matched(answer: dict) -> bool:
    return bool(answer["result"] and answer["result"][0]["match"])


if __name__ == "__main__":
    main()
