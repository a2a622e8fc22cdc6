"""The tokens of SPARQL 1.1 text (and of Turtle/TriG, whose terminals are the same), read by the
terminals of the SPARQL 1.1 grammar (section 19.8): IRIREF, PNAME_NS/PNAME_LN, BLANK_NODE_LABEL,
VAR1/VAR2, the four string forms, numbers, LANGTAG, comments, brackets, punctuation and words.

Every character of the text belongs to exactly one token: white space and comments are tokens too,
and a character that begins no terminal (a quote whose string never ends, a ``\\``) is an
``error`` token of one character, after which reading goes on.

``<`` is ambiguous in SPARQL: it begins an IRI in a triple pattern and is the less-than operator in
an expression (``FILTER(?a<?b&&?c>?d)``). A parser decides by context; this tokeniser takes
``<`` as the start of an IRI whenever an IRIREF can be read from it (the longest match, as the
grammar's lexer does), and as punctuation otherwise. :func:`may_be_less_than` tells the cases in
which the other reading is possible; callers that decide something from tokens either act only on
tokens no such reading changes (keywords and braces outside expressions) or, like the nesting
depth guard, take both readings into account.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)  # PN_CHARS_BASE
_U = _BASE + "_"  # PN_CHARS_U
_CHARS = _U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"  # PN_CHARS
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"  # codepoint escapes
_ECHAR = rf"\\[tbnrf\"'\\]|{_UCHAR}"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"  # PERCENT | PN_LOCAL_ESC
_PN_PREFIX = rf"[{_BASE}](?:\.*[{_CHARS}])*"
_PN_LOCAL = rf"(?:[{_U}:0-9]|{_PLX})(?:\.*(?:[{_CHARS}:]|{_PLX}))*"
_EXPONENT = r"[eE][+-]?[0-9]+"

_TOKEN = re.compile(
    rf"""
      (?P<space>[ \t\r\n]+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*+'''
                |\"\"\"(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*+\"\"\"
                |'(?:[^'\\\n\r]|{_ECHAR})*+'
                |"(?:[^"\\\n\r]|{_ECHAR})*+")
    | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>)
    | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
    | (?P<bnode>_:[{_U}0-9](?:\.*[{_CHARS}])*)
    | (?P<var>[?$][{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
    | (?P<number>[0-9]+\.[0-9]*{_EXPONENT}|\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT}|[0-9]*\.[0-9]+|[0-9]+)
    | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<open>[{{(\[])
    | (?P<close>[}})\]])
    | (?P<punct>\^\^|&&|\|\||!=|<=|>=|[.;,*/+\-=!<>|^?])
    | (?P<error>.)
    """,
    re.VERBOSE | re.DOTALL,
)
KINDS = frozenset(_TOKEN.groupindex)
# Tokens after which ``<`` may be the less-than operator: the end of an operand.
_OPERAND_ENDS = frozenset({"var", "string", "number", "iri", "pname", "bnode", "langtag"})


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind (one of :data:`KINDS`), its text, its span and the bracket depth before it
    (``{``, ``(`` and ``[`` opened and not yet closed; negative after an unbalanced close)."""

    kind: str
    text: str
    start: int
    end: int
    depth: int

    @property
    def significant(self) -> bool:
        """False for white space and comments."""
        return self.kind not in ("space", "comment")

    def keyword(self, *names: str) -> bool:
        """True for a word that is one of the keywords ``names`` (upper case; any case in the text)."""
        return self.kind == "word" and self.text.upper() in names


def matches(text: str, pos: int = 0) -> Iterator[re.Match[str]]:
    """The regular-expression match of each token of ``text`` from ``pos`` (its kind is the match's
    ``lastgroup``): the tokeniser at its fastest, for scans of large texts. The matches are
    contiguous, since the last alternative, ``error``, matches any character."""
    return _TOKEN.finditer(text, pos)


def spans(text: str, pos: int = 0) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of each token of ``text`` from ``pos``."""
    for m in _TOKEN.finditer(text, pos):
        yield m.lastgroup, m.start(), m.end()  # type: ignore[misc]


def tokens(text: str) -> list[Token]:
    """Every token of ``text``, white space and comments included, in order; they cover it exactly.

    >>> [(t.kind, t.text) for t in tokens("ASK{?s<p>'x'}") if t.significant]
    [('word', 'ASK'), ('open', '{'), ('var', '?s'), ('iri', '<p>'), ('string', "'x'"), ('close', '}')]
    """
    out, depth = [], 0
    for kind, start, end in spans(text):
        out.append(Token(kind, text[start:end], start, end, depth))
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
    return out


def significant(text: str) -> list[Token]:
    """The tokens of ``text`` without white space and comments."""
    return [t for t in tokens(text) if t.significant]


def may_be_less_than(previous: Token | None, iri: Token) -> bool:
    """Whether the IRI token ``iri``, read after the significant token ``previous``, may instead be
    the less-than operator followed by more tokens: only after the end of an operand, and only when
    the other reading differs in brackets, comments or strings (its text holds one of ``()[]#'``)."""
    if iri.kind != "iri" or not any(c in iri.text for c in "()[]#'"):
        return False
    if previous is None:
        return False
    return previous.kind in _OPERAND_ENDS or previous.text == ")" or previous.keyword("TRUE", "FALSE")


def where_start(text: str) -> int:
    """The offset just after the ``{`` that opens the WHERE group of a query: the first top-level
    group, or the second of a CONSTRUCT with a template. ValueError if there is none.

    >>> q = "PREFIX e: <http://e/> CONSTRUCT { ?s e:p '{' } WHERE { ?s e:q ?o }"
    >>> q[where_start(q):]
    ' ?s e:q ?o }'
    """
    seen = significant(text)
    skip = 0
    for i, t in enumerate(seen):
        if t.keyword("CONSTRUCT"):
            skip = 1 if i + 1 < len(seen) and seen[i + 1].text == "{" else 0
            break
        if t.keyword("SELECT", "ASK", "DESCRIBE"):
            break
    for t in seen:
        if t.text == "{" and t.depth == 0:
            if skip == 0:
                return t.end
            skip -= 1
    raise ValueError("the query has no WHERE group")
