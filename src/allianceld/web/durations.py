"""Durations as people read them: ``P42238D`` as "115 years 236 days".

A duration of days alone (what subtracting two ``xsd:date`` gives) is split into years of the
Gregorian calendar's average length: 365 days a year and one more every fourth year but three in
four centuries, so it may differ by a day from the calendar years between two given dates. Months,
hours, minutes and seconds are shown as they are written."""

from __future__ import annotations

import re

DURATION_TYPES = frozenset(
    "http://www.w3.org/2001/XMLSchema#" + name for name in ("duration", "dayTimeDuration", "yearMonthDuration")
)
_ISO = re.compile(
    r"(?P<sign>-)?P(?!$)(?:(?P<Y>\d+)Y)?(?:(?P<M>\d+)M)?(?:(?P<D>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_UNITS = (("Y", "year"), ("M", "month"), ("D", "day"), ("h", "hour"), ("m", "minute"), ("s", "second"))


def years_and_days(days: int) -> tuple[int, int]:
    """``days`` as whole years (of 365 days, plus the leap days of the Gregorian average) and days left.

    >>> years_and_days(365), years_and_days(1461), years_and_days(42238)
    ((1, 0), (4, 0), (115, 236))
    """
    years = days // 365
    while years and days < _year_days(years):
        years -= 1
    return years, days - _year_days(years)


def _year_days(years: int) -> int:
    """The days of ``years`` calendar years with the Gregorian share of leap days."""
    return years * 365 + years // 4 - years // 100 + years // 400


def readable_duration(lexical: str) -> str | None:
    """An ``xsd:duration`` (or its day-time and year-month kinds) in words; None when ``lexical`` is not one.

    >>> readable_duration("P42238D"), readable_duration("P1Y2M"), readable_duration("-P3DT4H")
    ('115 years 236 days', '1 year 2 months', 'minus 3 days 4 hours')
    """
    found = _ISO.fullmatch(lexical.strip())
    if found is None:
        return None
    parts = {unit: found[unit] for unit, _ in _UNITS if found[unit] is not None}
    if set(parts) == {"D"}:  # days alone: a count of years and days
        years, days = years_and_days(int(parts["D"]))
        parts = {"Y": str(years)} if years else {}
        if days or not years:
            parts["D"] = str(days)
    words = []
    for unit, word in _UNITS:
        if unit in parts:
            amount = parts[unit].rstrip("0").rstrip(".") if "." in parts[unit] else str(int(parts[unit]))
            if amount == "0" and len(parts) > 1:
                continue
            words.append(f"{amount} {word}{'' if amount == '1' else 's'}")
    text = " ".join(words) or "0 days"
    return ("minus " if found["sign"] else "") + text
