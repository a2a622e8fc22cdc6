"""Runs the W3C SPARQL 1.1 Service Description tests against a live allianceld server.

The manifest (service-description/manifest.ttl) names three ``mf:ServiceDescriptionTest`` cases and
no actions: they are the conformance criteria of the Service Description recommendation, checked by
the W3C's validator (kasei/sparql11-sdvalidator) by fetching the endpoint's URL. This driver does
the same against ``/sparql``:

- ``returns-rdf``: GET on the endpoint without a query, with each of several RDF ``Accept``
  headers, answers 200 in an RDF syntax that parses.
- ``has-endpoint-triple``: the description has a triple ``?service sd:endpoint <URL>`` for the
  very URL that was fetched.
- ``conforms-to-schema``: the validator's rule (every ``sd:NamedGraph`` has an ``sd:name``), read
  more strictly: every named graph, typed or object of ``sd:namedGraph``, has exactly one
  ``sd:name`` and it is an IRI; and the validator's best-practice checks: every ``sd:`` term used is
  one of the vocabulary; the subjects and objects of its properties are typed with their domain and
  range classes (``sd:Service``, ``sd:Dataset``, ``sd:NamedGraph``, ``sd:Graph``); each service
  supports ``sd:SPARQL10Query``, ``sd:SPARQL11Query`` or ``sd:SPARQL11Update``; every dataset
  has a default or a named graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib import RDF, URIRef
from rdflib.term import Node

from allianceld.rdf import formats
from w3c.replay import MF, SUITE, LiveServer, manifest_entries

MANIFEST = SUITE / "service-description" / "manifest.ttl"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
# RDF syntaxes a client may ask for
SYNTAXES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
ACCEPTS = [
    "text/turtle",
    "application/rdf+xml",
    "application/ld+json",
    "application/rdf+xml;q=0.9, text/turtle, application/n-triples;q=0.8, text/html;q=0.5",
]
# the Service Description vocabulary (recommendation, section 3)
TERMS = {
    *("Service", "Feature", "Language", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile"),
    *("GraphCollection", "Dataset", "Graph", "NamedGraph"),
    *("SPARQL10Query", "SPARQL11Query", "SPARQL11Update"),
    *("DereferencesURIs", "UnionDefaultGraph", "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery"),
    *("endpoint", "feature", "defaultEntailmentRegime", "entailmentRegime", "defaultSupportedEntailmentProfile"),
    *("supportedEntailmentProfile", "extensionFunction", "extensionAggregate", "languageExtension"),
    *("supportedLanguage", "propertyFeature", "defaultDataset", "availableGraphs", "resultFormat", "inputFormat"),
    *("defaultGraph", "namedGraph", "name", "graph"),
}
LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
SERVICE_PROPERTIES = [
    *(SD.endpoint, SD.feature, SD.defaultEntailmentRegime, SD.defaultSupportedEntailmentProfile),
    *(SD.extensionFunction, SD.extensionAggregate, SD.languageExtension, SD.supportedLanguage),
    *(SD.propertyFeature, SD.defaultDataset, SD.availableGraphs, SD.resultFormat, SD.inputFormat),
]
# class -> (properties whose subjects are of it, properties whose objects are of it)
TYPED = {
    SD.Service: (SERVICE_PROPERTIES, []),
    SD.Dataset: ([SD.defaultGraph], [SD.defaultDataset]),
    SD.NamedGraph: ([SD.entailmentRegime, SD.supportedEntailmentProfile, SD.name, SD.graph], [SD.namedGraph]),
    SD.Graph: ([], [SD.defaultGraph, SD.graph]),
}


@dataclass
class Case:
    name: str
    title: str


def cases() -> list[Case]:
    """Every mf:ServiceDescriptionTest of the manifest, in manifest order."""
    g, entries = manifest_entries(MANIFEST)
    return [Case(str(test).rsplit("#", 1)[-1], str(g.value(test, MF.name))) for test in entries]


def fetch(server: LiveServer, accept: str) -> tuple[rdflib.Graph | None, str | None]:
    """The service description read from GET /sparql with ``accept``, or why there is none."""
    resp = server.send("GET", "/sparql", {"accept": accept}, None)
    if resp.status != 200:
        return None, f"Accept {accept!r}: HTTP {resp.status}"
    syntax = SYNTAXES.get(resp.media_type)
    if syntax is None:
        return None, f"Accept {accept!r}: Content-Type {resp.media_type!r} is not an RDF syntax"
    try:
        return formats.to_rdflib(q.triple for q in ox.parse(resp.body, format=syntax)), None
    except (SyntaxError, ValueError) as exc:
        return None, f"Accept {accept!r}: the body does not parse as {resp.media_type}: {exc}"


def _name(node: Node) -> str:
    """``sd:Term`` for a term of the vocabulary, otherwise the node in N-Triples."""
    return "sd:" + node[len(SD) :] if isinstance(node, URIRef) and node.startswith(SD) else node.n3()


def schema_problems(g: rdflib.Graph) -> list[str]:
    """How the description departs from the Service Description vocabulary (empty when it does not)."""
    problems = []
    used = {t for triple in g for t in triple if isinstance(t, URIRef) and t.startswith(SD)}
    problems += [f"{_name(t)} is not a term of the vocabulary" for t in sorted(used) if t[len(SD) :] not in TERMS]
    named = set(g.subjects(RDF.type, SD.NamedGraph)) | set(g.objects(None, SD.namedGraph))
    for node in named:
        names = list(g.objects(node, SD.name))
        if len(names) != 1 or not isinstance(names[0], URIRef):
            problems.append(f"named graph {_name(node)} has sd:name {[_name(n) for n in names]}, not one IRI")
    for cls, (domains, ranges) in TYPED.items():
        nodes: set[Node] = {s for p in domains for s in g.subjects(p)} | {o for p in ranges for o in g.objects(None, p)}
        problems += [f"{_name(n)} is not typed {_name(cls)}" for n in nodes if (n, RDF.type, cls) not in g]
    services = set(g.subjects(RDF.type, SD.Service)) | {s for p in SERVICE_PROPERTIES for s in g.subjects(p)}
    for service in services:
        if not set(g.objects(service, SD.supportedLanguage)) & LANGUAGES:
            problems.append(f"no sd:supportedLanguage of {_name(service)} is SPARQL 1.0/1.1 Query or 1.1 Update")
    for ds in set(g.subjects(RDF.type, SD.Dataset)):
        if (ds, SD.defaultGraph, None) not in g and (ds, SD.namedGraph, None) not in g:
            problems.append(f"dataset {_name(ds)} has neither a default nor a named graph")
    return problems


def check(server: LiveServer, case: Case) -> str | None:
    """Run one test; None when it passes, otherwise why not."""
    graphs = []
    for accept in ACCEPTS:
        g, problem = fetch(server, accept)
        if g is None:
            return problem
        graphs.append(g)
    if case.name == "returns-rdf":
        return None
    endpoint = URIRef(server.base + "/sparql")
    for accept, g in zip(ACCEPTS, graphs, strict=True):
        if case.name == "has-endpoint-triple" and (None, SD.endpoint, endpoint) not in g:
            return f"Accept {accept!r}: no triple ?service sd:endpoint {endpoint.n3()}"
        if case.name == "conforms-to-schema" and (problems := schema_problems(g)):
            return f"Accept {accept!r}: " + "; ".join(problems)
    if case.name not in ("has-endpoint-triple", "conforms-to-schema"):
        return f"no check for the test {case.name!r}"
    return None
