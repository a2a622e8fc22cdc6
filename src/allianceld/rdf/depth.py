"""How deep brackets nest in SPARQL, Turtle and JSON text, found by a linear lexical scan.

pyoxigraph's SPARQL and JSON-LD parsers recurse once per level: a query nested a few thousand
``{`` or ``(`` deep, or a JSON-LD document of nested objects, overflows the native stack and
kills the whole process (a segmentation fault, not an exception). Text is therefore refused when
it nests deeper than :data:`MAX_DEPTH`, before any parser sees it.
"""

from __future__ import annotations

import re

from allianceld.errors import QuerySyntaxError

MAX_DEPTH = 128  # far more than any real query or record needs; pyoxigraph crashes in the thousands

_OPEN, _CLOSE = "{([", "})]"
_STRINGS = {
    "'''": re.compile(r"'''(?:[^'\\]|\\.|'(?!''))*+'''", re.DOTALL),
    '"""': re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*+"""', re.DOTALL),
    "'": re.compile(r"'(?:[^'\\\n\r]|\\.)*+'", re.DOTALL),
    '"': re.compile(r'"(?:[^"\\\n\r]|\\.)*+"', re.DOTALL),
}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")  # IRIREF: no bracket can be inside one
_EOL = re.compile(r"[\n\r]")
_CODE_EVENT = re.compile(r"'''|\"\"\"|['\"#<{}()\[\]]")
_JSON_EVENT = re.compile(r'["{}\[\]]')


def too_deep(text: str, *, json: bool = False) -> int | None:
    """The offset of the first bracket that opens level ``MAX_DEPTH + 1``, or None.

    SPARQL and Turtle/TriG (``json=False``): strings, comments and IRIs are skipped; JSON: strings.

    >>> too_deep("SELECT * WHERE { ?s ?p '{{{' }") is None
    True
    >>> too_deep("[" * (MAX_DEPTH + 1), json=True)
    128
    """
    if sum(text.count(c) for c in _OPEN) <= MAX_DEPTH:
        return None  # cannot nest deeper: no scan needed
    events = _JSON_EVENT if json else _CODE_EVENT
    depth, pos = 0, 0
    while (m := events.search(text, pos)) is not None:
        event, pos = m.group(), m.end()
        if event in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif event in _CLOSE:
            depth = max(0, depth - 1)
        elif json:
            skipped = _JSON_STRING.match(text, m.start())
            pos = skipped.end() if skipped else len(text)
        elif event == "#":
            eol = _EOL.search(text, pos)
            pos = eol.end() if eol else len(text)
        elif event == "<":
            iri = _IRI.match(text, m.start())
            pos = iri.end() if iri else pos  # otherwise the less-than operator
        else:
            literal = _STRINGS[event].match(text, m.start())
            pos = literal.end() if literal else len(text)
    return None


def line_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``text``.

    >>> line_column("ab\\ncd", 4)
    (2, 2)
    """
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_sparql(sparql: str, *, what: str = "query") -> None:
    """Refuse (400, with line and column) a query or update nested deeper than :data:`MAX_DEPTH`."""
    offset = too_deep(sparql)
    if offset is not None:
        line, column = line_column(sparql, offset)
        raise QuerySyntaxError(
            f"the {what} nests brackets more than {MAX_DEPTH} deep (at line {line} column {column}); "
            "it is refused unparsed",
            line=line,
            column=column,
        )
