"""POST /import/<kind> through the Flask client: the files streamed to disk, written through the
same functions as `allianceld load` and `import`, refused whole (401, 403, 413, 400, 422)."""

from __future__ import annotations

import io
from pathlib import Path

from allianceld.operations import remote_write
from allianceld.store import KnowledgeBase
from allianceld.web import bodies
from conftest import TEST_DATA, Site, open_site

VALID = TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl"
INVALID = TEST_DATA / "invalid" / "membership-missing-start.ttl"
MINE = "https://w3id.org/allianceld/graph/user/test-pact"
PACT = "<https://w3id.org/allianceld/id/alliance/test-pact>"


def _post(site: Site, paths: list[Path], query: str = "", token: str | None = None, cut: int = 0):
    """POST ``paths`` as the command line does; ``cut`` bytes fewer than announced (the client went away)."""
    content_type, length, pieces = remote_write.body(paths, with_base=True)
    data = b"".join(pieces)
    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {token}"} if token else {})
    return site.client.post(
        f"/import/rdf{query}",
        input_stream=io.BytesIO(data[: len(data) - cut]),
        headers=headers,
        environ_overrides={"CONTENT_LENGTH": str(length)},  # as announced, whatever arrives
    )


def _has_pact(kb: KnowledgeBase) -> bool:
    return bool(kb.query(f"ASK {{ {PACT} ?p ?o }}", inference=False))


def test_a_contributor_loads_a_file_into_a_graph_of_their_own(site: Site) -> None:
    resp = _post(site, [VALID], f"?graph={MINE}", site.contributor)
    assert resp.status_code == 200, resp.json
    answer = resp.json
    assert answer["code"] == 0 and answer["failure"] is None
    assert answer["lines"][-1][0].startswith("loaded ") and answer["lines"][-1][0].endswith(f"into {MINE}")
    assert _has_pact(site.kb) and MINE in site.kb.graphs()


def test_without_a_valid_token_nothing_is_read_or_written(site: Site) -> None:
    assert _post(site, [VALID], f"?graph={MINE}").status_code == 401
    assert _post(site, [VALID], f"?graph={MINE}", "not-a-token").status_code == 401
    curated = "https://w3id.org/allianceld/graph/data/nato"
    refused = _post(site, [VALID], f"?graph={curated}", site.contributor)
    assert refused.status_code == 403 and "admin" in refused.json["message"]
    assert not _has_pact(site.kb)


def test_invalid_data_is_refused_with_the_report_and_exit_code_1(site: Site) -> None:
    resp = _post(site, [INVALID], f"?graph={MINE}", site.contributor)
    assert resp.status_code == 422
    answer = resp.json
    assert answer["code"] == 1
    text = "\n".join(line for line, err in answer["lines"] if err)
    assert "Membership-startDate" in text and "membership/test-pact-xta" in text
    assert "refused: nothing was written" in text
    assert not _has_pact(site.kb)


def test_a_syntax_error_names_the_file_as_the_client_knows_it(site: Site, tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text("<a> <b> .\n", encoding="utf-8")
    answer = _post(site, [bad], f"?graph={MINE}", site.contributor).json
    assert answer["code"] == 2 and str(bad) in answer["failure"] and "upload" not in answer["failure"]


def test_a_body_over_the_request_limit_is_streamed_to_disk(tmp_path: Path, small_store: KnowledgeBase) -> None:
    """A file four times the size every other endpoint takes is accepted here (its body never
    passes through the in-memory reader of every other request), and refused over the import limit."""
    site = open_site(tmp_path, small_store, max_body_bytes=64 * 1024, max_import_bytes=1024 * 1024)
    try:
        big = tmp_path / "big.ttl"
        padding = "".join(f"# padding line {i:06d} {'x' * 40}\n" for i in range(256 * 1024 // 60))
        big.write_text(padding + VALID.read_text(encoding="utf-8"), encoding="utf-8")
        assert big.stat().st_size > 4 * 64 * 1024
        elsewhere = site.client.post(f"/data?graph={MINE}", data=big.read_bytes(), headers=site.auth(site.contributor))
        assert elsewhere.status_code == 413  # the limit of every other body
        assert "imports.upload" in bodies.STREAMED
        resp = _post(site, [big], f"?graph={MINE}", site.contributor)
        assert resp.status_code == 200, resp.json
        assert _has_pact(site.kb)

        huge = tmp_path / "huge.ttl"
        huge.write_text(padding * 5, encoding="utf-8")
        over = _post(site, [huge], "?graph=https://w3id.org/allianceld/graph/user/other", site.contributor)
        assert over.status_code == 413 and "ALLIANCELD_MAX_IMPORT_BYTES" in over.json["message"]
        assert not list(tmp_path.glob("store.upload-*"))  # the uploads' files are gone
    finally:
        site.app.extensions["allianceld"].close()
        site.kb.close()


class _Recorded(io.BytesIO):
    """A request body that notes the largest piece asked of it at once."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 1 << 62)
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 1 << 62)
        return super().readline(size)


def test_the_body_is_read_in_pieces_of_64_kib(site: Site, tmp_path: Path) -> None:
    """Memory is bounded by construction: the connection is never asked for more than 64 KiB at
    once, whatever the body's size (here 1 MiB)."""
    big = tmp_path / "big.ttl"
    big.write_text("# padding\n" * (2**20 // 10) + VALID.read_text(encoding="utf-8"), encoding="utf-8")
    content_type, length, pieces = remote_write.body([big], with_base=True)
    stream = _Recorded(b"".join(pieces))
    resp = site.client.post(
        f"/import/rdf?graph={MINE}",
        input_stream=stream,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {site.contributor}"},
    )
    assert resp.status_code == 200, resp.json
    assert length > 2**20 and stream.tell() == length and 0 < stream.largest <= 64 * 1024


def test_an_upload_cut_short_writes_nothing(site: Site) -> None:
    for cut in (1, 200):  # without the closing boundary; in the middle of the file
        resp = _post(site, [VALID], f"?graph={MINE}", site.contributor, cut=cut)
        assert resp.status_code == 400, resp.json
    assert not _has_pact(site.kb)


def test_each_file_needs_its_name(site: Site) -> None:
    resp = site.client.post(
        f"/import/rdf?graph={MINE}",
        data={"file": (io.BytesIO(VALID.read_bytes()), "x.ttl")},
        headers={"Authorization": f"Bearer {site.contributor}"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and "'name'" in resp.json["message"]
    unknown = site.client.post("/import/xml", headers={"Authorization": f"Bearer {site.contributor}"})
    assert unknown.status_code == 404
    assert not _has_pact(site.kb)
