"""Relative IRIs in files: a file is parsed with its own IRI as the base, unless it declares one."""

from __future__ import annotations

from pathlib import Path

import pytest

from allianceld.errors import RdfSyntaxError
from allianceld.rdf import formats

LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DOCUMENTS = {
    "doc.ttl": f'<> <{LABEL}> "doc" .\n<#x> <{LABEL}> "x" .\n',
    "doc.trig": f'{{ <> <{LABEL}> "doc" . <#x> <{LABEL}> "x" . }}\n',
    "doc.rdf": (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
        '<rdf:Description rdf:about=""><rdfs:label>doc</rdfs:label></rdf:Description>'
        '<rdf:Description rdf:about="#x"><rdfs:label>x</rdfs:label></rdf:Description></rdf:RDF>'
    ),
    "doc.jsonld": f'[{{"@id": "", "{LABEL}": "doc"}}, {{"@id": "#x", "{LABEL}": "x"}}]',
}


def labelled(triples) -> dict[str, str]:
    return {t.object.value: t.subject.value for t in triples}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_a_file_resolves_against_its_own_iri(tmp_path: Path, name: str) -> None:
    path = tmp_path / "sub" / ".." / name  # made absolute and normal: file:///…/doc.ttl
    (tmp_path / "sub").mkdir()
    path.write_text(DOCUMENTS[name], encoding="utf-8")
    iri = (tmp_path / name).resolve().as_uri()
    assert formats.file_iri(path) == iri and iri.startswith("file:///")
    assert labelled(formats.parse_file(path)) == {"doc": iri, "x": iri + "#x"}


def test_a_file_that_declares_its_base_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "based.ttl"
    path.write_text("@base <https://example.org/doc/> .\n" + DOCUMENTS["doc.ttl"], encoding="utf-8")
    assert labelled(formats.parse_file(path)) == {"doc": "https://example.org/doc/", "x": "https://example.org/doc/#x"}


def test_a_base_given_by_the_caller_wins_over_the_file_iri(tmp_path: Path) -> None:
    path = tmp_path / "doc.ttl"
    path.write_text(DOCUMENTS["doc.ttl"], encoding="utf-8")
    assert labelled(formats.parse_file(path, base_iri="https://example.org/d")) == {
        "doc": "https://example.org/d",
        "x": "https://example.org/d#x",
    }


def test_n_triples_takes_no_relative_iri_even_with_a_base(tmp_path: Path) -> None:
    path = tmp_path / "doc.nt"
    path.write_text(f'<x> <{LABEL}> "x" .\n', encoding="utf-8")
    with pytest.raises(RdfSyntaxError, match="No scheme found"):
        formats.parse_file(path)
