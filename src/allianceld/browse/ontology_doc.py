"""Documentation generated from the ontology graph itself: its metadata, the class hierarchy, the
properties with their domains, ranges and characteristics, the concept schemes and individuals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import rdflib
from rdflib import OWL, RDF, RDFS, BNode, Literal, URIRef
from rdflib.collection import Collection

from allianceld.vocab import ALD, DCTERMS, ONTOLOGY_IRI, PREFIXES, SKOS

CHARACTERISTICS = {
    OWL.FunctionalProperty: "functional",
    OWL.InverseFunctionalProperty: "inverse functional",
    OWL.SymmetricProperty: "symmetric",
    OWL.AsymmetricProperty: "asymmetric",
    OWL.TransitiveProperty: "transitive",
    OWL.ReflexiveProperty: "reflexive",
    OWL.IrreflexiveProperty: "irreflexive",
}
PROPERTY_KINDS = {
    OWL.ObjectProperty: "object property",
    OWL.DatatypeProperty: "datatype property",
    OWL.AnnotationProperty: "annotation property",
}


def anchor(iri: str) -> str:
    """The fragment that names a term on the documentation page: the local name of an
    ``ald:`` term (so that ``…/ontology#Alliance`` lands on it), a prefixed name otherwise.

    >>> anchor("https://w3id.org/allianceld/ontology#Alliance"), anchor("http://www.w3.org/ns/org#member")
    ('Alliance', 'org:member')
    """
    if iri.startswith(str(ALD)):
        return iri[len(str(ALD)) :]
    return short(iri)


def short(iri: str) -> str:
    """``iri`` as a prefixed name where a known prefix fits."""
    known = {**PREFIXES, "foaf": "http://xmlns.com/foaf/0.1/"}
    for prefix, ns in sorted(known.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


class _Doc:
    def __init__(self, g: rdflib.Graph) -> None:
        self.g = g
        self.defined = {s for s in g.subjects() if isinstance(s, URIRef)}

    def text(self, node: Any, *props: URIRef) -> str | None:
        """The English (else untagged, else any) value of the first of ``props`` ``node`` has."""
        for p in props:
            values = [o for o in self.g.objects(node, p) if isinstance(o, Literal)]
            if values:
                values.sort(key=lambda v: (0 if (v.language or "").startswith("en") else 1 if not v.language else 2, v))
                return str(values[0])
        return None

    def label(self, node: Any) -> str | None:
        return self.text(node, RDFS.label, SKOS.prefLabel)

    def ref(self, node: Any) -> dict[str, Any]:
        """A reference to a term: its label and, when the ontology describes it, its anchor; or a
        class expression written out."""
        if isinstance(node, URIRef):
            iri = str(node)
            return {
                "iri": iri,
                "short": short(iri),
                "label": self.label(node),
                "anchor": anchor(iri) if node in self.defined else None,
            }
        return {"expression": self.expression(node)}

    def refs(self, nodes: Iterable[Any]) -> list[dict[str, Any]]:
        return sorted((self.ref(n) for n in set(nodes)), key=lambda r: r.get("short") or r.get("expression") or "")

    def expression(self, node: Any) -> str:
        """A class expression (a blank node) in Manchester syntax."""
        g = self.g
        if isinstance(node, URIRef):
            return short(str(node))
        for op, word in ((OWL.intersectionOf, " and "), (OWL.unionOf, " or ")):
            members = g.value(node, op)
            if members is not None:
                return "(" + word.join(self.expression(m) for m in Collection(g, members)) + ")"
        members = g.value(node, OWL.oneOf)
        if members is not None:
            return "{" + ", ".join(self.expression(m) for m in Collection(g, members)) + "}"
        complement = g.value(node, OWL.complementOf)
        if complement is not None:
            return "not " + self.expression(complement)
        prop = g.value(node, OWL.onProperty)
        if prop is not None:
            p = self.expression(prop)
            for pred, word in ((OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only")):
                filler = g.value(node, pred)
                if filler is not None:
                    return f"({p} {word} {self.expression(filler)})"
            value = g.value(node, OWL.hasValue)
            if value is not None:
                return f"({p} value {self.expression(value) if not isinstance(value, Literal) else value.n3()})"
            for pred, word in (
                (OWL.cardinality, "exactly"),
                (OWL.qualifiedCardinality, "exactly"),
                (OWL.minCardinality, "min"),
                (OWL.minQualifiedCardinality, "min"),
                (OWL.maxCardinality, "max"),
                (OWL.maxQualifiedCardinality, "max"),
            ):
                n = g.value(node, pred)
                if n is not None:
                    on = g.value(node, OWL.onClass)
                    return f"({p} {word} {n}" + (f" {self.expression(on)}" if on is not None else "") + ")"
        if isinstance(node, Literal):
            return node.n3()
        return "[…]"

    def disjoint(self, cls: URIRef) -> set[Any]:
        g = self.g
        found = set(g.objects(cls, OWL.disjointWith)) | set(g.subjects(OWL.disjointWith, cls))
        for group in g.subjects(RDF.type, OWL.AllDisjointClasses):
            members = g.value(group, OWL.members)
            if members is not None:
                listed = list(Collection(g, members))
                if cls in listed:
                    found.update(m for m in listed if m != cls)
        return found

    def term(self, node: URIRef) -> dict[str, Any]:
        iri = str(node)
        return {
            "iri": iri,
            "short": short(iri),
            "anchor": anchor(iri),
            "label": self.label(node),
            "definition": self.text(node, SKOS.definition, RDFS.comment),
            "local": iri.startswith(str(ALD)),
        }


def _named(nodes: Iterable[Any]) -> list[URIRef]:
    return sorted({n for n in nodes if isinstance(n, URIRef)}, key=str)


def document(g: rdflib.Graph) -> dict[str, Any]:
    """What the documentation page shows, read from the ontology graph ``g``."""
    doc = _Doc(g)
    onto = URIRef(ONTOLOGY_IRI)
    classes = _named(g.subjects(RDF.type, OWL.Class)) + [
        c for c in _named(g.subjects(RDF.type, RDFS.Class)) if (c, RDF.type, OWL.Class) not in g
    ]
    class_set = set(classes)
    class_docs: dict[URIRef, dict[str, Any]] = {}
    for c in classes:
        supers = [s for s in g.objects(c, RDFS.subClassOf)]
        class_docs[c] = {
            **doc.term(c),
            "superClasses": doc.refs(s for s in supers if isinstance(s, URIRef)),
            "restrictions": sorted(doc.expression(s) for s in supers if isinstance(s, BNode)),
            "subClasses": doc.refs(g.subjects(RDFS.subClassOf, c)),
            "equivalentTo": sorted(doc.expression(e) for e in g.objects(c, OWL.equivalentClass)),
            "disjointWith": doc.refs(doc.disjoint(c)),
            "instances": doc.refs(i for i in g.subjects(RDF.type, c) if isinstance(i, URIRef)),
        }

    def tree(c: URIRef, path: frozenset[URIRef]) -> dict[str, Any]:
        children = [s for s in _named(g.subjects(RDFS.subClassOf, c)) if s in class_set and s not in path]
        return {"class": doc.ref(c), "children": [tree(s, path | {s}) for s in children]}

    roots = [c for c in classes if not any(s in class_set for s in g.objects(c, RDFS.subClassOf))]
    properties = []
    for kind, kind_name in PROPERTY_KINDS.items():
        for p in _named(g.subjects(RDF.type, kind)):
            chains = [[doc.ref(x) for x in Collection(g, ch)] for ch in g.objects(p, OWL.propertyChainAxiom)]
            properties.append(
                {
                    **doc.term(p),
                    "kind": kind_name,
                    "domain": doc.refs(g.objects(p, RDFS.domain)),
                    "range": doc.refs(g.objects(p, RDFS.range)),
                    "characteristics": sorted(name for t, name in CHARACTERISTICS.items() if (p, RDF.type, t) in g),
                    "superProperties": doc.refs(g.objects(p, RDFS.subPropertyOf)),
                    "inverseOf": doc.refs(set(g.objects(p, OWL.inverseOf)) | set(g.subjects(OWL.inverseOf, p))),
                    "propertyChains": chains,
                }
            )
    schemes = []
    for s in _named(g.subjects(RDF.type, SKOS.ConceptScheme)):
        members = set(g.subjects(SKOS.inScheme, s)) | set(g.subjects(SKOS.topConceptOf, s))
        concepts = sorted((doc.term(c) for c in _named(members)), key=lambda t: (t["label"] or t["short"]).casefold())
        schemes.append({**doc.term(s), "concepts": concepts})
    in_schemes = {c["iri"] for s in schemes for c in s["concepts"]} | {s["iri"] for s in schemes}
    individuals = [
        {**doc.term(i), "types": doc.refs(t for t in g.objects(i, RDF.type) if t != OWL.NamedIndividual)}
        for i in _named(g.subjects(RDF.type, OWL.NamedIndividual))
        if str(i) not in in_schemes
    ]
    return {
        "iri": ONTOLOGY_IRI,
        "title": doc.text(onto, DCTERMS.title, RDFS.label),
        "description": doc.text(onto, DCTERMS.description, RDFS.comment),
        "version": doc.text(onto, OWL.versionInfo),
        "versionIRI": str(g.value(onto, OWL.versionIRI) or "") or None,
        "license": str(g.value(onto, DCTERMS.license) or "") or None,
        "created": doc.text(onto, DCTERMS.created),
        "seeAlso": sorted(str(o) for o in g.objects(onto, RDFS.seeAlso)),
        "classTree": [tree(r, frozenset({r})) for r in roots],
        "classes": sorted(class_docs.values(), key=lambda c: (not c["local"], c["short"].casefold())),
        "properties": sorted(properties, key=lambda p: (not p["local"], p["short"].casefold())),
        "conceptSchemes": schemes,
        "individuals": individuals,
        "triples": len(g),
    }


__all__ = ["anchor", "document", "short"]
