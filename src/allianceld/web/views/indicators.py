"""Indicators drawn: NATO members' defence expenditure as a share of GDP against the 2% guideline,
all members in one year (sorted bars) and one member over the years (``/charts/defence-expenditure``),
each an SVG drawn here (no script), with its JSON twin (``/charts/defence-expenditure/data``)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template

from allianceld.browse import indicators
from allianceld.browse.describe import labels, local_path
from allianceld.errors import BadRequest
from allianceld.vocab import ALD
from allianceld.web.services import get_kb
from allianceld.web.views.pictures import PICTURE_TYPES
from allianceld.web.views.resources import HTML, JSON, _reference, _vary, _year, negotiate

bp = Blueprint("indicators", __name__)

# the charts' geometry (SVG user units)
WIDTH, LABEL_W, ROW_H, TOP, BOTTOM = 760, 130, 18, 10, 30
SERIES_H, SERIES_LEFT = 300, 40
COLOURS = {"meets": "#4e79a7", "below": "#f28e2b", "not member": "#bab0ac"}


def _top(shares: list[float]) -> float:
    """The axis' top: the largest share or the guideline, a little above, rounded up to 0.5."""
    return math.ceil(max([*shares, float(indicators.GUIDELINE)]) * 1.1 * 2) / 2


def _ticks(top: float) -> list[float]:
    step = 0.5 if top <= 3 else 1.0
    return [i * step for i in range(int(top / step) + 1)]


def year_bars(data: dict[str, Any]) -> dict[str, Any]:
    """The SVG geometry of one year's horizontal bars, highest share first, with the guideline's
    line: a bar per state, coloured by whether it meets the guideline (grey: not a member that year)."""
    rows = data["observations"]
    top = _top([o["share"] for o in rows])
    plot_w = WIDTH - LABEL_W - 50
    height = TOP + ROW_H * len(rows) + BOTTOM

    def x(v: float) -> float:
        return round(LABEL_W + plot_w * v / top, 1)

    bars = []
    for i, o in enumerate(rows):
        kind = "not member" if not o["member"] else "meets" if o["meetsGuideline"] else "below"
        y = TOP + i * ROW_H
        bars.append(
            {
                **o,
                "kind": kind,
                "colour": COLOURS[kind],
                "x": LABEL_W,
                "y": y + 2,
                "width": round(x(o["share"]) - LABEL_W, 1),
                "height": ROW_H - 4,
                "textY": y + ROW_H - 5,
                "end": x(o["share"]) + 4,
            }
        )
    base = TOP + ROW_H * len(rows)
    return {
        "width": WIDTH,
        "height": height,
        "left": LABEL_W,
        "right": x(top),
        "baseline": base,
        "bars": bars,
        "ticks": [{"value": f"{t:g}%", "x": x(t)} for t in _ticks(top)],
        "guideline": {"x": x(float(indicators.GUIDELINE)), "top": TOP, "bottom": base},
        "legend": [{"label": k, "colour": c} for k, c in COLOURS.items()],
    }


def series_points(data: dict[str, Any], first: int, last: int) -> dict[str, Any]:
    """The SVG geometry of one state's shares over the years ``first`` to ``last``: a point per
    observation (hollow: an estimate), lines joining consecutive years, and the guideline's line."""
    rows = sorted(data["observations"], key=lambda o: o["year"])
    top = _top([o["share"] for o in rows])
    plot_w, plot_h = WIDTH - SERIES_LEFT - 20, SERIES_H - BOTTOM - TOP
    span = max(1, last - first)

    def x(year: int) -> float:
        return round(SERIES_LEFT + 10 + (plot_w - 20) * (year - first) / span, 1)

    def y(v: float) -> float:
        return round(TOP + plot_h - plot_h * v / top, 1)

    points = [{**o, "x": x(o["year"]), "y": y(o["share"])} for o in rows]
    # lines join consecutive years only: a year without a figure leaves a gap, not a guess
    segments: list[list[dict[str, Any]]] = []
    for p in points:
        if segments and segments[-1][-1]["year"] == p["year"] - 1:
            segments[-1].append(p)
        else:
            segments.append([p])
    return {
        "width": WIDTH,
        "height": SERIES_H,
        "left": SERIES_LEFT,
        "right": WIDTH - 20,
        "baseline": TOP + plot_h,
        "points": points,
        "lines": [" ".join(f"{p['x']},{p['y']}" for p in seg) for seg in segments if len(seg) > 1],
        "ticks": [{"value": f"{t:g}%", "y": y(t)} for t in _ticks(top)],
        "years": [{"label": str(v), "x": x(v)} for v in range(first, last + 1)],
        "guideline": {"y": y(float(indicators.GUIDELINE))},
    }


def _chosen() -> tuple[str | None, int | None]:
    """``state=`` (a slug or IRI of a state in the store; 400 otherwise) and ``year=`` (YYYY)."""
    return _reference("state", "state", ALD.State), _year("year")


@bp.get("/charts/defence-expenditure/data")
def defence_expenditure_data() -> Response:
    """NATO members' defence expenditure as a share of GDP (JSON), of ``state=`` and ``year=`` when given."""
    state, year = _chosen()
    return _vary(jsonify(indicators.defence_expenditure(get_kb(), state, year)))


@bp.get("/charts/defence-expenditure")
def defence_expenditure() -> Response:
    """The charts: all members in ``year=`` (default: the latest with figures; 400 naming the years
    with figures for another) and, with ``state=``, that state over the years; or the JSON of
    ``/charts/defence-expenditure/data`` (by Accept or ``?format=json``)."""
    state, year = _chosen()
    kb = get_kb()
    if negotiate(PICTURE_TYPES, JSON) != HTML:
        return _vary(jsonify(indicators.defence_expenditure(kb, state, year)))
    everything = indicators.defence_expenditure(kb)
    years = everything["years"]
    if year is not None and year not in years:
        raise BadRequest(
            f"the parameter year must be a year with figures ({', '.join(map(str, years))}), not {year}",
            parameter="year",
        )
    year = year if year is not None else (years[-1] if years else None)
    one_year = {**everything, "observations": [o for o in everything["observations"] if o["year"] == year]}
    series = None
    if state is not None:
        series = {**everything, "observations": [o for o in everything["observations"] if o["state"] == state]}
    first, last = (min(years), max(years)) if years else (0, 0)
    slug = state.rsplit("/", 1)[-1] if state else None
    year_links = [(y, "?" + urlencode({"year": y, **({"state": slug} if slug else {})})) for y in years]
    page = render_template(
        "defence_expenditure.html",
        data=everything,
        year=year,
        year_links=year_links,
        state=state,
        one_year=one_year,
        bars=year_bars(one_year),
        series=series,
        line=series_points(series, first, last) if series and series["observations"] else None,
        state_label=labels(kb, [state]).get(state, state) if state else None,
        json_url="/charts/defence-expenditure/data?" + urlencode({k: v for k, v in (("year", year),) if v}),
    )
    return _vary(Response(page))


def _states_with_figures() -> set[str]:
    """The pages (``/id/state/<slug>``) of the states the data set has figures for, read once per
    version of the store."""
    kb = get_kb()
    cache: dict[str, Any] = current_app.extensions.setdefault("allianceld.indicator-states", {})
    if cache.get("version") != kb.version:  # read again after a write (version bumped)
        cache.update(version=kb.version, pages={local_path(o.state) for o in indicators.observations(kb)})
    return cache["pages"]


@bp.app_context_processor
def _templates() -> dict[str, Any]:
    """Lets a state's page ask whether the charts have figures for it."""
    return {"has_defence_expenditure": lambda page: page in _states_with_figures()}


__all__ = ["bp", "series_points", "year_bars"]
