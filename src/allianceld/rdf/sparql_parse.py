"""rdflib's SPARQL parse of a query text, done once per text and kept on disk between processes.

The shapes' SPARQL constraints and the domain rules are read with rdflib's parser (their algebra
is walked to compile the shapes and to follow the rules): about 40 texts, 1.3 s of every
process that writes, most of a command's start. A text's parse tree is kept, pickled, in memory and
in the user's cache directory (:func:`allianceld.config.cache_directory`) under a key made of the
text and the versions of rdflib and pyparsing; each caller gets a copy of its own, since
rdflib's translation to algebra changes the tree it is given. A cache entry that cannot be read
is parsed again and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import tempfile
from typing import Any

import pyparsing
import rdflib
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue, Expr
from rdflib.plugins.sparql.sparql import Query

from allianceld.config import cache_directory

log = logging.getLogger(__name__)

_FORMAT = 1  # bumped when what is pickled changes
_VERSIONS = f"{_FORMAT}/rdflib {rdflib.__version__}/pyparsing {pyparsing.__version__}"
_kept: dict[str, bytes] = {}


def parsed(text: str) -> Any:
    """rdflib's parse tree of the query ``text`` (``parseQuery``), a copy of its own for the
    caller. Raises what ``parseQuery`` raises for a text that does not parse (nothing is kept)."""
    data = _kept.get(text)
    if data is None:
        data = _kept[text] = _from_disk(text)
    return pickle.loads(data)


def prepared(text: str, base: str | None = None, namespaces: dict[str, Any] | None = None) -> Query:
    """The query ``text`` translated to rdflib's algebra (``prepareQuery``), from :func:`parsed`."""
    return translateQuery(parsed(text), base, namespaces)


def _key(text: str) -> str:
    return hashlib.sha256(f"{_VERSIONS}\n{text}".encode()).hexdigest()[:32]


def _from_disk(text: str) -> bytes:
    path = cache_directory() / "sparql" / f"{_key(text)}.pickle"
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        try:
            pickle.loads(data)
            return data
        except Exception as exc:  # a torn or foreign file: parsed again below, and replaced
            log.debug("unreadable parse cache %s: %s", path, exc)
    data = _dumps(parseQuery(text))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            out.write(data)
        os.replace(out.name, path)  # whole or not at all; another process may write the same
    except OSError as exc:
        log.debug("the parse of a query cannot be cached: %s", exc)
    return data


class _Pickler(pickle.Pickler):
    """rdflib's parse-tree nodes (``CompValue``, ``Expr``) have no pickling of their own: their
    attribute look-up answers None for any name, and an ``Expr`` holds a method bound to itself."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Expr):
            evalfn = getattr(obj._evalfn, "__func__", None)
            return _expr, (type(obj), obj.name, evalfn, list(obj.items()))
        if isinstance(obj, CompValue):
            return _comp_value, (type(obj), obj.name, list(obj.items()))
        return NotImplemented


def _dumps(tree: Any) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(tree)
    return out.getvalue()


def _comp_value(cls: type[CompValue], name: str, items: list[tuple[str, Any]]) -> CompValue:
    node = cls(name)
    node.update(items)
    return node


def _expr(cls: type[Expr], name: str, evalfn: Any, items: list[tuple[str, Any]]) -> Expr:
    node = cls(name, evalfn)
    node.update(items)
    return node


__all__ = ["parsed", "prepared"]
