"""The W3C Entity Reconciliation API at /reconcile (what OpenRefine speaks) over states and alliances.

Version 0.2 in full: the manifest (GET /reconcile), single (``query=``) and batch (``queries=``)
queries by GET or POST form, data extension (``extend=``), JSONP (``callback=``), the preview,
suggest (entity, type, property) and property proposal services. The 1.0-draft forms where they are
cheap: its manifest (``?version=1.0-draft``) and a JSON body of ``queries`` with ``conditions``.
The matching itself is :mod:`allianceld.linking.reconciliation`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, current_app, request
from markupsafe import escape

from allianceld import __version__
from allianceld.errors import BadRequest, NotFound
from allianceld.linking.reconciliation import (
    CURRENT_SETTING,
    PROPERTIES,
    STATE,
    TYPE_NAMES,
    Index,
    Reconciler,
    parse_draft_query,
    parse_limit,
    parse_query,
)
from allianceld.vocab import ALD, ID_BASE
from allianceld.web import unicode_input
from allianceld.web.services import get_kb
from allianceld.web.views.metadata import public_url

bp = Blueprint("reconcile", __name__)

CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$", re.ASCII)
PREVIEW_SIZE = {"width": 400, "height": 120}
MAX_BATCH = 1000  # queries in one request
EXTENSION_KEY = "allianceld.reconcile"


def reconciler() -> Reconciler:
    """This app's :class:`Reconciler`, made on first use."""
    found = current_app.extensions.get(EXTENSION_KEY)
    if found is None or found.kb is not get_kb():
        found = current_app.extensions[EXTENSION_KEY] = Reconciler(get_kb())
    return found


def index() -> Index:
    """The index of the store's current content."""
    return reconciler().index()


def param(name: str) -> str | None:
    """A parameter from the query string or a posted form."""
    return request.values.get(name)


def reply(body: Any) -> Response:
    """JSON, or JSONP when ``callback`` names a JavaScript function."""
    callback = param("callback")
    text = json.dumps(body, ensure_ascii=False)
    if callback:
        if not CALLBACK.match(callback) or len(callback) > 100:
            raise BadRequest("callback must be a JavaScript identifier such as jsonp123", parameter="callback")
        resp = Response(f"/**/{callback}({text});", mimetype="application/javascript")
    else:
        resp = Response(text, mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def load_json(name: str, raw: str) -> Any:
    try:
        return unicode_input.loads(raw, name)  # a lone surrogate is a 400 too
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", parameter=name
        ) from None


# -- the service ---------------------------------------------------------------------------------


@bp.route("/reconcile", methods=["GET", "POST"])
def service() -> Response:
    """The manifest, or the answer to ``queries``, ``query`` or ``extend``."""
    version = param("version") or "0.2"  # checked even where it changes nothing: a typo is named
    if version not in ("0.2", "1.0-draft"):
        raise BadRequest(f"version must be 0.2 or 1.0-draft, not {version!r}", parameter="version")
    if (raw := param("queries")) is not None:
        return reply(batch(raw))
    if (raw := param("query")) is not None:
        return reply({"result": single(raw)})
    if (raw := param("extend")) is not None:
        return reply(extend(raw))
    if request.method == "POST" and request.is_json:
        return reply(draft_batch(request.get_json(silent=True)))
    if request.method == "POST":
        raise BadRequest("POST queries=, query= or extend= as a form, or a 1.0-draft JSON body", parameter="queries")
    return reply(draft_manifest() if version == "1.0-draft" else manifest())


@bp.post("/reconcile/match")
def draft_match() -> Response:
    """1.0-draft reconciliation: a JSON body ``{"queries": [{"conditions": [...]}, ...]}``."""
    return reply(draft_batch(request.get_json(silent=True)))


def batch(raw: str) -> dict[str, Any]:
    """0.2 batch: ``{"q0": {"query": ...}, ...}`` -> ``{"q0": {"result": [...]}, ...}``."""
    queries = load_json("queries", raw)
    if not isinstance(queries, dict):
        raise BadRequest("queries must be a JSON object of queries keyed by name", parameter="queries")
    if len(queries) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} queries per request", parameter="queries")
    idx = index()
    parsed = {key: parse_query(idx, q, key) for key, q in queries.items()}
    return {key: {"result": [c.to_json() for c in idx.reconcile(q)]} for key, q in parsed.items()}


def single(raw: str) -> list[dict[str, Any]]:
    """0.1/0.2 single query: ``query`` is a JSON object or plain text."""
    stripped = raw.strip()
    spec: Any = load_json("query", stripped) if stripped.startswith("{") else stripped
    idx = index()
    return [c.to_json() for c in idx.reconcile(parse_query(idx, spec))]


def draft_batch(body: Any) -> dict[str, Any]:
    """1.0-draft batch -> ``{"results": [{"candidates": [...]}, ...]}``."""
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise BadRequest('the body must be JSON of the form {"queries": [...]}', parameter="queries")
    if len(body["queries"]) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} queries per request", parameter="queries")
    idx = index()
    parsed = [parse_draft_query(idx, q, i) for i, q in enumerate(body["queries"])]
    return {"results": [{"candidates": [c.to_json() for c in idx.reconcile(q)]} for q in parsed]}


# -- manifest ------------------------------------------------------------------------------------


def _base() -> str:
    return public_url().rstrip("/")


def default_types() -> list[dict[str, str]]:
    return [{"id": t, "name": name} for t, name in TYPE_NAMES.items()]  # states, alliances, events, exercises


def _common_manifest() -> dict[str, Any]:
    return {
        "name": "allianceld: states and military alliances",
        "identifierSpace": ID_BASE,
        "schemaSpace": str(ALD),
        "serviceVersion": __version__,
        "view": {"url": f"{_base()}/id/{{{{id}}}}"},
        "defaultTypes": default_types(),
    }


def manifest() -> dict[str, Any]:
    """The 0.2 service manifest (which also lists 1.0-draft)."""
    root = f"{_base()}/reconcile"
    return {
        "versions": ["0.2", "1.0-draft"],
        **_common_manifest(),
        "preview": {"url": f"{root}/preview?id={{{{id}}}}", **PREVIEW_SIZE},
        "suggest": {
            kind: {"service_url": root, "service_path": f"/suggest/{kind}"} for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {"service_url": root, "service_path": "/propose_properties"},
            "property_settings": _settings(draft=False),
        },
    }


def draft_manifest() -> dict[str, Any]:
    """The 1.0-draft manifest: the same service with that draft's member names."""
    body = {"versions": ["0.2", "1.0-draft"], **_common_manifest(), "lang": "en", "standardizedScore": True}
    body.update(
        {
            "preview": dict(PREVIEW_SIZE),
            "suggest": {"entity": True, "type": True, "property": True},
            "extend": {"proposeProperties": True, "propertySettings": _settings(draft=True)},
        }
    )
    return body


def _settings(draft: bool) -> list[dict[str, Any]]:
    """The data extension settings, with 0.2's member names (name, label, help_text) or the draft's
    (id, name, helpText)."""
    out = []
    for kind, key, label, default, help_text in (
        ("checkbox", CURRENT_SETTING, "Current memberships only", False, "member of / members: leave out ended ones"),
        ("number", "limit", "Limit", 0, "At most this many values per cell (0: all)"),
    ):
        if draft:
            out.append({"type": kind, "id": key, "name": label, "default": default, "helpText": help_text})
        else:
            out.append({"type": kind, "name": key, "label": label, "default": default, "help_text": help_text})
    return out


# -- preview, suggest, properties, extension ------------------------------------------------------


@bp.get("/reconcile/preview")
def preview() -> Response:
    """A small HTML card of an entity for OpenRefine's preview pop-up."""
    ident = param("id")
    if not ident:
        raise BadRequest("id is required, e.g. ?id=alliance/nato", parameter="id")
    e = index().get(ident)
    if e is None:
        raise NotFound(f"no state or alliance has the id {ident!r}", parameter="id")
    facts = []
    for pid in ("iso3166Alpha2", "iso3166Alpha3", "cowCode", "foundingDate", "headquarters", "region", "wikidata"):
        values = e.values.get(pid, [])
        if values:
            shown = ", ".join(str(v.name or v.value) for v in values)
            facts.append(f"<dt>{escape(PROPERTIES[pid].name)}</dt><dd>{escape(shown)}</dd>")
    members = [v for v in e.values.get("member", []) if v.current]
    if members:
        facts.append(f"<dt>members</dt><dd>{len(members)}</dd>")
    others = sorted({text for text, _ in e.labels if text != e.name})[:8]
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
        f"{escape(e.name)}</title>\n"
        "<style>body{font:13px sans-serif;margin:4px}h1{font-size:15px;margin:0}p{margin:2px 0}"
        "dl{display:grid;grid-template-columns:auto 1fr;gap:0 8px;margin:4px 0}dd{margin:0}</style></head>\n"
        f'<body><h1><a href="{escape(_base())}/id/{escape(e.id)}" target="_blank">{escape(e.name)}</a></h1>\n'
        f"<p>{escape(TYPE_NAMES[e.type])}: {escape(e.description)}</p>\n"
        + (f"<p>Also: {escape(' · '.join(others))}</p>\n" if others else "")
        + (f"<dl>{''.join(facts)}</dl>\n" if facts else "")
        + "</body></html>\n"
    )
    return Response(html, mimetype="text/html")


def _limit_param(default: int = 10) -> int:
    raw = param("limit")
    return default if raw in (None, "") else parse_limit(raw)


def _cursor_param() -> int:
    raw = param("cursor") or "0"
    if not (raw.isascii() and raw.isdigit()):  # "²" is a digit that int() refuses
        raise BadRequest(f"cursor must be a non-negative integer, not {raw!r}", parameter="cursor")
    return int(raw)


def _type_param(idx: Index) -> tuple[str, ...]:
    raw = param("type")
    return (idx.check_type(raw),) if raw else ()


@bp.get("/reconcile/suggest/entity")
def suggest_entity() -> Response:
    """Autocomplete states and alliances by ``prefix`` (any language, acronyms included)."""
    idx = index()
    prefix, limit, cursor = param("prefix") or "", _limit_param(), _cursor_param()
    found = idx.suggest_entities(prefix, _type_param(idx), limit + cursor)[cursor:]
    result = [
        {
            "id": e.id,
            "name": e.name,
            "description": e.description,
            "notable": [{"id": e.type, "name": TYPE_NAMES[e.type]}],
        }
        for e in found
    ]
    return reply({"result": result})


@bp.get("/reconcile/suggest/type")
def suggest_type() -> Response:
    idx = index()
    prefix, limit, cursor = param("prefix") or "", _limit_param(), _cursor_param()
    found = idx.suggest_types(prefix, limit + cursor)[cursor:]
    return reply({"result": [{"id": tid, "name": name} for tid, name in found]})


@bp.get("/reconcile/suggest/property")
def suggest_property() -> Response:
    idx = index()
    prefix, limit, cursor = param("prefix") or "", _limit_param(), _cursor_param()
    types = _type_param(idx)
    found = idx.suggest_properties(prefix, types[0] if types else None, limit + cursor)[cursor:]
    return reply({"result": [{"id": p.id, "name": p.name, "description": p.description} for p in found]})


@bp.get("/reconcile/propose_properties")
def propose_properties() -> Response:
    """The properties data extension can fetch for a type."""
    idx = index()
    types = _type_param(idx)
    if not types:
        raise BadRequest("type is required, e.g. ?type=" + STATE, parameter="type")
    limit = _limit_param(len(PROPERTIES))
    props = idx.properties_for(types[0])[:limit]
    return reply(
        {
            "type": types[0],
            "limit": limit,
            "properties": [{"id": p.id, "name": p.name, "description": p.description} for p in props],
        }
    )


def extend(raw: str) -> dict[str, Any]:
    """0.2 data extension: ``{"ids": [...], "properties": [{"id": ..., "settings": {...}}]}``."""
    spec = load_json("extend", raw)
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("ids"), list)
        or not isinstance(spec.get("properties"), list)
    ):
        raise BadRequest('extend must be {"ids": [...], "properties": [{"id": ...}]}', parameter="extend")
    if not all(isinstance(i, str) for i in spec["ids"]):
        raise BadRequest("extend: ids must be strings", parameter="extend")
    if len(spec["ids"]) > MAX_BATCH:
        raise BadRequest(f"extend: at most {MAX_BATCH} ids per request", parameter="extend")
    pids = []
    for p in spec["properties"]:
        if not isinstance(p, dict) or p.get("id") not in PROPERTIES:
            pid = p.get("id") if isinstance(p, dict) else p
            raise BadRequest(
                f"extend: unknown property {pid!r}: use one of {', '.join(PROPERTIES)}", parameter="extend"
            )
        settings = p.get("settings") or {}
        if not isinstance(settings, dict):
            raise BadRequest("extend: settings must be an object", parameter="extend")
        if "limit" in settings:
            try:
                settings = {**settings, "limit": int(settings["limit"])}
            except (TypeError, ValueError):
                raise BadRequest("extend: the limit setting must be a number", parameter="extend") from None
        pids.append((p["id"], settings))
    return index().extend(spec["ids"], pids)
