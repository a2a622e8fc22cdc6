"""Linked Data pages: /id/<kind>/<slug>, /ontology, and the paged listings /alliances, /states and
/states/<slug>/alliances. HTML for browsers, RDF (and a JSON twin) by Accept or ``?format=``."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from allianceld.browse import alliance_record, describe, listings, ontology_doc
from allianceld.browse import names as state_names
from allianceld.errors import BadRequest, NotFound
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, DCTERMS, ID_BASE, ONTOLOGY_GRAPH, ORG, PREFIXES, SKOS
from allianceld.web.durations import DURATION_TYPES, readable_duration
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb
from allianceld.web.views.reasoning import compact, explain_url, parse_iri

bp = Blueprint("resources", __name__)

HTML, JSON = "text/html", "application/json"
RDF_TYPES = list(formats.OUTPUT_TYPES)
DATASET_TYPES = {"application/trig": ox.RdfFormat.TRIG, "application/n-quads": ox.RdfFormat.N_QUADS}
RESOURCE_TYPES = [HTML, *RDF_TYPES, *DATASET_TYPES, JSON]
ONTOLOGY_TYPES = [HTML, *RDF_TYPES, JSON]
LISTING_TYPES = [JSON, HTML]
#: ``?format=`` names, overriding the Accept header
FORMATS = {
    "html": HTML,
    "json": JSON,
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
    "xml": "application/rdf+xml",
    "trig": "application/trig",
    "nq": "application/n-quads",
    "nquads": "application/n-quads",
}
#: the alternates a resource's answers name in their Link header
ALTERNATES = ("html", "ttl", "nt", "jsonld", "rdf", "trig", "nq", "json")
# Turtle prefixes (no "id:", whose local names would need escaped slashes)
TURTLE_PREFIXES = {k: v for k, v in PREFIXES.items() if k != "id"}
KIND = re.compile(r"[a-z][a-z0-9-]{0,63}")
SLUG = re.compile(r"[A-Za-z0-9._~-]{1,200}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
YEAR = re.compile(r"\d{4}")
DEFAULT_LIMIT, MAX_LIMIT = 50, 500

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL_PROPS = {"http://www.w3.org/2000/01/rdf-schema#label", str(SKOS.prefLabel)}
ALT_PROPS = {str(SKOS.altLabel)}
TEXT_PROPS = {str(DCTERMS.description), "http://www.w3.org/2000/01/rdf-schema#comment", str(SKOS.definition)}
LINK_PROPS = {"http://www.w3.org/2002/07/owl#sameAs", str(SKOS.exactMatch), str(SKOS.closeMatch)}
SITES = {
    "www.wikidata.org": "Wikidata",
    "wikidata.org": "Wikidata",
    "dbpedia.org": "DBpedia",
    "sws.geonames.org": "GeoNames",
    "www.geonames.org": "GeoNames",
}


# -- negotiation -----------------------------------------------------------------------------------


def negotiate(offers: list[str], default: str) -> str:
    """The media type to answer with: ``?format=`` when given (400 for one not offered here), else
    by Accept. A browser that sends only ``*/*`` gets HTML when HTML is offered."""
    raw = request.args.get("format")
    if raw is not None:
        mime = FORMATS.get(raw.strip().lower())
        if mime not in offers:
            names = sorted(k for k, v in FORMATS.items() if v in offers)
            raise BadRequest(f"the parameter format must be one of {', '.join(names)}, not {raw!r}", parameter="format")
        return mime
    if HTML in offers and request.user_agent.string.startswith("Mozilla/"):
        default = HTML
    return choose(offers, default)


def _rdf(triples_or_quads: Iterable[Any], mime: str) -> Response:
    fmt = DATASET_TYPES.get(mime) or formats.OUTPUT_TYPES[mime]
    body = ox.serialize(list(triples_or_quads), format=fmt, prefixes=TURTLE_PREFIXES) or b""
    return _vary(Response(body, mimetype=mime))


def _vary(resp: Response) -> Response:
    resp.headers["Vary"] = "Accept"
    return resp


def _flag(name: str, default: bool) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise BadRequest(f"the parameter {name} must be true or false, not {raw!r}", parameter=name)


# -- terms on pages --------------------------------------------------------------------------------


def term_view(term: Any, labels: dict[str, str]) -> dict[str, Any]:
    """A term as a page shows it: an IRI with its label, prefixed name and link (here for the
    store's resources and the ontology's terms, out for the rest), or a literal."""
    if isinstance(term, ox.NamedNode):
        iri = term.value
        href = describe.local_path(iri) or (iri if iri.startswith(("http://", "https://")) else None)
        return {"kind": "iri", "iri": iri, "label": labels.get(iri), "short": compact(iri), "href": href}
    if isinstance(term, ox.Literal):
        datatype = None if term.language else compact(term.datatype.value)
        if datatype == "xsd:string":
            datatype = None
        view = {"kind": "literal", "value": term.value, "language": term.language, "datatype": datatype}
        if not term.language and term.datatype.value in DURATION_TYPES:
            view["readable"] = readable_duration(term.value)  # "115 years 236 days", not P42238D
        return view
    return {"kind": "bnode", "value": str(term)}


def _site(iri: str) -> str:
    host = iri.split("/")[2] if iri.count("/") >= 2 else iri
    return SITES.get(host, host)


def _pick_text(literals: list[ox.Literal]) -> list[str]:
    """English values first, then untagged ones, then the rest; each once."""
    ranked = sorted(
        literals, key=lambda lit: 0 if (lit.language or "").startswith("en") else 1 if not lit.language else 2
    )
    return list(dict.fromkeys(lit.value for lit in ranked))


def resource_view(
    kb: KnowledgeBase,
    d: describe.Description,
    *,
    rows: list[dict[str, Any]] | None = None,
    memberships_offset: int = 0,
    path: str = "",
) -> dict[str, Any]:
    """What the page of a resource shows (and its JSON twin returns): label, descriptions, types,
    links out, memberships (a page of ``alliance_record.PAGE_SIZE`` from ``memberships_offset``, with
    ``membershipsPage`` saying how many there are and linking the pages on ``path``), asserted facts
    with their sources, derived facts with the URL of their explanation, and the resources that point
    at it. ``rows``: the resource's :func:`describe.memberships`, when the caller has them already."""
    node = ox.NamedNode(d.iri)
    derived = d.derived()
    derived_triples = {q.triple for q in derived}
    own_asserted: dict[ox.Triple, list[str]] = {}
    for q in d.asserted():
        if q.subject == node:
            own_asserted.setdefault(q.triple, []).append(describe.graph_of(q))
    every = describe.memberships(kb, d.iri) if rows is None else rows
    size = alliance_record.PAGE_SIZE
    rows = every[memberships_offset : memberships_offset + size]
    wanted = {d.iri} | {  # the terms the view names: of its own triples and those pointing at it
        t.value
        for q in d.quads
        if q.subject == node or q.object == node
        for t in (q.subject, q.predicate, q.object)
        if isinstance(t, ox.NamedNode)
    }
    wanted |= {v for r in rows for v in (r["state"], r["alliance"], r["role"]) if v}
    labels = describe.labels(kb, wanted)

    def view(term: Any) -> dict[str, Any]:
        return term_view(term, labels)

    texts: dict[str, list[ox.Literal]] = {}
    types, facts, links = [], {}, []
    for triple, graphs in own_asserted.items():
        p, o = triple.predicate.value, triple.object
        sources = [describe.graph_source(g) for g in sorted(graphs)]
        if triple.predicate == RDF_TYPE:
            types.append({**view(o), "derived": False, "sources": sources})
        elif isinstance(o, ox.Literal) and p in LABEL_PROPS | ALT_PROPS | TEXT_PROPS:
            texts.setdefault(p, []).append(o)
        elif p in LINK_PROPS and isinstance(o, ox.NamedNode) and not o.value.startswith(ID_BASE):
            links.append({"iri": o.value, "site": _site(o.value), "property": compact(p)})
        else:
            facts.setdefault(p, []).append({**view(o), "sources": sources})
    derived_facts: dict[str, list[dict[str, Any]]] = {}
    for q in sorted(derived, key=lambda q: str(q.triple)):
        if q.subject != node:
            continue
        entry = {
            **view(q.object),
            "by": describe.graph_source(describe.graph_of(q)),
            "explanation": explain_url(q.subject, q.predicate, q.object),
        }
        if q.predicate == RDF_TYPE:
            types.append({**entry, "derived": True})
        elif q.triple in derived_triples:
            derived_facts.setdefault(q.predicate.value, []).append(entry)
    pointing = [
        {
            "subject": view(q.subject),
            "predicate": view(q.predicate),
            "source": describe.graph_source(describe.graph_of(q)),
        }
        for q in d.asserted()
        if q.object == node and q.predicate.value not in (str(ORG.member), str(ORG.organization))
    ]
    derived_pointing = [
        {
            "subject": view(q.subject),
            "predicate": view(q.predicate),
            "by": describe.graph_source(describe.graph_of(q)),
            "explanation": explain_url(q.subject, q.predicate, q.object),
        }
        for q in derived
        if q.object == node and q.subject != node
    ]

    def grouped(by_property: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        out = [
            {"property": view(ox.NamedNode(p)), "values": sorted(vs, key=lambda v: (v.get("label") or "", str(v)))}
            for p, vs in by_property.items()
        ]
        return sorted(out, key=lambda g: (g["property"]["label"] or g["property"]["short"]).casefold())

    label_texts = [lit for p in LABEL_PROPS for lit in texts.get(p, [])]
    return {
        "iri": d.iri,
        "url": describe.local_path(d.iri),
        "label": labels.get(d.iri) or (_pick_text(label_texts) or [None])[0],
        "short": compact(d.iri),
        "altLabels": _pick_text([lit for p in ALT_PROPS for lit in texts.get(p, [])]),
        "descriptions": _pick_text([lit for p in TEXT_PROPS for lit in texts.get(p, [])]),
        "types": sorted(types, key=lambda t: (t["derived"], (t["label"] or t["short"]).casefold())),
        "links": sorted(links, key=lambda x: (x["site"], x["iri"])),
        "memberships": _named_then(kb, [_membership(r, d.iri, view) for r in rows]),
        "membershipsPage": alliance_record.linked(
            {"total": len(every), "offset": memberships_offset, "limit": size}, "memberships", path
        ),
        "names": _dated_names(kb, d.iri),
        "formerNames": _former_names(kb, d.iri, labels.get(d.iri)),
        "facts": grouped(facts),
        "derived": grouped(derived_facts),
        "referencedBy": sorted(pointing, key=lambda x: (x["predicate"]["short"], x["subject"]["label"] or "")),
        "derivedReferences": sorted(
            derived_pointing, key=lambda x: (x["predicate"]["short"], x["subject"]["label"] or "")
        ),
        "triples": len(d.triples()),
    }


def _membership(r: dict[str, Any], iri: str, view: Any) -> dict[str, Any]:
    def iri_view(value: str | None) -> dict[str, Any] | None:
        return view(ox.NamedNode(value)) if value else None

    return {
        "membership": iri_view(r["m"]),
        "state": iri_view(r["state"]),
        "alliance": iri_view(r["alliance"]),
        "other": iri_view(r["alliance"] if r["state"] == iri else r["state"]),
        "role": iri_view(r["role"]),
        "startDate": r["start"],
        "startDatePrecision": listings.precision_name(r["startPrecision"]),
        "endDate": r["end"],
        "endDatePrecision": listings.precision_name(r["endPrecision"]),
        "source": describe.graph_source(r["g"]),
    }


def _named_then(kb: KnowledgeBase, memberships: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each state member of an alliance under the name it had when its membership began (the
    Soviet Union, not Russia, in the Warsaw Pact); ``todayLabel`` keeps the state's label."""
    pairs = {
        (m["state"]["iri"], dt.date.fromisoformat(m["startDate"]))
        for m in memberships
        if m["state"] and m["other"] == m["state"] and m["startDate"]
    }
    named = state_names.names_on(kb, pairs)
    for m in memberships:
        if m["state"] and m["other"] == m["state"] and m["startDate"]:
            then = named.get((m["state"]["iri"], dt.date.fromisoformat(m["startDate"])))
            if then and then != m["other"].get("label"):
                m["other"] = {**m["other"], "label": then, "todayLabel": m["other"].get("label")}
    return memberships


def _former_names(kb: KnowledgeBase, iri: str, current: str | None) -> list[dict[str, Any]]:
    """The names a state no longer bears, the latest first, each with the years it was in use
    (shown beside the heading: "formerly Soviet Union (1922-1991), …")."""
    names = state_names.dated_names(kb, [iri]).get(iri, [])
    return [
        {"label": n.label, "url": describe.local_path(n.iri), "period": state_names.period(n)}
        for n in state_names.former(names, current, dt.date.today())
    ]


def _dated_names(kb: KnowledgeBase, iri: str) -> list[dict[str, Any]]:
    """The names a state bore through time, oldest first, with their dates and precisions."""
    return [
        {
            "iri": n.iri,
            "url": describe.local_path(n.iri),
            "label": n.label,
            "startDate": n.start,
            "startDatePrecision": listings.precision_name(n.start_precision),
            "endDate": n.end,
            "endDatePrecision": listings.precision_name(n.end_precision),
        }
        for n in state_names.dated_names(kb, [iri]).get(iri, [])
    ]


# -- /id/<kind>/<slug> -----------------------------------------------------------------------------


@bp.get("/id/<kind>/<slug>")
def resource(kind: str, slug: str) -> Response:
    """A resource of the store: an HTML page, its RDF description (Turtle, N-Triples, JSON-LD,
    RDF/XML; TriG and N-Quads keep each triple in its graph, so derived ones are told apart), or
    the page's data as JSON. ``inference=false`` leaves out the derived triples."""
    if not KIND.fullmatch(kind) or slug in (".", "..") or len(slug) > 1000 or any(ord(c) < 32 for c in slug):
        raise NotFound(f"no resource /id/{kind}/{slug}: not a resource path")
    iri = describe.resource_iri(kind, slug)
    kb = get_kb()
    inference = _flag("inference", True)
    found = describe.describe(kb, iri, inference=inference)
    if found is None:
        raise NotFound(f"the store has no resource {iri}", iri=iri)
    mime = negotiate(RESOURCE_TYPES, "text/turtle")
    path = describe.local_path(iri) or ""
    if mime in DATASET_TYPES:
        resp = _rdf(found.quads, mime)
    elif mime in formats.OUTPUT_TYPES:
        resp = _rdf(found.triples(), mime)
    else:
        rows = describe.memberships(kb, iri)
        data = resource_view(kb, found, rows=rows, memberships_offset=_int("memberships_offset", 0, 0), path=path)
        data["formats"] = {name: f"{path}?format={name}" for name in ("ttl", "nt", "jsonld", "rdf", "trig", "json")}
        if kind == "alliance":  # its events, exercises, claims and indicators, a page of each
            offsets = {k: _int(f"{k}_offset", 0, 0) for k in ("events", "exercises", "claims")}
            data.update(alliance_record.record(kb, iri, offsets, path, rows=rows))
        if mime == HTML:
            resp = _vary(Response(render_template("resource.html", v=data, inference=inference)))
        else:
            resp = _vary(jsonify(data))
    resp.headers["Link"] = ", ".join(
        [f'<{iri}>; rel="canonical"']
        + [f'<{path}?format={name}>; rel="alternate"; type="{FORMATS[name]}"' for name in ALTERNATES]
    )
    return resp


# -- /ontology -------------------------------------------------------------------------------------


@bp.get("/ontology")
def ontology() -> Response:
    """The ontology as stored: HTML documentation generated from it, the ontology in an RDF syntax,
    or the documentation's data as JSON."""
    kb = get_kb()
    if ONTOLOGY_GRAPH not in kb.graphs():
        raise NotFound("the store holds no ontology (allianceld init loads it)")
    mime = negotiate(ONTOLOGY_TYPES, "text/turtle")
    triples = kb.triples(ONTOLOGY_GRAPH)
    if mime in formats.OUTPUT_TYPES:
        return _rdf(sorted(triples, key=str), mime)
    doc = _documentation(triples)
    if mime == HTML:
        return _vary(Response(render_template("ontology.html", o=doc)))
    return _vary(jsonify(doc))


def _documentation(triples: list[ox.Triple]) -> dict[str, Any]:
    """The ontology's documentation, generated once per ontology content (0.3 s with rdflib)."""
    digest = hashlib.sha256("\n".join(sorted(map(str, triples))).encode()).hexdigest()
    cache: dict[str, dict[str, Any]] = current_app.extensions.setdefault("allianceld.browse.ontology_doc", {})
    if digest not in cache:
        cache.clear()
        cache[digest] = ontology_doc.document(formats.to_rdflib(triples))
    return cache[digest]


# -- listings --------------------------------------------------------------------------------------


def _int(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    digits = raw.strip()
    value = int(digits) if digits.isascii() and digits.isdigit() else minimum - 1  # not "²", which int() refuses
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum}" + (f" to {maximum}" if maximum is not None else "")
        raise BadRequest(f"the parameter {name} must be a whole number {bounds}, not {raw!r}", parameter=name)
    return value


def _paging() -> tuple[int, int]:
    """``limit`` and the offset: ``offset``, or ``page`` (from 1) times ``limit``."""
    limit = _int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    if "page" in request.args and "offset" in request.args:
        raise BadRequest("give the parameter offset or page, not both", parameter="page")
    if "page" in request.args:
        return limit, (_int("page", 1, 1, 10**6) - 1) * limit
    return limit, _int("offset", 0, 0)


def _date(name: str) -> dt.date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        if not DATE.fullmatch(raw):
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"the parameter {name} must be a day as YYYY-MM-DD, not {raw!r}", parameter=name) from None


def _year(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not YEAR.fullmatch(raw) or int(raw) < 1:
        raise BadRequest(f"the parameter {name} must be a year as YYYY, not {raw!r}", parameter=name)
    return int(raw)


def _obligation(name: str = "obligation") -> str | None:
    """``obligation=``: a key of :data:`listings.OBLIGATIONS` (none: every alliance); 400 otherwise."""
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "any"):
        return None
    if raw not in listings.OBLIGATIONS:
        raise BadRequest(
            f"the parameter {name} must be one of {', '.join(listings.OBLIGATIONS)}, not {raw!r}", parameter=name
        )
    return raw


def _alliance_type(name: str = "type") -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    cls = listings.ALLIANCE_TYPES.get(raw.strip().lower())
    if cls is None:
        raise BadRequest(
            f"the parameter {name} must be one of {', '.join(listings.ALLIANCE_TYPES)}, not {raw!r}", parameter=name
        )
    return cls


KNOWN = "SELECT ?x WHERE {{ ?x a {cls} FILTER(STRSTARTS(STR(?x), {base})) }} ORDER BY ?x LIMIT 40"
IS_A = "ASK {{ {node} a {cls} }}"


def _reference(name: str, kind: str, cls: Any) -> str | None:
    """A parameter naming a resource of class ``cls``: its slug (``europe``) or its IRI (full, or
    ``id:region/europe``); 400 when the store has no such resource."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    node = ox.NamedNode(ID_BASE + f"{kind}/{raw}") if SLUG.fullmatch(raw) else parse_iri(name, raw)
    kb = get_kb()
    cls_node = ox.NamedNode(str(cls))
    if not bool(kb.query(IS_A.format(node=node, cls=cls_node), prefixes=True)):
        base = ox.Literal(f"{ID_BASE}{kind}/")
        known = [r["x"].removeprefix(base.value) for r in kb.select(KNOWN.format(cls=cls_node, base=base))]
        raise BadRequest(
            f"the parameter {name} names no {kind} in the store ({raw!r}); known: {', '.join(known)}",
            parameter=name,
        )
    return node.value


def _listing(page: listings.Page, limit: int, offset: int, endpoint: str, **values: Any) -> dict[str, Any]:
    """The JSON of a page of a listing, with the filters as given and the links to the pages
    before and after it."""
    filters = {
        k: request.args[k] for k in ("active_on", "region", "type", "alliance", "obligation") if request.args.get(k)
    }

    def link(at: int) -> str:
        return url_for(endpoint, **values, **filters, limit=limit, offset=at)

    following = offset + limit if offset + limit < page.total else None
    previous = max(0, offset - limit) if offset > 0 else None
    return {
        "items": page.items,
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "filters": filters,
        "next": link(following) if following is not None else None,
        "previous": link(previous) if previous is not None else None,
    }


def _answer(template: str, data: dict[str, Any], **context: Any) -> Response:
    if negotiate(LISTING_TYPES, JSON) == HTML:
        return _vary(
            Response(
                render_template(
                    template, data=data, types=listings.ALLIANCE_TYPES, obligations=listings.OBLIGATIONS, **context
                )
            )
        )
    return _vary(jsonify(data))


@bp.get("/alliances")
def alliances() -> Response:
    """The alliances by label, paged (``limit``, ``offset`` or ``page``), filtered by ``active_on``
    (founded by that day and not dissolved before it), ``region``, ``type`` and ``obligation`` (one of
    whose treaties has a provision of that kind: defence, offence, neutrality, non-aggression, consultation)."""
    limit, offset = _paging()
    filters = listings.Filters(
        active_on=_date("active_on"),
        region=_reference("region", "region", ALD.Region),
        alliance_type=_alliance_type(),
        obligation=_obligation(),
    )
    page = listings.alliances(get_kb(), filters, limit=limit, offset=offset)
    return _answer("alliances.html", _listing(page, limit, offset, "resources.alliances"))


@bp.get("/states")
def states() -> Response:
    """The states by label, paged, filtered by ``region`` (the state's), and by ``active_on``,
    ``alliance`` and ``type``: a membership active that day, of that alliance, of an alliance of that type."""
    limit, offset = _paging()
    filters = listings.Filters(
        active_on=_date("active_on"),
        region=_reference("region", "region", ALD.Region),
        alliance_type=_alliance_type(),
        alliance=_reference("alliance", "alliance", ALD.Alliance),
    )
    page = listings.states(get_kb(), filters, limit=limit, offset=offset)
    return _answer("states.html", _listing(page, limit, offset, "resources.states"))


@bp.get("/states/<slug>/alliances")
def state_alliances(slug: str) -> Response:
    """The alliances a state belonged to: at any time in ``year``, on ``active_on``, or ever."""
    if not SLUG.fullmatch(slug):
        raise NotFound(f"no state {slug!r}")
    state = ID_BASE + "state/" + slug
    kb = get_kb()
    if not bool(kb.query(f"ASK {{ {ox.NamedNode(state)} a ald:State }}", prefixes=True)):
        raise NotFound(f"the store has no state {state}", iri=state)
    year, day = _year("year"), _date("active_on")
    if year is not None and day is not None:
        raise BadRequest("give the parameter year or active_on, not both", parameter="year")
    items = listings.state_alliances(kb, state, listings.Filters(year=year, active_on=day))
    data = {
        "state": {
            "iri": state,
            "id": slug,
            "label": describe.labels(kb, [state]).get(state),
            "url": describe.local_path(state),
        },
        "year": year,
        "active_on": day.isoformat() if day else None,
        "items": items,
        "total": len(items),
    }
    return _answer("state_alliances.html", data)
