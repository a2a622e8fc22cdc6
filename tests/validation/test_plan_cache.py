"""Which shapes compile is remembered between processes only when every one does, and only for the
same shapes files, code and libraries (:mod:`allianceld.validation.plan_cache`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from allianceld.config import Settings
from allianceld.validation import compiled, plan_cache
from allianceld.validation.validator import Validator

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
COMPILES = "ex:Plain a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .\n"
# xsd:byte's lexical space is not checked by the compiler: a shape using it falls back
FALLS_BACK = "ex:Odd a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:size ; sh:datatype xsd:byte ] .\n"


@pytest.fixture
def plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[compiled.Plan]:
    """The plans worked out (not taken from the cache), with the cache in a folder of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    made: list[compiled.Plan] = []
    monkeypatch.setattr(plan_cache, "plan", lambda g: made.append(compiled.plan(g)) or made[-1])
    return made


def _validator(path: Path, shapes: str) -> Validator:
    path.write_text(PREFIXES + shapes, encoding="utf-8")
    return Validator([path], rdflib.Graph())


def test_the_shipped_shapes_are_planned_once_and_the_plan_is_the_same(
    plans: list[compiled.Plan], settings: Settings
) -> None:
    first = Validator(settings.shape_files(), rdflib.Graph())
    second = Validator(settings.shape_files(), rdflib.Graph())
    assert len(plans) == 1 and first.plan == second.plan == compiled.plan(second.shapes)
    assert second.plan.compiled and not second.plan.fallback


def test_a_plan_with_a_shape_that_falls_back_is_worked_out_every_time(
    plans: list[compiled.Plan], tmp_path: Path
) -> None:
    for _ in range(2):
        validator = _validator(tmp_path / "shapes.ttl", COMPILES + FALLS_BACK)
        assert [str(s) for s in validator.plan.fallback] == ["http://example.org/Odd"]
    assert len(plans) == 2
    assert not (tmp_path / "cache" / "allianceld" / "shapes").exists()


def test_a_changed_shapes_file_is_planned_anew(plans: list[compiled.Plan], tmp_path: Path) -> None:
    path = tmp_path / "shapes.ttl"
    assert not _validator(path, COMPILES).plan.fallback
    assert not _validator(path, COMPILES).plan.fallback and len(plans) == 1
    changed = _validator(path, COMPILES + FALLS_BACK)
    assert len(plans) == 2 and [str(s) for s in changed.plan.fallback] == ["http://example.org/Odd"]
    assert [str(s) for s in changed.plan.compiled] == ["http://example.org/Plain"]


def test_the_cache_entry_is_named_after_the_libraries_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "shapes.ttl"
    path.write_text(PREFIXES + COMPILES, encoding="utf-8")
    plan_cache._code_digest.cache_clear()
    before = plan_cache._marker([path])
    monkeypatch.setattr(plan_cache.ox, "__version__", "0.0.0")
    plan_cache._code_digest.cache_clear()
    try:
        assert plan_cache._marker([path]) != before
    finally:
        monkeypatch.undo()
        plan_cache._code_digest.cache_clear()


def test_an_entry_made_by_other_code_is_replaced(
    plans: list[compiled.Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shapes.ttl"
    _validator(path, COMPILES)
    monkeypatch.setattr(plan_cache, "_code_digest", lambda: "othercode")
    _validator(path, COMPILES)
    _validator(path, COMPILES)
    entries = list((tmp_path / "cache" / "allianceld" / "shapes").iterdir())
    assert len(plans) == 2 and [e.name.rsplit("-", 1)[-1] for e in entries] == ["othercode"]
