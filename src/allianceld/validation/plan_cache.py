"""Which shapes compile, remembered between processes.

:func:`allianceld.validation.compiled.plan` compiles each shape with targets alone to learn which
ones fall back to pySHACL: about 0.1 s of every command that validates. When every shape compiles,
that fact is kept in the cache directory (:func:`allianceld.config.cache_directory`) as an empty
file named after what decides it: a digest of the shapes files (their paths, the base of their
relative IRIs, and their bytes), then one of allianceld's own code and the versions of Python,
pyoxigraph, rdflib and pyparsing. A later process with the same names takes every shape with
targets as compiled. Writing an entry removes the one of the same files made by other code, so
the folder keeps one entry per set of shapes files. A plan with a shape that falls back is worked
out at every start: its reasons may name the shapes graph's blank nodes, which every parse labels
anew.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pyparsing
import rdflib

from allianceld.config import cache_directory
from allianceld.validation.compiled import Plan, plan, targeted

_FORMAT = 1  # bumped when what a marker means changes


def remembered_plan(shapes: rdflib.Graph, sources: Iterable[Path]) -> Plan:
    """:func:`plan` of ``shapes``, the graph read from the files ``sources``; from the cache when
    every shape compiled the last time these files were planned by this code."""
    marker = _marker(sources)
    if marker is not None and marker.is_file():
        return Plan(tuple(targeted(shapes)), {})
    found = plan(shapes)
    if marker is not None and not found.fallback:
        with contextlib.suppress(OSError):  # not kept: planned again next time
            marker.parent.mkdir(parents=True, exist_ok=True)
            for older in marker.parent.glob(marker.name.rsplit("-", 1)[0] + "-*"):  # the same files, older code
                older.unlink(missing_ok=True)
            marker.touch()
    return found


def _marker(sources: Iterable[Path]) -> Path | None:
    """The file whose presence says every shape of ``sources`` compiles, named after the files and
    then the code (None: a file is unreadable)."""
    digest = hashlib.sha256(f"{_FORMAT}".encode())
    try:
        code = _code_digest()
        for path in sources:
            data = Path(path).read_bytes()
            digest.update(f"\n{Path(path).resolve()}\n{len(data)}\n".encode())
            digest.update(data)
    except OSError:
        return None
    return cache_directory() / "shapes" / f"plan-{digest.hexdigest()[:32]}-{code}"


@functools.cache
def _code_digest() -> str:
    """A digest of the code that compiles the shapes: allianceld's sources and the libraries' versions."""
    versions = f"{sys.version}/pyoxigraph {ox.__version__}/rdflib {rdflib.__version__}"
    digest = hashlib.sha256(f"{versions}/pyparsing {pyparsing.__version__}".encode())
    root = Path(__file__).resolve().parents[1]  # the allianceld package
    for source in sorted(root.rglob("*.py")):
        digest.update(f"\n{source.relative_to(root)}\n".encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]
