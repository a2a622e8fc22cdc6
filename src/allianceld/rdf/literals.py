"""Literals that parse but mean nothing: a lexical form its XSD datatype does not allow
(``"2023-02-30"^^xsd:date``, ``"ten"^^xsd:integer``) or a value too long to be a record's.

pyoxigraph keeps ill-typed literals as they are; comparisons and the shapes would then see a value
that is no date at all, so every write refuses them, naming the literal and where it is.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable

import pyoxigraph as ox

from allianceld.errors import RdfSyntaxError
from allianceld.rdf import depth

XSD = "http://www.w3.org/2001/XMLSchema#"
MAX_CHARS = 1_000_000  # a label, comment or description longer than this is refused

_TZ = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_YEAR = r"-?(?:[1-9]\d{4,}|\d{4})"
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_PATTERNS = {
    "date": re.compile(rf"({_YEAR})-(\d\d)-(\d\d){_TZ}"),
    "dateTime": re.compile(rf"({_YEAR})-(\d\d)-(\d\d)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?{_TZ}"),
    "gYearMonth": re.compile(rf"({_YEAR})-(\d\d){_TZ}"),
    "gYear": re.compile(rf"{_YEAR}{_TZ}"),
    "integer": re.compile(r"[+-]?\d+"),
    "nonNegativeInteger": re.compile(r"\+?\d+|-0+"),
    "positiveInteger": re.compile(r"\+?0*[1-9]\d*"),
    "decimal": re.compile(_NUMBER),
    "double": re.compile(rf"{_NUMBER}(?:[eE][+-]?\d+)?|[+-]?INF|NaN"),
    "float": re.compile(rf"{_NUMBER}(?:[eE][+-]?\d+)?|[+-]?INF|NaN"),
    "boolean": re.compile(r"true|false|1|0"),
}


def problem(literal: ox.Literal) -> str | None:
    """What is wrong with ``literal`` (None when nothing is).

    >>> problem(ox.Literal("2023-02-30", datatype=ox.NamedNode(XSD + "date")))
    'February 2023 has no day 30'
    >>> problem(ox.Literal("2024-02-29", datatype=ox.NamedNode(XSD + "date"))) is None
    True
    """
    if len(literal.value) > MAX_CHARS:
        return f"the literal is {len(literal.value)} characters long; at most {MAX_CHARS} are taken"
    name = literal.datatype.value.removeprefix(XSD)
    pattern = _PATTERNS.get(name) if literal.datatype.value.startswith(XSD) else None
    if pattern is None:
        return None
    found = pattern.fullmatch(literal.value.strip())
    if found is None:
        return f"not a valid xsd:{name}"
    if name in ("date", "dateTime", "gYearMonth"):
        year, month = int(found.group(1)), int(found.group(2))
        if not 1 <= month <= 12:
            return f"there is no month {month}"
        if name != "gYearMonth":
            day, last = int(found.group(3)), calendar.monthrange(2000 if year <= 0 else year, month)[1]
            if year <= 0 and month == 2:  # proleptic leap years: ..., -4 (5 BCE), 0 (1 BCE), 4, ...
                last = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
            if not 1 <= day <= last:
                return f"{calendar.month_name[month]} {year} has no day {day}"
    return None


def check(triples: Iterable[ox.Triple], *, source: str, text: bytes | str | None = None) -> None:
    """Raise :class:`RdfSyntaxError` for the first ill-typed or over-long literal object, with the
    line and column where its lexical form first appears in ``text`` (when given)."""
    for triple in triples:
        literal = triple.object
        if not isinstance(literal, ox.Literal) or (
            len(literal.value) <= 64 and literal.datatype.value == XSD + "string"
        ):
            continue
        why = problem(literal)
        if why is None:
            continue
        shown = literal.value if len(literal.value) <= 80 else literal.value[:60] + "…"
        line = column = None
        if text is not None:
            body = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            at = body.find(literal.value[:200])
            if at >= 0:
                line, column = depth.line_column(body, at)
        datatype = literal.datatype.value.replace(XSD, "xsd:")
        raise RdfSyntaxError(
            f'the literal "{shown}"^^{datatype} is refused: {why}', source=source, line=line, column=column
        )
