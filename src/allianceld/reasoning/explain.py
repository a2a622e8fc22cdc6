"""Why a triple holds: the OWL axiom or domain rule that derived it and the triples it rests on,
recursively down to asserted data, each asserted triple with the graph (and contribution) it
comes from. Anchors: GraphDB's explain plugin, Protégé's justifications.

Explanations are found on demand, backwards from the triple: for an OWL 2 RL inference, a rule
instance of the compiled ontology (:mod:`allianceld.reasoning.rl_rules`) whose body holds in the store;
for a domain rule's output, the rule's own premises query. No premise is used twice on one path,
so every explanation ends in asserted triples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from allianceld.reasoning import materialise, rl_engine
from allianceld.reasoning.rl_rules import Term
from allianceld.store import KnowledgeBase
from allianceld.store.backends import EmbeddedBackend
from allianceld.vocab import (
    CONTRIBUTION_GRAPH_BASE,
    DATA_GRAPH_BASE,
    INFERRED_GRAPH,
    PROVENANCE_GRAPH_BASE,
    Kind,
    kind_of,
)

MAX_DEPTH = 24


@dataclass
class Explanation:
    """How ``triple`` holds. ``status`` is ``asserted`` (``sources`` says where), ``inferred`` (by
    the OWL 2 RL rule ``rule`` from ``axiom``), ``derived`` (by the domain rule ``rule``), or
    ``unknown`` (the store neither has nor derives it)."""

    triple: ox.Triple
    status: str
    rule: str | None = None
    rule_label: str | None = None
    axiom: str | None = None
    sources: list[dict[str, str]] = field(default_factory=list)
    premises: list[Explanation] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        s, p, o = self.triple.subject, self.triple.predicate, self.triple.object
        out: dict[str, Any] = {
            "triple": {"s": _json_term(s), "p": _json_term(p), "o": _json_term(o)},
            "status": self.status,
        }
        if self.rule:
            out["rule"] = {"id": self.rule, "label": self.rule_label, "axiom": self.axiom}
        if self.sources:
            out["sources"] = self.sources
        if self.premises:
            out["premises"] = [p.to_json() for p in self.premises]
        return out

    def asserted_leaves(self) -> Iterator[Explanation]:
        """The asserted triples the explanation rests on, each once."""
        seen: set[ox.Triple] = set()
        stack = [self]
        while stack:
            e = stack.pop()
            if e.status == "asserted" and e.triple not in seen:
                seen.add(e.triple)
                yield e
            stack.extend(e.premises)


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    else:
        out["datatype"] = term.datatype.value
    return out


class Explainer:
    """Explanations over one store (the rules are compiled once per explainer)."""

    def __init__(self, kb: KnowledgeBase, domain_rules: Sequence[Any] = ()) -> None:
        if not isinstance(kb.backend, EmbeddedBackend):
            raise ValueError("explanations need the embedded store")
        self.kb = kb
        self.store: ox.Store = kb.backend.store
        self.rules = materialise.ruleset(kb)
        self.domain_rules = {r.graph: r for r in domain_rules}
        self.view = rl_engine.StoreView(self.store, kb.knowledge_graphs(), INFERRED_GRAPH)
        self._done: dict[ox.Triple, Explanation] = {}

    def _graphs_of(self, t: ox.Triple) -> list[ox.NamedNode]:
        return [
            q.graph_name  # type: ignore[misc]
            for q in self.store.quads_for_pattern(t.subject, t.predicate, t.object, None)
            if isinstance(q.graph_name, ox.NamedNode)
        ]

    def explain(self, triple: ox.Triple) -> Explanation:
        """The explanation of ``triple`` (status ``unknown`` when the store does not hold it)."""
        found = self._explain(triple, frozenset(), 0)
        return found or Explanation(triple, "unknown")

    def _explain(self, t: ox.Triple, path: frozenset[ox.Triple], depth: int) -> Explanation | None:
        if t in path or depth > MAX_DEPTH:
            return None
        if t in self._done:
            return self._done[t]
        graphs = self._graphs_of(t)
        asserted = [g for g in graphs if g in self.view.knowledge]
        if asserted:
            found = Explanation(t, "asserted", sources=[_source(g.value) for g in asserted])
        elif any(g.value == INFERRED_GRAPH for g in graphs):
            found = self._by_owl(t, path | {t}, depth)
        else:
            found = None
            for g in graphs:
                rule = self.domain_rules.get(g.value)
                if rule is not None:
                    found = self._by_domain_rule(rule, t, path | {t}, depth)
                    if found:
                        break
        if found is not None:
            self._done[t] = found
        return found

    def _by_owl(self, t: ox.Triple, path: frozenset[ox.Triple], depth: int) -> Explanation | None:
        candidates = []
        for rule, sol in rl_engine.derivations(self.rules, t, self.view.triples):
            premises = [rl_engine.instantiate(a, sol) for a in rule.body]
            if any(p is None or p in path for p in premises):
                continue
            candidates.append((rule, premises))
        # prefer the derivations that rest on asserted triples
        candidates.sort(key=lambda c: sum(not self.view.is_asserted(p) for p in c[1]))  # type: ignore[arg-type]
        for rule, premises in candidates:
            explained = [self._explain(p, path, depth + 1) for p in premises]  # type: ignore[arg-type]
            if all(e is not None for e in explained):
                return Explanation(
                    t,
                    "inferred",
                    rule=rule.name,
                    rule_label=_OWL_RULE_NAMES.get(rule.name, rule.name),
                    axiom=rule.axiom,
                    premises=explained,  # type: ignore[arg-type]
                )
        return None

    def _by_domain_rule(self, rule: Any, t: ox.Triple, path: frozenset[ox.Triple], depth: int) -> Explanation | None:
        from allianceld.reasoning import domain_rules as domain

        premises = [p for p in domain.premises(self.kb, rule, t.subject, t.object) if p not in path]
        explained = [self._explain(p, path, depth + 1) for p in premises]
        return Explanation(
            t,
            "derived",
            rule=rule.iri,
            rule_label=rule.label,
            axiom=rule.comment,
            premises=[e for e in explained if e is not None],
        )


def _source(graph: str) -> dict[str, str]:
    """Where an asserted triple comes from: its graph, and the contribution or data file (by the
    graph's kind, ``vocab.kind_of``)."""
    out = {"graph": graph}
    kind = kind_of(graph)
    if kind is Kind.CONTRIBUTION:
        cid = graph.removeprefix(CONTRIBUTION_GRAPH_BASE)
        out["contribution"] = cid
        out["provenance"] = PROVENANCE_GRAPH_BASE + cid
    elif kind is Kind.CURATED:
        out["file"] = graph.removeprefix(DATA_GRAPH_BASE) + ".ttl"
    return out


#: the names of the OWL 2 RL rules (W3C OWL 2 Profiles, section 4.3)
_OWL_RULE_NAMES = {
    "cax-sco": "subclass (cax-sco)",
    "cax-eqc1": "equivalent class (cax-eqc1)",
    "cax-eqc2": "equivalent class (cax-eqc2)",
    "cls-hv1": "value restriction (cls-hv1)",
    "cls-avf": "universal restriction (cls-avf)",
    "prp-dom": "property domain (prp-dom)",
    "prp-rng": "property range (prp-rng)",
    "prp-spo1": "subproperty (prp-spo1)",
    "prp-spo2": "property chain (prp-spo2)",
    "prp-eqp1": "equivalent property (prp-eqp1)",
    "prp-eqp2": "equivalent property (prp-eqp2)",
    "prp-inv1": "inverse property (prp-inv1)",
    "prp-inv2": "inverse property (prp-inv2)",
    "prp-symp": "symmetric property (prp-symp)",
    "prp-trp": "transitive property (prp-trp)",
    "prp-fp": "functional property (prp-fp)",
    "prp-ifp": "inverse-functional property (prp-ifp)",
}


def explain(kb: KnowledgeBase, triple: ox.Triple, domain_rules: Sequence[Any] = ()) -> Explanation:
    """How ``triple`` holds in ``kb``: see :class:`Explainer`."""
    return Explainer(kb, domain_rules).explain(triple)


__all__ = ["Explainer", "Explanation", "explain"]
