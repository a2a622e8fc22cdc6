"""Pictures over time: an alliance's membership timeline, the network of states linked by shared
alliances on a day (``/network``, ``/states/<slug>/network``) and the alliances founded per decade
by type (``/charts``), each with its JSON twin; the drawing libraries (vis-timeline, cytoscape.js)
are served from their npm packages (no CDN)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_from_directory

from allianceld.browse import timelines
from allianceld.errors import BadRequest, NotFound
from allianceld.vocab import ALD, ID_BASE
from allianceld.web.services import get_kb, services
from allianceld.web.views.resources import HTML, JSON, SLUG, _date, _int, _reference, _vary, negotiate

bp = Blueprint("pictures", __name__)

#: the npm packages' folders served under /assets/vendor/<name>/, and the file each page loads
VENDOR = {
    "vis-timeline": ("vis-timeline/standalone/umd", "vis-timeline-graph2d.min.js"),
    "cytoscape": ("cytoscape/dist", "cytoscape.min.js"),
}
PICTURE_TYPES = [JSON, HTML]
#: the links a network page lists in its table (real data has a few thousand on a day: ATOP 5.0
#: 2,399 on 2000-01-01; generated data at 200k triples, 37,000, which took seconds to render); a
#: row is about 400 bytes, so the page stays well under 1 MB; the JSON linked below it has them all
TABLE_LIMIT = 1000
#: the links a network's JSON gives at most in one answer (``limit=``: the default and the most);
#: ``offset=`` and the answer's ``links.next`` give the rest, in the same order (by the two states)
JSON_LIMIT, JSON_MAX_LIMIT = 1000, 5000
IS_A = "ASK {{ {node} a {cls} }}"
# the bar chart's geometry (SVG user units)
CHART_WIDTH, CHART_HEIGHT, MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 760, 300, 40, 30, 10
#: the least room (SVG units) between two labels of an axis: decades and counts beyond it are skipped
LABEL_ROOM_X, LABEL_ROOM_Y = 40, 24
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]


def _vendor_dir(name: str) -> Path:
    return services().settings.home / "web-assets" / "node_modules" / VENDOR[name][0]


def vendor_available(name: str) -> bool:
    """Whether ``make assets`` installed the npm package ``name``."""
    return (_vendor_dir(name) / VENDOR[name][1]).is_file()


@bp.get("/assets/vendor/<name>/<path:filename>")
def vendor_asset(name: str, filename: str) -> Response:
    """A file of vis-timeline's or cytoscape.js's npm package (``make assets``)."""
    if name not in VENDOR:
        abort(404)
    return send_from_directory(_vendor_dir(name), filename, max_age=3600)


def _resource(kind: str, slug: str, cls: str) -> str:
    """The IRI of the ``kind`` named ``slug``; 404 when the store has no such resource of ``cls``."""
    if not SLUG.fullmatch(slug):
        raise NotFound(f"no {kind} {slug!r}")
    node = ox.NamedNode(f"{ID_BASE}{kind}/{slug}")
    if not bool(get_kb().query(IS_A.format(node=node, cls=cls), prefixes=True)):
        raise NotFound(f"the store has no {kind} {node.value}", iri=node.value)
    return node.value


def _day() -> dt.date:
    """``date=YYYY-MM-DD`` (400 naming it when malformed), today when absent."""
    return _date("date") or dt.date.today()


def _obligation() -> str | None:
    """``obligation=``: one of :data:`timelines.OBLIGATIONS` (default: defence) or ``any`` (None:
    every alliance); 400 naming the choices otherwise."""
    raw = request.args.get("obligation") or timelines.DEFAULT_OBLIGATION
    if raw == timelines.ANY_OBLIGATION:
        return None
    if raw not in timelines.OBLIGATIONS:
        choices = ", ".join([*timelines.OBLIGATIONS, timelines.ANY_OBLIGATION])
        raise BadRequest(f"the parameter obligation must be one of {choices}, not {raw!r}", parameter="obligation")
    return raw


def _network_filters() -> dict[str, str | None]:
    """``alliance=`` and ``region=`` (a slug or an IRI; 400 naming the parameter when the store has
    no such alliance or region): the network of one alliance's members, of one region's states."""
    return {
        "alliance": _reference("alliance", "alliance", ALD.Alliance),
        "region": _reference("region", "region", ALD.Region),
    }


def _with_range(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the days a slider may choose: the first membership's start to today (or
    the latest date in the data, when that is later); read once per version of the store."""
    kb = get_kb()
    cache: dict[str, Any] = current_app.extensions.setdefault("allianceld.span", {})
    if cache.get("version") != kb.version:  # read again after a write (version bumped)
        cache.update(version=kb.version, span=timelines.span(kb))
    first, latest = cache["span"]
    today = dt.date.today().isoformat()
    data["range"] = {"first": first or today, "last": max(latest or today, today)}
    return data


@bp.get("/alliances/<slug>/timeline")
def alliance_timeline(slug: str) -> Response:
    """The memberships of an alliance, one item each (member, role, start and end with their
    precision): what the alliance page's timeline draws."""
    alliance = _resource("alliance", slug, "ald:Alliance")
    return _vary(jsonify(timelines.timeline(get_kb(), alliance)))


def _links_page(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a network) with at most ``limit=`` of its edges (default :data:`JSON_LIMIT`, at most
    :data:`JSON_MAX_LIMIT`) from ``offset=`` (400 naming either when out of bounds), and ``links``:
    the total, the offset and limit, whether edges were left out, and the URL of the next ones (its
    day and obligation fixed), or None when these are the last."""
    limit = _int("limit", JSON_LIMIT, 1, JSON_MAX_LIMIT)
    offset = _int("offset", 0, 0)
    edges = data["edges"]
    shown = edges[offset : offset + limit]
    end = offset + len(shown)
    following = None
    if end < len(edges):
        args = {**request.args.to_dict(), "date": data["date"], "obligation": data["obligation"]}
        following = request.path + "?" + urlencode({**args, "offset": end, "limit": limit})
    links = {
        "total": len(edges),
        "offset": offset,
        "limit": limit,
        "truncated": len(shown) < len(edges),
        "next": following,
    }
    return {**data, "edges": shown, "links": links}


def _network_answer(data: dict[str, Any], source: str, title: str) -> Response:
    if negotiate(PICTURE_TYPES, JSON) == HTML:
        page = render_template(
            "network.html",
            data=data,
            source=source,
            title=title,
            cytoscape=vendor_available("cytoscape"),
            table_limit=TABLE_LIMIT,
            obligations=[*timelines.OBLIGATIONS, timelines.ANY_OBLIGATION],
        )
        return _vary(Response(page))
    return _vary(jsonify(_links_page(data)))


@bp.get("/network")
def network() -> Response:
    """The states linked by the alliances they shared on ``date`` (default: today), of the kind
    ``obligation`` (default: defence; ``any``: every alliance): a page with a date slider, or JSON
    (by Accept or ``?format=json``) of nodes and edges."""
    filters = _network_filters()
    data = _with_range(timelines.network(get_kb(), _day(), _obligation(), **filters))
    chosen = {k: request.args[k] for k in filters if filters[k] is not None}
    source = "/network.json" + (f"?{urlencode(chosen)}" if chosen else "")
    return _network_answer(data, source, "States linked by shared alliances")


@bp.get("/network.json")
def network_json() -> Response:
    """The JSON of :func:`network`, its edges paged (:func:`_links_page`)."""
    data = _with_range(timelines.network(get_kb(), _day(), _obligation(), **_network_filters()))
    return _vary(jsonify(_links_page(data)))


@bp.get("/states/<slug>/network")
def state_network(slug: str) -> Response:
    """A state and its allies on ``date`` (default: today) by alliances of the kind ``obligation``
    (default: defence; ``any``: every alliance), each linked to it: JSON, or a page for browsers."""
    state = _resource("state", slug, "ald:State")
    data = _with_range(timelines.ego_network(get_kb(), state, _day(), _obligation()))
    label = data["state"]["label"] or slug
    return _network_answer(data, f"/states/{slug}/network?format=json", f"{label} and its allies")


def tick_step(top: int, plot_h: float) -> int:
    """The step between the counts labelled on the axis: 1, 2 or 5 times a power of ten, the
    least that leaves :data:`LABEL_ROOM_Y` between two labels."""
    room = max(1, int(plot_h // LABEL_ROOM_Y))
    scale = 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            if top / step <= room:
                return step
        scale *= 10


def chart_bars(data: dict[str, Any]) -> dict[str, Any]:
    """The SVG geometry of the grouped bar chart of :func:`timelines.by_decade`: one group per
    decade, one bar per type with alliances founded in it."""
    colours = {t["id"]: PALETTE[i % len(PALETTE)] for i, t in enumerate(data["types"])}
    names = {t["id"]: t["label"] or t["id"] for t in data["types"]}
    top = max((n for d in data["decades"] for n in d["counts"].values()), default=1)
    plot_w, plot_h = CHART_WIDTH - MARGIN_LEFT - 10, CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    group_w = plot_w / max(1, len(data["decades"]))
    every = max(1, math.ceil(LABEL_ROOM_X / group_w))  # label every n-th decade
    bars, groups = [], []
    for i, decade in enumerate(data["decades"]):
        x0 = MARGIN_LEFT + i * group_w
        if i % every == 0:
            groups.append({"label": f"{decade['decade']}s", "x": x0 + group_w / 2})
        present = list(decade["counts"].items())
        bar_w = (group_w * 0.8) / max(1, len(present))
        for j, (type_id, n) in enumerate(present):
            h = plot_h * n / top
            bars.append(
                {
                    "x": round(x0 + group_w * 0.1 + j * bar_w, 1),
                    "y": round(MARGIN_TOP + plot_h - h, 1),
                    "width": round(bar_w - 2, 1),
                    "height": round(h, 1),
                    "colour": colours[type_id],
                    "type": type_id,
                    "typeLabel": names[type_id],
                    "decade": decade["decade"],
                    "count": n,
                }
            )
    step = tick_step(top, plot_h)
    ticks = [{"value": v, "y": round(MARGIN_TOP + plot_h - plot_h * v / top, 1)} for v in range(0, top + 1, step)]
    legend = [{"label": names[t], "colour": colours[t]} for t in colours]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": MARGIN_LEFT,
        "baseline": MARGIN_TOP + plot_h,
        "bars": bars,
        "groups": groups,
        "ticks": ticks,
        "legend": legend,
    }


@bp.get("/charts")
def charts() -> Response:
    """The alliances founded per decade, by type: a bar chart (SVG drawn here, no script) and a
    table, or the JSON of ``/charts/data``."""
    data = timelines.by_decade(get_kb())
    if negotiate(PICTURE_TYPES, JSON) == HTML:
        return _vary(Response(render_template("charts.html", data=data, chart=chart_bars(data))))
    return _vary(jsonify(data))


@bp.get("/charts/data")
def charts_data() -> Response:
    """The alliances founded per decade, counted per type (JSON)."""
    return _vary(jsonify(timelines.by_decade(get_kb())))


@bp.app_context_processor
def _templates() -> dict[str, Any]:
    """Lets every template (the resource pages) ask whether a drawing library is installed."""
    return {"vendor_available": vendor_available}


__all__ = ["bp", "chart_bars", "vendor_available"]
