"""How deep brackets nest in SPARQL, Turtle and JSON text, found by a linear lexical scan.

pyoxigraph's SPARQL and JSON-LD parsers recurse once per level: a query nested a few thousand
``{`` or ``(`` deep, or a JSON-LD document of nested objects, overflows the native stack and
kills the whole process (a segmentation fault, not an exception). Text is therefore refused when
it nests deeper than :data:`MAX_DEPTH`, before any parser sees it.

SPARQL and Turtle are read with the one tokeniser, :mod:`allianceld.rdf.sparql_text`. The guard
may count too deep, never too shallow. Where ``<`` may be the less-than operator rather than the
start of an IRI (:func:`~allianceld.rdf.sparql_text.may_be_less_than`), the other reading is
followed too, to the end of its line, and the deeper of the two kept; when the two readings do
not meet again at the end of the line (a long string crosses it), every opening bracket of the
rest of the text is counted.
"""

from __future__ import annotations

import re

from allianceld.errors import QuerySyntaxError
from allianceld.rdf import sparql_text

MAX_DEPTH = 128  # far more than any real query or record needs; pyoxigraph crashes in the thousands

_OPEN, _CLOSE = "{([", "})]"
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)
_JSON_EVENT = re.compile(r'["{}\[\]]')
_EOL = re.compile(r"[\n\r]")


def too_deep(text: str, *, json: bool = False, sparql: bool = False) -> int | None:
    """The offset of the first bracket that opens level ``MAX_DEPTH + 1``, or None.

    Turtle/TriG (the default): strings, comments and IRIs are skipped; SPARQL (``sparql=True``):
    the same, with both readings of an ambiguous ``<``; JSON (``json=True``): strings.

    >>> too_deep("SELECT * WHERE { ?s ?p '{{{' }", sparql=True) is None
    True
    >>> too_deep("[" * (MAX_DEPTH + 1), json=True)
    128
    """
    if sum(text.count(c) for c in _OPEN) <= MAX_DEPTH:
        return None  # cannot nest deeper: no scan needed
    if json:
        return _json_too_deep(text)
    return _Guard(text, sparql).run()


def _json_too_deep(text: str) -> int | None:
    depth, pos = 0, 0
    while (m := _JSON_EVENT.search(text, pos)) is not None:
        event, pos = m.group(), m.end()
        if event in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif event in _CLOSE:
            depth = max(0, depth - 1)
        else:
            skipped = _JSON_STRING.match(text, m.start())
            pos = skipped.end() if skipped else len(text)
    return None


def _every_open(text: str, pos: int, depth: int) -> int | None:
    """The bound when the readings part for good: every opening bracket from ``pos`` on counts."""
    for i in range(pos, len(text)):
        if text[i] in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return i
    return None


class _Guard:
    """The scan of SPARQL or Turtle text: the tokens' reading, and where ``<`` may be less-than, the
    other reading to the end of its line."""

    def __init__(self, text: str, sparql: bool) -> None:
        self.text, self.sparql = text, sparql

    def run(self) -> int | None:
        if self.sparql:
            return self._sparql()
        depth = 0
        for m in sparql_text.matches(self.text):
            kind = m.lastgroup
            if kind == "open":
                depth += 1
                if depth > MAX_DEPTH:
                    return m.start()
            elif kind == "close" and depth:
                depth -= 1
        return None

    def _sparql(self) -> int | None:
        text = self.text
        depth = 0
        stack: list[str] = []  # the open brackets; "v" for the braces of a VALUES block
        values = False  # a VALUES keyword waits for its block
        anywhere = False  # the readings once disagreed on brackets: context no longer tells
        previous: tuple[str, int, int] = ("space", 0, 0)  # the last significant token's kind and span
        pending: dict[int, int] = {}  # line end -> the depth the other readings reach there
        for m in sparql_text.matches(text):
            kind, start, end = m.lastgroup or "error", m.start(), m.end()
            if pending:
                for eol in [e for e in pending if e < end]:
                    if kind == "string" and start < eol:
                        return _every_open(text, start, max(depth, pending[eol]))  # crosses the line end
                    depth = max(depth, pending.pop(eol))
            if kind == "open":
                depth += 1
                if depth > MAX_DEPTH:
                    return start
                bracket = text[start]
                if bracket == "{" and values:
                    bracket, values = "v", False
                stack.append(bracket)
            elif kind == "close":
                depth = max(0, depth - 1)
                if stack:
                    stack.pop()
            elif kind == "word" and text[start:end].upper() == "VALUES":
                values = True
            elif kind == "iri":
                in_expression = anywhere or (stack[-1:] == ["("] and "v" not in stack)
                iri = sparql_text.Token(kind, text[start:end], start, end, depth)
                if in_expression and sparql_text.may_be_less_than(_token(text, *previous), iri):
                    other = self._less_than(start, depth)
                    if other is None:
                        return _every_open(text, start, depth)
                    eol, reached, offset, differs = other
                    if offset is not None:
                        return offset
                    pending[eol] = max(pending.get(eol, 0), reached)
                    anywhere = anywhere or differs
            if kind != "space" and kind != "comment":
                previous = (kind, start, end)
        return None

    def _less_than(self, at: int, depth: int) -> tuple[int, int, int | None, bool] | None:
        """The other reading of the IRI at ``at`` (``<`` as less-than) to the end of its line:
        (line end, depth there, offset of a bracket past the limit or None, whether its brackets
        differ from the tokens' reading), or None if the readings do not meet at the line end."""
        text = self.text
        eol_match = _EOL.search(text, at)
        eol = eol_match.start() if eol_match else len(text)
        brackets: list[str] = []
        slash = False
        for kind, start, end in sparql_text.spans(text, at + 1):
            if start >= eol:
                break
            if kind in ("space", "comment"):
                continue
            if slash and text[start:end] == "/":
                return eol, 0, None, False  # "//" (as in "<http://"): a syntax error, this reading ends here
            slash = text[start:end] == "/"
            if kind == "string" and end > eol:
                return None
            if kind == "iri" and any(c in text[start:end] for c in "()[]#'"):
                return None  # a second ambiguity inside the first: not followed
            if kind == "open":
                depth += 1
                brackets.append(text[start])
                if depth > MAX_DEPTH:
                    return eol, depth, start, True
            elif kind == "close":
                depth = max(0, depth - 1)
                brackets.append(text[start])
        ours = [text[start] for kind, start, _end in sparql_text.spans(text[:eol], at) if kind in ("open", "close")]
        # the tokens' own reading must also reach the line end without a string across it
        return eol, depth, None, brackets != ours


def _token(text: str, kind: str, start: int, end: int) -> sparql_text.Token | None:
    """The token at ``start:end``, or None for none yet."""
    return None if kind in (None, "space") else sparql_text.Token(kind, text[start:end], start, end, 0)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``text``.

    >>> line_column("ab\\ncd", 4)
    (2, 2)
    """
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_sparql(sparql: str, *, what: str = "query") -> None:
    """Refuse (400, with line and column) a query or update nested deeper than :data:`MAX_DEPTH`."""
    offset = too_deep(sparql, sparql=True)
    if offset is not None:
        line, column = line_column(sparql, offset)
        raise QuerySyntaxError(
            f"the {what} nests brackets more than {MAX_DEPTH} deep (at line {line} column {column}); "
            "it is refused unparsed",
            line=line,
            column=column,
        )
