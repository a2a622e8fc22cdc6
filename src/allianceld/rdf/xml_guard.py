"""RDF/XML checked before pyoxigraph parses it: well-formed (errors with line and column), no
external DTD or entity, no entity defined by other entities, no expansion out of proportion to
the document, and no element nesting past ``depth.MAX_DEPTH``.

pyoxigraph expands internal entities without any limit (the "billion laughs" document of ten
nested entities asks for 3 GB) and its RDF/XML parser slows down steeply with the depth; Python's
expat reads the document first, in C, streaming, and stops at the first of these. Entities that
abbreviate namespaces (``<!ENTITY owl "http://www.w3.org/2002/07/owl#">``, as Protégé writes
them) stay allowed.
"""

from __future__ import annotations

from xml.parsers import expat

from allianceld.errors import RdfSyntaxError
from allianceld.rdf import depth

EXPANSION_FACTOR, EXPANSION_SLACK = 10, 1_000_000  # characters read may be 10x the bytes + 1 MB


class _Refused(Exception):
    """Raised inside an expat handler to stop the parse with a message."""


def check(data: bytes, *, source: str) -> None:
    """Raise :class:`RdfSyntaxError` (with line and column) when ``data`` is not well-formed XML or
    asks for something refused; return quietly otherwise (RDF-level errors are pyoxigraph's)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    budget = EXPANSION_FACTOR * len(data) + EXPANSION_SLACK
    state = {"depth": 0, "chars": 0}

    def refuse(message: str) -> None:
        raise _Refused(message)

    def doctype(name: str, system_id: str | None, public_id: str | None, _internal: bool) -> None:
        if system_id or public_id:
            refuse(f"the external DTD {system_id or public_id!r} is not read: documents may have none")

    def entity(name: str, _param: bool, value: str | None, _base, system_id, public_id, _notation) -> None:
        if value is None or system_id or public_id:
            refuse(f"the external entity {name!r} ({system_id or public_id}) is not read: declare none")
        if "&" in value or "%" in value:
            refuse(f"the entity {name!r} is defined with other entities (entity expansion): declare plain text only")

    def spend(n: int) -> None:
        state["chars"] += n
        if state["chars"] > budget:
            refuse(f"entity expansion makes the document more than {budget} characters long")

    def start(_name: str, attrs: dict[str, str]) -> None:
        state["depth"] += 1
        if state["depth"] > depth.MAX_DEPTH:
            refuse(f"elements nested more than {depth.MAX_DEPTH} deep; the document is refused")
        spend(sum(len(v) for v in attrs.values()))

    def end(_name: str) -> None:
        state["depth"] -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda text: spend(len(text))
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        line, column = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
        raise RdfSyntaxError(str(exc), source=source, line=line, column=column) from None
    except expat.ExpatError as exc:
        message = expat.ErrorString(exc.code)
        raise RdfSyntaxError(
            f"not well-formed XML: {message}", source=source, line=exc.lineno, column=exc.offset + 1
        ) from None
