"""GET /reasoning: the classification, derived facts and the consistency verdict; GET
/reasoning/explain: how one triple holds (JSON and HTML).

:func:`explain_url` (also a Jinja global, with the ``why`` macro of ``_reasoning.html``) makes the
link to the explanation of a triple, for any page that shows derived facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, render_template, request

from allianceld.errors import AllianceldError, BadRequest, NotFound
from allianceld.reasoning import explain as explaining
from allianceld.store import KnowledgeBase
from allianceld.store.backends import EmbeddedBackend
from allianceld.vocab import ALD, INFERRED_GRAPH, ORG, PREFIXES, is_inferred_graph
from allianceld.web.negotiation import choose
from allianceld.web.services import services

bp = Blueprint("reasoning", __name__)

EXPLAIN_PATH = "/reasoning/explain"
OWL_RL_RULES = "https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules"

DERIVED_MEMBERSHIPS = f"""
SELECT ?member ?memberLabel ?organization ?organizationLabel WHERE {{
  GRAPH <{INFERRED_GRAPH}> {{ ?member org:memberOf ?organization }}
  OPTIONAL {{ ?member rdfs:label ?memberLabel FILTER(lang(?memberLabel) = "en") }}
  OPTIONAL {{ ?organization rdfs:label ?organizationLabel FILTER(lang(?organizationLabel) = "en") }}
}} ORDER BY ?organizationLabel ?memberLabel
"""

STATE_ALLIANCES = f"""
SELECT ?state ?stateLabel ?alliance ?allianceLabel WHERE {{
  GRAPH <{INFERRED_GRAPH}> {{ ?state org:memberOf ?alliance }}
  ?state a ald:State .
  OPTIONAL {{ ?state rdfs:label ?stateLabel FILTER(lang(?stateLabel) = "en") }}
  OPTIONAL {{ ?alliance rdfs:label ?allianceLabel FILTER(lang(?allianceLabel) = "en") }}
}}
"""

STATE_ALLIES = """
SELECT ?state ?stateLabel ?ally ?allyLabel WHERE {{
  VALUES ?g {{ {graphs} }}
  GRAPH ?g {{ ?state ald:alliedWith ?ally }}
  OPTIONAL {{ ?state rdfs:label ?stateLabel FILTER(lang(?stateLabel) = "en") }}
  OPTIONAL {{ ?ally rdfs:label ?allyLabel FILTER(lang(?allyLabel) = "en") }}
}}
"""


class ExplanationsUnavailable(AllianceldError):
    """Explanations read the embedded store's indexes; a remote SPARQL store cannot give them."""

    status = 501
    kind = "not-implemented"


# -- links ---------------------------------------------------------------------------------------


@bp.app_template_global("explain_url")
def explain_url(s: Any, p: Any, o: Any) -> str:
    """The URL of the explanation of the triple ``s p o``: each term a pyoxigraph term, a SPARQL
    JSON term (``{"type": "uri", "value": ...}``), or text (an IRI, or a literal in N-Triples
    syntax). IRIs are written as prefixed names where they can be. A Jinja global too, so that
    any page can link to ``why?`` (the ``why`` macro of ``_reasoning.html``).

    >>> explain_url("https://w3id.org/allianceld/id/state/usa", "http://www.w3.org/ns/org#memberOf",
    ...             ox.NamedNode("https://w3id.org/allianceld/id/alliance/nato"))
    '/reasoning/explain?s=id:state/usa&p=org:memberOf&o=id:alliance/nato'
    >>> explain_url("https://example.org/a#b", "http://purl.org/dc/terms/title", ox.Literal("N", language="en"))
    '/reasoning/explain?s=https://example.org/a%23b&p=dcterms:title&o=%22N%22%40en'
    >>> explain_url("id:alliance/nato", "ald:foundingDate", {"type": "literal", "value": "1949-04-04",
    ...             "datatype": "http://www.w3.org/2001/XMLSchema#date"})
    '/reasoning/explain?s=id:alliance/nato&p=ald:foundingDate&o=%221949-04-04%22%5E%5Exsd:date'
    """
    params = {"s": _param(s), "p": _param(p), "o": _param(o)}
    return EXPLAIN_PATH + "?" + urlencode(params, safe=":/", quote_via=quote)


def _param(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.Literal):
        return _literal(term)
    if isinstance(term, ox.BlankNode):
        return str(term)
    if isinstance(term, Mapping):
        if term.get("type") == "literal":
            datatype = term.get("datatype")
            language = term.get("xml:lang")
            return _literal(
                ox.Literal(term["value"], language=language, datatype=ox.NamedNode(datatype) if datatype else None)
                if not language
                else ox.Literal(term["value"], language=language)
            )
        return compact(str(term["value"]))
    text = str(term)
    return text if text.startswith(('"', "'", "<")) else compact(text)


def _literal(term: ox.Literal) -> str:
    """A literal in N-Triples syntax, an XML Schema datatype as ``xsd:`` name (``parse_object``
    reads both)."""
    xsd = PREFIXES["xsd"]
    if term.language or not term.datatype.value.startswith(xsd) or not term.datatype.value[len(xsd) :].isalnum():
        return str(term)
    return f"{ox.Literal(term.value)}^^xsd:{term.datatype.value[len(xsd) :]}"


def contribution_url(contribution_id: str) -> str:
    return "/contributions/" + quote(contribution_id, safe="")


# -- parameters ----------------------------------------------------------------------------------

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PREFIXED = re.compile(r"^([A-Za-z][\w.-]*)?:(.*)$", re.DOTALL)
_TURTLE_PROLOGUE = "".join(f"@prefix {k}: <{v}> .\n" for k, v in PREFIXES.items())
_FORMS = "a full IRI, <IRI>, a prefixed name such as ald:Alliance"


def _required(name: str) -> str:
    value = request.args.get(name)
    if value is None or not value.strip():
        raise BadRequest(f"the parameter {name} is missing: give the triple's s, p and o", parameter=name)
    return value.strip()


def parse_iri(name: str, raw: str) -> ox.NamedNode:
    """A parameter naming a resource: a full IRI, ``<IRI>``, or a prefixed name with one of the
    prefixes of :data:`allianceld.vocab.PREFIXES` (``ald:Alliance``, ``id:state/usa``)."""
    text = raw
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    else:
        m = _PREFIXED.match(text)
        if m and (m.group(1) or "") in PREFIXES:
            text = PREFIXES[m.group(1) or ""] + m.group(2)
    if not _SCHEME.match(text):
        raise BadRequest(f"the parameter {name} is not an IRI ({_FORMS}): {raw}", parameter=name)
    try:
        return ox.NamedNode(text)
    except ValueError as exc:
        raise BadRequest(f"the parameter {name} is not a valid IRI: {exc}", parameter=name) from None


def parse_object(raw: str) -> ox.NamedNode | ox.Literal:
    """The ``o`` parameter: a literal in N-Triples (or Turtle) syntax when it starts with a quote
    (``"1949-04-04"^^<http://www.w3.org/2001/XMLSchema#date>``, ``"NATO"@en``, prefixed datatypes
    allowed), an IRI otherwise."""
    if not raw.startswith(('"', "'")):
        return parse_iri("o", raw)
    document = f"{_TURTLE_PROLOGUE}<urn:allianceld:s> <urn:allianceld:p> {raw} .\n"
    try:
        triples = list(ox.parse(document.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:  # its position is in the document above: leave it out
        problem = re.sub(r"^Parser error (?:between|at) .*?: ", "", str(exc))
        raise BadRequest(
            f"the parameter o is not an RDF literal in N-Triples syntax "
            f'(such as "1949-04-04"^^<http://www.w3.org/2001/XMLSchema#date>): {problem}',
            parameter="o",
        ) from None
    if len(triples) != 1 or not isinstance(triples[0].object, ox.Literal):
        raise BadRequest("the parameter o must be one RDF literal (or an IRI)", parameter="o")
    return triples[0].object


def requested_triple() -> ox.Triple:
    s, p, o = (_required(n) for n in ("s", "p", "o"))
    return ox.Triple(parse_iri("s", s), parse_iri("p", p), parse_object(o))


# -- terms for pages ---------------------------------------------------------------------------


def compact(iri: str) -> str:
    """``iri`` as a prefixed name when one of the known namespaces holds it, else unchanged."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else iri


def english_labels(kb: KnowledgeBase, iris: Iterable[str]) -> dict[str, str]:
    """An English rdfs:label of each IRI that has one."""
    nodes = sorted(set(iris))
    if not nodes:
        return {}
    values = " ".join(str(ox.NamedNode(i)) for i in nodes)
    rows = kb.select(
        f"SELECT ?x (MIN(?l) AS ?label) WHERE {{ VALUES ?x {{ {values} }} ?x rdfs:label ?l "
        'FILTER(langMatches(lang(?l), "en")) } GROUP BY ?x'
    )
    return {r["x"]: r["label"] for r in rows if r["label"] is not None}


def term_view(term: Any, labels: Mapping[str, str]) -> dict[str, Any]:
    """What a page shows of a term: an IRI's label and prefixed name, a literal's value and type."""
    if isinstance(term, ox.NamedNode):
        return {"kind": "iri", "iri": term.value, "short": compact(term.value), "label": labels.get(term.value)}
    if isinstance(term, ox.Literal):
        datatype = None if term.language else compact(term.datatype.value)
        return {"kind": "literal", "value": term.value, "language": term.language, "datatype": datatype}
    return {"kind": "bnode", "value": str(term)}


# -- /reasoning/explain ----------------------------------------------------------------------------


def _annotate(node: dict[str, Any], e: explaining.Explanation) -> dict[str, Any]:
    """The JSON of an explanation with, at every level, the URL of its own explanation and of the
    contributions its sources are."""
    t = e.triple
    node["explanation"] = explain_url(t.subject, t.predicate, t.object)
    if "sources" in node:
        node["sources"] = [
            {**s, "contributionUrl": contribution_url(s["contribution"])} if "contribution" in s else dict(s)
            for s in node["sources"]
        ]
    for child, premise in zip(node.get("premises", []), e.premises, strict=True):
        _annotate(child, premise)
    return node


def _iris(e: explaining.Explanation, found: set[str]) -> set[str]:
    for term in (e.triple.subject, e.triple.predicate, e.triple.object):
        if isinstance(term, ox.NamedNode):
            found.add(term.value)
    for premise in e.premises:
        _iris(premise, found)
    return found


def _rule_link(e: explaining.Explanation) -> str | None:
    if e.status == "inferred":
        return OWL_RL_RULES
    if e.status == "derived" and e.rule:
        return "/reasoning#rule-" + e.rule.rsplit("#", 1)[-1]
    return None


def explanation_view(e: explaining.Explanation, labels: Mapping[str, str], seen: set[ox.Triple]) -> dict[str, Any]:
    """The premise tree as the HTML page shows it; a triple explained higher up the page is shown
    once, later occurrences say so (``repeated``) and link to its own page."""
    t = e.triple
    view: dict[str, Any] = {
        "s": term_view(t.subject, labels),
        "p": term_view(t.predicate, labels),
        "o": term_view(t.object, labels),
        "status": e.status,
        "rule": e.rule,
        "ruleLabel": e.rule_label,
        "ruleLink": _rule_link(e),
        "axiom": e.axiom,
        "url": explain_url(t.subject, t.predicate, t.object),
        "sources": [
            {**s, "contributionUrl": contribution_url(s["contribution"])} if "contribution" in s else dict(s)
            for s in e.sources
        ],
        "premises": [],
        "repeated": False,
    }
    if e.premises and t in seen:
        view["repeated"] = True
        return view
    seen.add(t)
    view["premises"] = [explanation_view(p, labels, seen) for p in e.premises]
    return view


@bp.get(EXPLAIN_PATH)
def explain() -> Response:
    """How a triple holds: the OWL 2 RL rule and axiom, or the domain rule, that derived it, and the
    triples it rests on, down to asserted data with its source (data file or contribution)."""
    triple = requested_triple()
    mime = choose(["application/json", "text/html"], "application/json")
    svc = services()
    if not isinstance(svc.kb.backend, EmbeddedBackend):
        raise ExplanationsUnavailable(
            "explanations need the embedded store (they read its indexes); this service queries a remote "
            "SPARQL endpoint"
        )
    found = explaining.explain(svc.kb, triple, svc.domain_rules())
    if found.status == "unknown":
        store = svc.kb.backend.store
        held = any(True for _ in store.quads_for_pattern(triple.subject, triple.predicate, triple.object, None))
        shown = f"{triple.subject} {triple.predicate} {triple.object}"
        if held:
            raise NotFound(f"the store holds {shown} but no derivation of it could be found", triple=shown)
        raise NotFound(f"the store neither holds nor derives the triple {shown}", triple=shown)
    if mime == "text/html":
        labels = english_labels(svc.kb, _iris(found, set()))
        view = explanation_view(found, labels, set())
        return Response(render_template("explanation.html", e=view))
    return jsonify(_annotate(found.to_json(), found))


# -- /reasoning ------------------------------------------------------------------------------------


def _values(graphs: Iterable[str]) -> str:
    return " ".join(str(ox.NamedNode(g)) for g in graphs)


def derived_counts(kb: KnowledgeBase, graphs: list[str]) -> dict[str, Any]:
    """Derived triples in ``graphs`` (the OWL 2 RL inferred graph and the domain rules' graphs):
    in all, by graph, by property, and the derived types by class."""
    if not graphs:
        return {"triples": 0, "byGraph": {}, "byProperty": {}, "typesByClass": {}}
    values = _values(graphs)
    by_property = kb.select(
        f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
        "GROUP BY ?p ORDER BY DESC(?n) ?p"
    )
    by_class = kb.select(
        f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s a ?c }} }} "
        "GROUP BY ?c ORDER BY DESC(?n) ?c"
    )
    by_graph = {g: kb.count(g) for g in graphs}
    return {
        "triples": sum(by_graph.values()),
        "byGraph": by_graph,
        "byProperty": {r["p"]: int(r["n"]) for r in by_property},
        "typesByClass": {r["c"]: int(r["n"]) for r in by_class},
    }


def _rule_json(rule: Any, triples: int) -> dict[str, Any]:
    return {
        "id": rule.name,
        "iri": rule.iri,
        "label": rule.label,
        "comment": rule.comment,
        "graph": rule.graph,
        "triples": triples,
        "url": "/reasoning#rule-" + rule.name,
        "data": "/data?" + urlencode({"graph": rule.graph}, quote_via=quote),
    }


def allies_by_state(kb: KnowledgeBase, rule_graphs: list[str]) -> list[dict[str, Any]]:
    """Each state with the alliances it is derived to be a member of (org:memberOf in the OWL 2 RL
    inferred graph) and the states it is derived to be allied with (ald:alliedWith in a domain
    rule's graph), each with the URL of its explanation."""
    states: dict[str, dict[str, Any]] = {}

    def state(iri: str, label: str | None) -> dict[str, Any]:
        entry = states.setdefault(iri, {"state": iri, "label": label, "alliances": {}, "allies": {}})
        entry["label"] = entry["label"] or label
        return entry

    for r in kb.select(STATE_ALLIANCES):
        entry = state(r["state"], r["stateLabel"])
        entry["alliances"].setdefault(
            r["alliance"],
            {
                "alliance": r["alliance"],
                "label": r["allianceLabel"],
                "explanation": explain_url(r["state"], str(ORG.memberOf), r["alliance"]),
            },
        )
    if rule_graphs:
        for r in kb.select(STATE_ALLIES.format(graphs=_values(rule_graphs))):
            entry = state(r["state"], r["stateLabel"])
            entry["allies"].setdefault(
                r["ally"],
                {
                    "state": r["ally"],
                    "label": r["allyLabel"],
                    "explanation": explain_url(r["state"], str(ALD.alliedWith), r["ally"]),
                },
            )

    def by_name(item: dict[str, Any], key: str) -> tuple[str, str]:
        return (item["label"] or item[key]).casefold(), item[key]

    return [
        {
            **entry,
            "alliances": sorted(entry["alliances"].values(), key=lambda a: by_name(a, "alliance")),
            "allies": sorted(entry["allies"].values(), key=lambda a: by_name(a, "state")),
        }
        for entry in sorted(states.values(), key=lambda e: by_name(e, "state"))
    ]


def reasoning_summary() -> dict[str, Any]:
    """The data behind /reasoning (the HTML page renders exactly this)."""
    svc = services()
    kb = svc.kb
    inferred = [g for g in kb.graphs() if is_inferred_graph(g)]
    rule_graphs = [g for g in inferred if g != INFERRED_GRAPH]
    derived = derived_counts(kb, inferred)
    rules = svc.domain_rules()
    data: dict[str, Any] = {
        "inferredGraph": INFERRED_GRAPH,
        "derived": derived,
        "memberOf": [
            {**r, "explanation": explain_url(r["member"], str(ORG.memberOf), r["organization"])}
            for r in kb.select(DERIVED_MEMBERSHIPS)
        ],
        "consistency": svc.consistency().to_json(),
        "classification": svc.classification(),
        "rules": [_rule_json(r, derived["byGraph"].get(r.graph, 0)) for r in rules],
        "alliesByState": allies_by_state(kb, rule_graphs),
    }
    problem = svc.rules_problem()
    if problem:
        data["rulesProblem"] = problem
    return data


#: rows of the page's long tables per page (?page=): a state's row names all its allies
ALLIES_PER_PAGE, MEMBER_OF_PER_PAGE = 100, 100


def _page_number(pages: int) -> int:
    """``page=N`` (1 when absent): 400 naming it unless a whole number from 1 to ``pages``."""
    raw = request.args.get("page") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= max(1, pages):
        raise BadRequest(
            f"the parameter page must be a whole number from 1 to {max(1, pages)}, not {raw!r}", parameter="page"
        )
    return int(raw)


def paged(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with one page (``?page=``) of its long lists (the states' derived alliances and
    allies, the derived memberships) and the paging: the page, the number of pages, each list's
    first and last row shown and total."""
    sizes = {"alliesByState": ALLIES_PER_PAGE, "memberOf": MEMBER_OF_PER_PAGE}
    pages = max(-(-len(data[key]) // size) for key, size in sizes.items())
    page = _page_number(pages)
    out = dict(data)
    shown: dict[str, dict[str, int]] = {}
    for key, size in sizes.items():
        first = (page - 1) * size
        out[key] = data[key][first : first + size]
        shown[key] = {"first": first + 1, "last": first + len(out[key]), "total": len(data[key])}
    out["paging"] = {"page": page, "pages": max(1, pages), "shown": shown}
    return out


@bp.get("/reasoning")
def summary() -> Response:
    """The reasoning results: JSON whole, the HTML page with its long tables a page at a time."""
    mime = choose(["application/json", "text/html"], "application/json")
    data = reasoning_summary()
    if mime == "text/html":
        return Response(render_template("reasoning.html", data=paged(data), compact=compact))
    return jsonify(data)
