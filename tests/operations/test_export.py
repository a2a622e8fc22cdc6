"""Whole-dataset exports: N-Quads, TriG and Turtle per graph, each loads back into a fresh store
as exactly the quads of the store it came from, and its VoID counts match the dump."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.operations import export
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, VOID, is_inferred_graph

BASE = "http://127.0.0.1:8000/"
VOID_TRIPLES = ox.NamedNode(str(VOID.triples))
VOID_SUBSET = ox.NamedNode(str(VOID.subset))
DATASET = ox.NamedNode(BASE + ".well-known/void#dataset")


def store_quads(kb: KnowledgeBase, *, inference: bool = True) -> set[ox.Quad]:
    return set(kb.quads(kb.graphs() if inference else kb.asserted_graphs()))


def split(quads) -> tuple[set[ox.Quad], list[ox.Triple]]:
    """The data quads of a dump and the triples of its VoID graph."""
    data, void = set(), []
    for q in quads:
        if q.graph_name == ox.NamedNode(export.VOID_GRAPH):
            void.append(q.triple)
        else:
            data.add(q)
    return data, void


def void_counts(void: list[ox.Triple], dataset: ox.NamedNode = DATASET) -> tuple[int, dict[str, int]]:
    """The dataset's void:triples and each subset graph's void:triples."""
    triples = {t.subject: int(t.object.value) for t in void if t.predicate == VOID_TRIPLES}
    subsets = {t.object for t in void if t.subject == dataset and t.predicate == VOID_SUBSET}
    return triples[dataset], {s.value: triples[s] for s in subsets if "#" not in s.value}


def canonical(quads) -> set[ox.Quad]:
    """Quads with their blank nodes named by RDFC-1.0, to compare datasets that a loader renamed."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def check_void(data: set[ox.Quad], void: list[ox.Triple], dataset: ox.NamedNode = DATASET) -> None:
    """The VoID description counts what the dump holds: each graph's quads, and the distinct
    triples of the asserted graphs (the dataset's void:triples)."""
    total, per_graph = void_counts(void, dataset)
    in_dump = Counter(q.graph_name.value for q in data)
    assert per_graph == dict(in_dump)
    assert total == len({q.triple for q in data if not is_inferred_graph(q.graph_name.value)})


def test_nquads_round_trip_with_void(shared_kb: KnowledgeBase) -> None:
    with export.consistent_view(shared_kb) as view:
        body = b"".join(export.nquads_export(view, base=BASE))
    data, void = split(ox.parse(body, format=ox.RdfFormat.N_QUADS))
    assert data == store_quads(shared_kb)
    assert {q.graph_name.value for q in data} == set(shared_kb.graphs())
    assert {ONTOLOGY_GRAPH, INFERRED_GRAPH} <= set(shared_kb.graphs())
    check_void(data, void)
    dumps = [t.object for t in void if t.predicate == ox.NamedNode(str(VOID.dataDump))]
    assert dumps == [ox.NamedNode(BASE + "dump")]


def test_without_inference(shared_kb: KnowledgeBase) -> None:
    with export.consistent_view(shared_kb) as view:
        body = b"".join(export.nquads_export(view, base=BASE, inference=False))
    data, void = split(ox.parse(body, format=ox.RdfFormat.N_QUADS))
    assert data == store_quads(shared_kb, inference=False)
    assert not any(is_inferred_graph(q.graph_name.value) for q in data)
    check_void(data, void)


def test_loads_into_another_store(shared_kb: KnowledgeBase, tmp_path: Path) -> None:
    """Another store's own bulk loader and a fresh KnowledgeBase (both rename blank nodes) hold
    the same dataset, compared canonicalised (RDFC-1.0)."""
    with export.consistent_view(shared_kb) as view:
        body = b"".join(export.nquads_export(view, base=BASE))
    (tmp_path / "dump.nq").write_bytes(body)
    other = ox.Store(str(tmp_path / "other"))
    other.bulk_load(path=str(tmp_path / "dump.nq"), format=ox.RdfFormat.N_QUADS)
    loaded = canonical(q for q in other if q.graph_name != ox.NamedNode(export.VOID_GRAPH))
    assert loaded == canonical(store_quads(shared_kb))
    copy = KnowledgeBase()
    data, _ = split(ox.parse(body, format=ox.RdfFormat.N_QUADS))
    assert copy.load_dataset(ox.serialize(data, format=ox.RdfFormat.N_QUADS) or b"") == shared_kb.graphs()
    assert canonical(store_quads(copy)) == canonical(store_quads(shared_kb))


def test_turtle_per_graph(shared_kb: KnowledgeBase, tmp_path: Path) -> None:
    with export.consistent_view(shared_kb) as view:
        export.write_directory(export.turtle_files(view, base=BASE), tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {e["graph"] for e in manifest["graphs"]} == set(shared_kb.graphs())
    assert len({e["file"] for e in manifest["graphs"]}) == len(manifest["graphs"])
    for entry in manifest["graphs"]:
        assert entry["triples"] == shared_kb.count(entry["graph"])
    dataset = export.read_turtle_export(tmp_path / "out")
    assert set(dataset) == store_quads(shared_kb)
    void = list(ox.parse((tmp_path / "out" / manifest["void"]).read_bytes(), format=ox.RdfFormat.TURTLE))
    check_void(set(dataset), void)


# -- GET /dump ----------------------------------------------------------------------------------


def test_dump_nquads_by_default(client, shared_kb: KnowledgeBase) -> None:
    resp = client.get("/dump")
    assert resp.status_code == 200
    assert resp.mimetype == "application/n-quads"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="allianceld-')
    assert resp.headers["Content-Disposition"].endswith('.nq"')
    assert 'rel="describedby"' in resp.headers["Link"]
    data, void = split(ox.parse(resp.data, format=ox.RdfFormat.N_QUADS))
    assert data == store_quads(shared_kb)
    public = client.application.config["SETTINGS"].public_url  # configured, never the Host header
    check_void(data, void, ox.NamedNode(public + ".well-known/void#dataset"))


def test_dump_trig_by_accept(client, shared_kb: KnowledgeBase) -> None:
    resp = client.get("/dump?inference=false", headers={"Accept": "application/trig"})
    assert resp.status_code == 200 and resp.mimetype == "application/trig"
    assert "-asserted.trig" in resp.headers["Content-Disposition"]
    data, _ = split(ox.parse(resp.data, format=ox.RdfFormat.TRIG))
    assert data == store_quads(shared_kb, inference=False)


def test_dump_turtle_zip(client, shared_kb: KnowledgeBase, tmp_path: Path) -> None:
    resp = client.get("/dump?format=turtle")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert resp.headers["Content-Disposition"].endswith('.zip"')
    (tmp_path / "dump.zip").write_bytes(resp.data)
    with zipfile.ZipFile(io.BytesIO(resp.data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
    assert "manifest.json" in names and "void.ttl" in names
    assert set(export.read_turtle_export(tmp_path / "dump.zip")) == store_quads(shared_kb)
    by_accept = client.get("/dump", headers={"Accept": "application/zip"})
    assert by_accept.mimetype == "application/zip"


@pytest.mark.parametrize(
    ("query", "headers", "status", "parameter"),
    [
        ("format=rdfxml", {}, 400, "format"),
        ("inference=maybe", {}, 400, "inference"),
        ("", {"Accept": "text/html"}, 406, None),
    ],
)
def test_dump_bad_requests(client, query: str, headers: dict, status: int, parameter: str | None) -> None:
    resp = client.get(f"/dump?{query}", headers=headers)
    assert resp.status_code == status
    if parameter:
        body = resp.get_json()
        assert body["parameter"] == parameter and parameter in body["message"]


# -- a consistent state while writes go on ------------------------------------------------------


def _write(kb: KnowledgeBase) -> None:
    t = ox.Triple(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), ox.Literal("new"))
    kb.write({}, add={ONTOLOGY_GRAPH: [t]})  # the last graph of an export


def test_dump_is_one_state_of_an_on_disk_store(site) -> None:
    """A write made while /dump streams is not in it; the checkpoint is deleted afterwards."""
    before = site.kb.dump()
    resp = site.client.get("/dump", buffered=False)
    chunks = iter(resp.response)
    first = next(chunks)  # the checkpoint is taken before the first chunk
    _write(site.kb)
    body = first + b"".join(chunks)
    resp.close()
    data, _ = split(ox.parse(body, format=ox.RdfFormat.N_QUADS))
    assert ox.serialize(sorted(data, key=str), format=ox.RdfFormat.N_QUADS) == before
    assert site.kb.dump() != before
    exports = site.kb.path.parent / f".{site.kb.path.name}.exports"
    assert not any(exports.iterdir())


def test_in_memory_view_is_a_copy(loaded_kb: KnowledgeBase) -> None:
    before = loaded_kb.dump()
    with export.consistent_view(loaded_kb) as view:
        _write(loaded_kb)
        assert view.dump() == before
    assert loaded_kb.dump() != before


# -- allianceld export --------------------------------------------------------------------------


def test_cli_export(tmp_path: Path, small_store: KnowledgeBase, runner) -> None:
    from allianceld.cli import main

    small_store.snapshot(tmp_path / "store")
    store = str(tmp_path / "store")
    kb = KnowledgeBase(tmp_path / "store", read_only=True)
    try:
        expected = store_quads(kb)
        asserted = store_quads(kb, inference=False)
    finally:
        kb.close()
    result = runner.invoke(main, ["--store", store, "export", str(tmp_path / "dump.nq")])
    assert result.exit_code == 0, result.output
    assert f"exported {len(expected)} quads" in result.output
    data, void = split(ox.parse((tmp_path / "dump.nq").read_bytes(), format=ox.RdfFormat.N_QUADS))
    assert data == expected
    check_void(data, void)
    result = runner.invoke(
        main, ["--store", store, "export", "--format", "turtle", "--no-inference", str(tmp_path / "out.zip")]
    )
    assert result.exit_code == 0, result.output
    assert set(export.read_turtle_export(tmp_path / "out.zip")) == asserted
    stdout = runner.invoke(main, ["--store", store, "export", "--format", "trig"])
    assert stdout.exit_code == 0
    assert split(ox.parse(stdout.stdout_bytes, format=ox.RdfFormat.TRIG))[0] == expected
    missing = runner.invoke(main, ["--store", store, "export", "--format", "turtle"])
    assert missing.exit_code == 2 and "OUTPUT" in missing.output


def test_well_known_void_points_to_the_dump(client) -> None:
    body = client.get("/.well-known/void", headers={"Accept": "application/n-triples"}).get_data(as_text=True)
    public = client.application.config["SETTINGS"].public_url
    assert f"<{public}.well-known/void#dataset> <http://rdfs.org/ns/void#dataDump> <{public}dump> ." in body


def test_export_of_a_remote_store(kb: KnowledgeBase, shared_kb: KnowledgeBase) -> None:
    """Embedded and remote (`oxigraph serve`) stores export the same way."""
    graphs = {g: shared_kb.triples(g) for g in shared_kb.graphs() if "data/" in g}
    kb.replace_graphs(graphs)
    with export.consistent_view(kb) as view:
        data, void = split(ox.parse(b"".join(export.nquads_export(view, base=BASE)), format=ox.RdfFormat.N_QUADS))
    assert canonical(data) == canonical(q for g in graphs for q in shared_kb.quads([g]))
    check_void(data, void)
