"""What the store says about one resource: its triples (asserted and derived, each in its graph),
its memberships, the labels of what it links to, and where each asserted triple comes from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from allianceld.store import KnowledgeBase
from allianceld.vocab import (
    ALD,
    CONTRIBUTION_GRAPH_BASE,
    DATA_GRAPH_BASE,
    ID_BASE,
    INFERRED_GRAPH,
    ORG,
    RULE_GRAPH_BASE,
    Kind,
    is_inferred_graph,
    kind_of,
)

#: at most this many triples that point at a resource are described with it (a region has a few
#: dozen states; a popular resource in a large store would have many more)
INCOMING_LIMIT = 1000

MEMBER = ox.NamedNode(str(ORG.member))
ORGANIZATION = ox.NamedNode(str(ORG.organization))

MEMBERSHIPS = """
SELECT ?m ?state ?alliance ?role ?start ?startPrecision ?end ?endPrecision ?g WHERE {{
  VALUES ?x {{ {node} }}
  {{ GRAPH ?g {{ ?m org:member ?x ; org:organization ?alliance }} BIND(?x AS ?state) }}
  UNION
  {{ GRAPH ?g {{ ?m org:organization ?x ; org:member ?state }} BIND(?x AS ?alliance) }}
  FILTER(!STRSTARTS(STR(?g), {inferred}))
  OPTIONAL {{ ?m org:role ?role }}
  OPTIONAL {{ ?m ald:startDate ?start }}
  OPTIONAL {{ ?m ald:startDatePrecision ?startPrecision }}
  OPTIONAL {{ ?m ald:endDate ?end }}
  OPTIONAL {{ ?m ald:endDatePrecision ?endPrecision }}
}}
"""

LABEL_PROPERTIES = [
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
    ox.NamedNode("http://purl.org/dc/terms/title"),
]


@dataclass(frozen=True)
class Description:
    """The quads about ``iri``: its own triples (blank nodes followed), the triples of its
    memberships and the triples that point at it, each quad in the graph that holds it."""

    iri: str
    quads: list[ox.Quad]

    def triples(self) -> list[ox.Triple]:
        """Each triple once, whichever graphs hold it, in a stable order."""
        return sorted({q.triple for q in self.quads}, key=str)

    def asserted(self) -> list[ox.Quad]:
        return [q for q in self.quads if not is_inferred_graph(graph_of(q))]

    def derived(self) -> list[ox.Quad]:
        """Quads of the OWL 2 RL graph and the domain rules' graphs whose triple no asserted graph holds."""
        held = {q.triple for q in self.asserted()}
        return [q for q in self.quads if is_inferred_graph(graph_of(q)) and q.triple not in held]


def graph_of(q: ox.Quad) -> str:
    """The name of the graph that holds ``q`` ("" for the default graph)."""
    return q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""


def resource_iri(kind: str, slug: str) -> str:
    """The IRI of ``/id/<kind>/<slug>`` (the slug as the path gave it, decoded; encoded again here
    the way :func:`allianceld.vocab.agent_iri` encodes names).

    >>> resource_iri("agent", "Ada Lovelace")
    'https://w3id.org/allianceld/id/agent/Ada%20Lovelace'
    """
    return f"{ID_BASE}{kind}/{quote(slug, safe='')}"


def local_path(iri: str) -> str | None:
    """Where this app serves ``iri``: ``/id/...`` for resources, ``/ontology#Term`` for terms."""
    if iri.startswith(ID_BASE):
        return "/id/" + iri[len(ID_BASE) :]
    if iri.startswith(str(ALD)):
        return "/ontology#" + iri[len(str(ALD)) :]
    return None


def exists(kb: KnowledgeBase, iri: str) -> bool:
    """True when some graph holds a triple with ``iri`` as subject."""
    return bool(kb.match([ox.NamedNode(iri)], graphs=kb.graphs(), limit=1))


def describe(kb: KnowledgeBase, iri: str, *, inference: bool = True) -> Description | None:
    """The description of ``iri``, or None when no graph holds a triple about it. ``inference=False``
    leaves out the derived triples."""
    if not exists(kb, iri):
        return None
    graphs = kb.graphs() if inference else kb.asserted_graphs()
    node = ox.NamedNode(iri)
    found: dict[ox.Quad, None] = dict.fromkeys(_closure(kb, [node], graphs))
    pointing = kb.match([node], incoming=True, graphs=graphs, limit=INCOMING_LIMIT)
    found.update(dict.fromkeys(pointing))
    memberships = {
        q.subject for q in pointing if q.predicate in (MEMBER, ORGANIZATION) and not is_inferred_graph(graph_of(q))
    }
    found.update(dict.fromkeys(_closure(kb, list(memberships), graphs)))
    return Description(iri, list(found))


def _closure(kb: KnowledgeBase, nodes: list[Any], graphs: list[str]) -> list[ox.Quad]:
    """The quads with one of ``nodes`` as subject, and those of the blank nodes they reach."""
    out: list[ox.Quad] = []
    seen: set[Any] = set(nodes)
    frontier = list(nodes)
    while frontier:
        quads = kb.match(frontier, graphs=graphs)
        out.extend(quads)
        frontier = [q.object for q in quads if isinstance(q.object, ox.BlankNode) and q.object not in seen]
        seen.update(frontier)
    return out


def memberships(kb: KnowledgeBase, iri: str) -> list[dict[str, Any]]:
    """The memberships held by ``iri`` (a state) or in it (an alliance): the membership, state,
    alliance, role, start and end dates with their precision, and the graph that asserts it."""
    rows = kb.select(MEMBERSHIPS.format(node=ox.NamedNode(iri), inferred=ox.Literal(INFERRED_GRAPH)))
    by_node: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_node.setdefault(r["m"], r)
    return sorted(by_node.values(), key=lambda r: (r["start"] or "", r["m"]))


def labels(kb: KnowledgeBase, iris: Iterable[str]) -> dict[str, str]:
    """A label for each IRI that has one: an English rdfs:label, skos:prefLabel or dcterms:title
    (in that order), else one without a language, else any. Read by the store's indexes (one
    lookup per IRI and property), not by a query that would scan the labels."""
    nodes = [ox.NamedNode(i) for i in sorted({i for i in iris if i})]
    if not nodes:
        return {}
    order = {p.value: rank for rank, p in enumerate(LABEL_PROPERTIES)}
    best: dict[str, tuple[tuple[int, int, str], str]] = {}
    for q in kb.match(nodes, LABEL_PROPERTIES, graphs=kb.graphs()):
        label = q.object
        if not isinstance(label, ox.Literal):
            continue
        lang = label.language or ""
        rank = (0 if lang.startswith("en") else 1 if not lang else 2, order[q.predicate.value], label.value)
        key = q.subject.value
        if key not in best or rank < best[key][0]:
            best[key] = (rank, label.value)
    return {k: v[1] for k, v in best.items()}


def graph_source(graph: str) -> dict[str, str]:
    """Where the triples of ``graph`` come from, for a page: ``kind`` (file, contribution, ontology,
    owl-rl, rule or graph), a ``name`` and, where there is one, a ``url``. The label follows the
    graph's kind (``vocab.kind_of``): only a curated graph, which an admin alone writes, is
    shown as a data file; a graph a contributor wrote is a contribution or a plain graph.

    >>> graph_source("https://w3id.org/allianceld/graph/data/nato")
    {'graph': 'https://w3id.org/allianceld/graph/data/nato', 'kind': 'file', 'name': 'data/nato.ttl'}
    >>> graph_source("https://w3id.org/allianceld/graph/inferred/rule/allied-states")["url"]
    '/reasoning#rule-allied-states'
    """
    out = {"graph": graph}
    kind = kind_of(graph)
    if kind is Kind.CONTRIBUTION:
        cid = graph[len(CONTRIBUTION_GRAPH_BASE) :]
        out.update(kind="contribution", name=cid, url="/contributions/" + quote(cid, safe=""))
    elif kind is Kind.CURATED:
        out.update(kind="file", name="data/" + graph[len(DATA_GRAPH_BASE) :] + ".ttl")
    elif kind is Kind.ONTOLOGY:
        out.update(kind="ontology", name="the ontology", url="/ontology")
    elif graph == INFERRED_GRAPH:
        out.update(kind="owl-rl", name="OWL 2 RL", url="/reasoning")
    elif kind is Kind.DERIVED:
        name = graph[len(RULE_GRAPH_BASE) :]
        out.update(kind="rule", name=name, url="/reasoning#rule-" + quote(name, safe=""))
    else:
        out.update(kind="graph", name=graph)
    return out


__all__ = [
    "Description",
    "describe",
    "exists",
    "graph_of",
    "graph_source",
    "labels",
    "local_path",
    "memberships",
    "resource_iri",
]
