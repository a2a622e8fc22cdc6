"""Domain rules beyond OWL: SHACL-AF ``sh:SPARQLRule`` files in ontology/rules/ (each with its
CONSTRUCT, a premises query and an ``ald:affectedBy`` query), and the SPARQL Update texts that keep
each rule's derived triples in a named graph of its own. The rule file format, and how the queries
must bind their variables, are described in docs/architecture.md ("Design notes").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS

from allianceld.rdf import sparql_parse, sparql_text
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, GRAPH_BASE, RULES_BASE, SH, rule_graph_iri


@dataclass(frozen=True)
class DomainRule:
    """One rule of ontology/rules/, with the parts of its CONSTRUCT the update texts need."""

    iri: str
    name: str  # the file's stem; the rule's IRI is RULES_BASE + name
    label: str
    comment: str
    focus_class: str  # IRI of the shape's sh:targetClass
    construct: str  # the sh:construct query, as written
    template: str  # the CONSTRUCT template (between its braces), prefixed names expanded
    where: str  # the WHERE group, braces included, prefixed names expanded
    premises: str  # the ald:premises query, as written
    affected_by: str  # the ald:affectedBy query, as written
    order: int
    graph: str  # the named graph of the rule's derived triples
    pairs: bool = False  # ald:affectedBy selects (?this ?object) pairs, not focus nodes


Focus = ox.NamedNode | tuple[ox.NamedNode, ox.NamedNode | ox.Literal]
"""A unit of recomputation: a focus node, or a (focus node, object) pair for a rule whose
``ald:affectedBy`` selects pairs."""


def load_rules(directory: Path) -> list[DomainRule]:
    """The rules of the ``*.ttl`` files in ``directory``, sorted by ``ald:order`` (then name).

    Raises ValueError, naming the file, when a rule lacks its label, comment, order or a query,
    when a query does not parse or is not of the expected form, or when a template triple's
    subject is not ``$this``."""
    rules = [_load_rule(path) for path in sorted(Path(directory).glob("*.ttl"))]
    return sorted(rules, key=lambda r: (r.order, r.name))


def full_update(rule: DomainRule, using: list[str]) -> str:
    """A SPARQL Update that recomputes ``rule``'s graph entirely from the graphs ``using`` (the
    asserted graphs, the RL inferred graph and the graphs of the rules of lower order). With no
    ``using`` graph the rule reads the store's default graph. The graph is created even when the
    rule derives nothing, so that the next write knows the rule was computed and follows it for
    the nodes it affects rather than recomputing it in full again."""
    graph = ox.NamedNode(rule.graph)
    return (
        f"DROP SILENT GRAPH {graph} ;\n"
        f"CREATE SILENT GRAPH {graph} ;\n"
        f"INSERT {{ GRAPH {graph} {{\n{rule.template}\n}} }}\n"
        f"{_using(using)}{_every_focus(rule)}"
    )


def full_query(rule: DomainRule) -> str:
    """The CONSTRUCT query of all of ``rule``'s derived triples, read from the default graph."""
    return f"CONSTRUCT {{\n{rule.template}\n}}\n{_every_focus(rule)}"


def units_query(rule: DomainRule, foci: Iterable[Focus]) -> str:
    """The CONSTRUCT query of ``rule``'s derived triples for some focus nodes (or (focus node,
    object) pairs) only, read from the default graph: its WHERE clause joined with a VALUES block
    of them. For the small in-memory stores of :mod:`domain_rule_scope` (on the whole store
    pyoxigraph evaluates the rule for every focus node before joining the block: see
    :func:`focus_update`)."""
    if rule.pairs:
        rows = " ".join(f"({node} {other})" for node, other in _units(rule, foci, ox.NamedNode(rule.graph)))
        block = f"VALUES (?this ?object) {{ {rows} }}"
    else:
        block = f"VALUES ?this {{ {_terms(foci)} }}"  # type: ignore[arg-type]
    return (  # the block first: at 25 NATO memberships a write, allied-states took 7.6 ms, 9.0 ms with it last
        f"CONSTRUCT {{\n{rule.template}\n}}\n"
        f"WHERE {{\n{block}\n?this a {ox.NamedNode(rule.focus_class)} .\n{_inside(rule.where)}\n}}"
    )


def _every_focus(rule: DomainRule) -> str:
    """The WHERE clause of ``rule`` for every node of its focus class, the rule's WHERE group joined
    into it (:func:`_inside`)."""
    return f"WHERE {{\n?this a {ox.NamedNode(rule.focus_class)} .\n{_inside(rule.where)}\n}}"


def focus_update(rule: DomainRule, using: list[str], foci: list[Focus], changed: list[ox.NamedNode]) -> str:
    """A SPARQL Update that recomputes ``rule``'s outputs for some focus nodes (or (focus node,
    object) pairs) only: ``foci`` (found by :func:`affected_foci` on the store before the write)
    and those its ``ald:affectedBy`` query finds for ``changed`` on the store as the update sees it
    (after the operations before it in the same request). Their triples are deleted from the
    rule's graph and recomputed from ``using``. Empty text when there is nothing to recompute.

    The units are first listed in a scratch graph (:func:`foci_graph_iri`), dropped by the last
    operation: joined from a triple pattern, they bind ``$this`` (and ``?object``) before the
    rule's patterns are evaluated (from a VALUES block or a subquery, pyoxigraph evaluated the
    rule for every focus node of the store and then joined: 3.2 s instead of 0.9 s for 120 of 500
    states at 200k generated triples)."""
    if not foci and not changed:
        return ""
    graph = ox.NamedNode(rule.graph)
    scratch = ox.NamedNode(foci_graph_iri(rule.name))
    obj = "?object" if rule.pairs else str(graph)
    listed = f"GRAPH {scratch} {{ ?this {scratch} {obj} }}"
    parts = [f"DROP SILENT GRAPH {scratch}"]
    if foci:
        rows = " ".join(f"{node} {scratch} {other} ." for node, other in _units(rule, foci, graph))
        parts.append(f"INSERT DATA {{ GRAPH {scratch} {{ {rows} }} }}")
    if changed:
        found = _bind(_prefix_free(rule.affected_by), "changed", changed)
        parts.append(f"INSERT {{ {listed} }}\n{_using(using)}WHERE {{ {{ {found} }} }}")
    outputs = "?this ?rulePredicate ?object" if rule.pairs else "?this ?rulePredicate ?ruleObject"
    parts.append(
        f"DELETE {{ GRAPH {graph} {{ {outputs} }} }}\n"
        f"USING NAMED {scratch}\nUSING NAMED {graph}\n"
        f"WHERE {{ {listed} GRAPH {graph} {{ {outputs} }} }}"
    )
    parts.append(
        f"INSERT {{ GRAPH {graph} {{\n{rule.template}\n}} }}\n"
        f"{_using(using)}USING NAMED {scratch}\n"
        f"WHERE {{\n{listed}\n?this a {ox.NamedNode(rule.focus_class)} .\n{_within(_inside(rule.where), listed)}\n}}"
    )
    parts.append(f"DROP SILENT GRAPH {scratch}")
    return " ;\n".join(parts)


def _units(rule: DomainRule, foci: Iterable[Focus], graph: ox.NamedNode) -> Iterator[tuple[ox.NamedNode, Any]]:
    """(subject, object) of the scratch graph's row for each unit, checked to be pyoxigraph terms."""
    for unit in foci:
        if rule.pairs:
            if not isinstance(unit, tuple) or len(unit) != 2:
                raise TypeError(f"{rule.name} recomputes (focus node, object) pairs, got {unit!r}")
            node, other = unit
            if not isinstance(other, ox.NamedNode | ox.Literal):
                raise TypeError(f"expected a pyoxigraph NamedNode or Literal, got {other!r}")
            yield _checked([node])[0], other
        else:
            yield _checked([unit])[0], graph  # type: ignore[list-item]


_SUBQUERY_ABOUT_THIS = re.compile(r"(SELECT\b[^{}]*?[?$]this\b[^{}]*?WHERE\s*\{)", re.IGNORECASE)


def _within(where: str, listed: str) -> str:
    """``where`` with every subquery that projects ``$this`` restricted to the listed focus nodes:
    a subquery is evaluated on its own (SPARQL's bottom-up semantics), so an aggregate over
    ``$this`` would otherwise run over every alliance of the store on every write. The outer
    group joins ``$this`` with the same list, so the solutions are the same."""
    return _SUBQUERY_ABOUT_THIS.sub(lambda m: f"{m.group(1)} {listed}", where)


def foci_graph_iri(name: str) -> str:
    """The scratch graph in which :func:`focus_update` lists the focus nodes of the rule called
    ``name`` (created and dropped within the update)."""
    return f"{GRAPH_BASE}scratch/rule-foci/{name}"


def affected_foci(kb: KnowledgeBase, rule: DomainRule, changed: list[ox.NamedNode]) -> set[Focus]:
    """The focus nodes (or, for a rule that recomputes pairs, the (focus node, object) pairs)
    whose outputs of ``rule`` may change when triples with one of ``changed`` as subject or object
    are added or removed: ``ald:affectedBy`` run on the store as it is (the union of its graphs)."""
    if not changed:
        return set()
    return found_units(rule, kb.query(affected_query(rule, changed)))


def affected_query(rule: DomainRule, changed: list[ox.NamedNode]) -> str:
    """``rule``'s ``ald:affectedBy`` query with ``?changed`` bound to ``changed``."""
    return _bind(rule.affected_by, "changed", changed)


def found_units(rule: DomainRule, result: Any) -> set[Focus]:
    """The focus nodes, or (focus node, object) pairs, an ``ald:affectedBy`` query found."""
    assert isinstance(result, ox.QuerySolutions)
    assert [v.value for v in result.variables] == (["this", "object"] if rule.pairs else ["this"])
    if rule.pairs:  # each row read by position (by name: twice as long for allied-states)
        return {
            (this, other)
            for this, other in result
            if isinstance(this, ox.NamedNode) and isinstance(other, ox.NamedNode | ox.Literal)
        }
    return {this for (this,) in result if isinstance(this, ox.NamedNode)}


def premises(
    kb: KnowledgeBase, rule: DomainRule, subject: ox.NamedNode, obj: ox.NamedNode | ox.Literal
) -> list[ox.Triple]:
    """The triples the derivation of ``subject`` … ``obj`` by ``rule`` rests on (``ald:premises``
    run on the union of the store's graphs), sorted."""
    text = _bind_row(rule.premises, ("this", "object"), (subject, obj))
    result = kb.query(text)
    return sorted(result, key=str)  # type: ignore[arg-type]


# -- loading ---------------------------------------------------------------------------------


def _load_rule(path: Path) -> DomainRule:
    def fail(problem: str) -> ValueError:
        return ValueError(f"{path}: {problem}")

    name = path.stem
    g = rdflib.Graph()
    try:
        g.parse(path, format="turtle")
    except Exception as e:
        raise fail(f"not valid Turtle: {e}") from e
    found = set(g.subjects(RDF.type, SH.SPARQLRule))
    if len(found) != 1:
        raise fail(f"expected one sh:SPARQLRule, found {len(found)}")
    node = found.pop()
    if str(node) != RULES_BASE + name:
        raise fail(f"the rule is <{node}>; a rule in {path.name} must be <{RULES_BASE}{name}>")
    shapes = set(g.subjects(SH.rule, node))
    if len(shapes) != 1:
        raise fail("the rule must be the sh:rule of exactly one node shape")
    targets = list(g.objects(shapes.pop(), SH.targetClass))
    if len(targets) != 1 or not isinstance(targets[0], rdflib.URIRef):
        raise fail("the rule's shape must have exactly one sh:targetClass, an IRI")

    def text(prop: rdflib.URIRef, what: str) -> str:
        values = [v for v in g.objects(node, prop) if isinstance(v, rdflib.Literal)]
        english = [v for v in values if v.language in (None, "en")]
        if not english or not str(english[0]).strip():
            raise fail(f"the rule has no {what}")
        return str(english[0])

    label = text(RDFS.label, "rdfs:label")
    comment = text(RDFS.comment, "rdfs:comment")
    construct = text(SH.construct, "sh:construct query")
    premises_query = text(ALD.premises, "ald:premises query")
    affected_query = text(ALD.affectedBy, "ald:affectedBy query")
    order_value = g.value(node, ALD.order)
    if not isinstance(order_value, rdflib.Literal) or not isinstance(order_value.toPython(), int):
        raise fail("the rule has no integer ald:order")

    _check_query(construct, "sh:construct", "ConstructQuery", fail)
    _check_query(premises_query, "ald:premises", "ConstructQuery", fail)
    _check_query(affected_query, "ald:affectedBy", "SelectQuery", fail)
    for triple in sparql_parse.prepared(construct).algebra["template"]:
        if triple[0] != rdflib.Variable("this"):
            shown = " ".join(t.n3() for t in triple)
            raise fail(f"sh:construct: the template triple {{ {shown} }} does not have $this as subject")
    _check_variables(premises_query, "ald:premises", {"this"}, fail)
    _check_variables(affected_query, "ald:affectedBy", {"changed"}, fail)
    selects = _selected_variables(affected_query)
    if selects not in (["this"], ["this", "object"]):
        raise fail("ald:affectedBy must select ?this, or ?this ?object, and nothing else")

    template, where = _construct_parts(construct, fail)
    pairs = selects == ["this", "object"]
    if pairs:
        for triple in sparql_parse.prepared(construct).algebra["template"]:
            if triple[2] != rdflib.Variable("object"):
                raise fail(
                    "ald:affectedBy selects (?this ?object) pairs, so every template triple's object must be ?object"
                )
    rule = DomainRule(
        iri=str(node),
        name=name,
        label=label,
        comment=comment,
        focus_class=str(targets[0]),
        construct=construct,
        template=template,
        where=where,
        premises=premises_query,
        affected_by=affected_query,
        order=int(order_value.toPython()),
        graph=rule_graph_iri(name),
        pairs=pairs,
    )
    probe = ox.NamedNode(RULES_BASE + "probe")
    unit: Focus = (probe, probe) if pairs else probe
    for update in (full_update(rule, [RULES_BASE]), focus_update(rule, [RULES_BASE], [unit], [probe])):
        try:
            ox.Store().update(update)
        except SyntaxError as e:  # a construct this module does not take apart correctly
            raise fail(f"the update built from sh:construct does not parse: {e}") from e
    try:
        ox.Store().query(units_query(rule, [unit]))
    except SyntaxError as e:
        raise fail(f"the query built from sh:construct does not parse: {e}") from e
    return rule


def _selected_variables(query: str) -> list[str]:
    """The names a SELECT query selects. The query's results live only in this call: pyoxigraph's
    are bound to their thread, and a caller's frame kept alive by a reference cycle (rdflib's
    parser makes them) would be freed, with them, by the garbage collector on any thread, which
    pyoxigraph refuses ("unsendable") and leaks."""
    selected = ox.Store().query(query)
    assert isinstance(selected, ox.QuerySolutions)
    return [v.value for v in selected.variables]


def _check_query(query: str, what: str, form: str, fail) -> None:
    """Parse ``query`` with pyoxigraph and rdflib; it must be of the given form."""
    try:
        ox.Store().query(query)
    except SyntaxError as e:
        raise fail(f"{what} does not parse: {e}") from e
    try:
        parsed = sparql_parse.prepared(query)
    except Exception as e:
        raise fail(f"{what} does not parse (rdflib): {e}") from e
    if parsed.algebra.name != form:
        raise fail(f"{what} must be a {form.removesuffix('Query').upper()} query")
    if form == "ConstructQuery" and len(_groups(query[_prologue(query)[1] :])) < 2:
        raise fail(f"{what} must have a template and a WHERE group (not CONSTRUCT WHERE)")


def _check_variables(query: str, what: str, needed: set[str], fail) -> None:
    used = {tok[1:] for kind, tok, _s, _e in _tokens(query) if kind == "var"}
    missing = sorted(needed - used)
    if missing:
        raise fail(f"{what} does not use {', '.join('?' + m for m in missing)}")


def _construct_parts(construct: str, fail) -> tuple[str, str]:
    """The template (between its braces) and the WHERE group (braces included) of a CONSTRUCT,
    prefixed names expanded."""
    body = _prefix_free(construct)
    groups = _groups(body)
    if len(groups) != 2:
        raise fail("sh:construct must be CONSTRUCT { template } WHERE { pattern } with nothing after")
    (ts, te), (ws, we) = groups
    tail = [tok for kind, tok, s, _e in _tokens(body[we:]) if kind not in ("space", "comment")]
    if tail:
        raise fail("sh:construct must end with its WHERE group (no solution modifiers, no VALUES)")
    return body[ts + 1 : te - 1].strip(), body[ws:we]


# -- taking queries apart ------------------------------------------------------------------------


def _tokens(text: str) -> Iterator[tuple[str, str, int, int]]:
    """(kind, text, start, end) of each token of a SPARQL text, spaces and comments included."""
    for t in sparql_text.tokens(text):
        yield t.kind, t.text, t.start, t.end


def _prologue(text: str) -> tuple[dict[str, str], int]:
    """The PREFIX declarations of a query and where its body starts."""
    prefixes: dict[str, str] = {}
    pending: list[str] = []
    body = 0
    for kind, tok, _start, end in _tokens(text):
        if kind in ("space", "comment"):
            continue
        if not pending and kind == "word" and tok.upper() == "BASE":
            raise ValueError("BASE is not supported in rule queries: write full IRIs or prefixed names")
        if not pending and kind == "word" and tok.upper() == "PREFIX":
            pending.append(tok)
        elif len(pending) == 1 and kind == "pname" and tok.endswith(":"):
            pending.append(tok[:-1])
        elif len(pending) == 2 and kind == "iri":
            prefixes[pending[1]] = tok[1:-1]
            pending = []
            body = end
        else:
            break
    return prefixes, body


def _prefix_free(query: str) -> str:
    """The query without its prologue, every prefixed name written as a full IRI."""
    prefixes, body = _prologue(query)
    out: list[str] = []
    for kind, tok, _s, _e in _tokens(query[body:]):
        if kind == "pname":
            prefix, _, local = tok.partition(":")
            if prefix not in prefixes:
                raise ValueError(f"undeclared prefix {prefix}: in {tok}")
            local = re.sub(r"\\(.)", r"\1", local)
            tok = str(ox.NamedNode(prefixes[prefix] + local))
        out.append(tok)
    return "".join(out).strip()


def _groups(body: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level ``{ … }`` group of a query body (end after the brace)."""
    found: list[tuple[int, int]] = []
    depth, start = 0, 0
    for _kind, tok, s, e in _tokens(body):
        if tok == "{":
            if depth == 0:
                start = s
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                found.append((start, e))
    return found


def _form(body: str) -> str:
    """The first keyword of a query body (SELECT, CONSTRUCT, ASK, DESCRIBE), upper-cased."""
    for kind, tok, _s, _e in _tokens(body):
        if kind == "word":
            return tok.upper()
    return ""


def _bind(query: str, variable: str, values: Iterable[ox.NamedNode]) -> str:
    """``query`` with ``VALUES ?variable { … }`` first in its WHERE group, and again first in each
    group of a UNION at the top of it. The same solutions (every branch binds the variable
    itself, so joining the block twice keeps the same rows), but pyoxigraph does not push the
    outer block into the branches: an ``ald:affectedBy`` query of seven branches took 0.5 s at
    200k triples with the block outside only, and 0.004 s with it in each branch."""
    block = f"\n  VALUES ?{variable} {{ {_terms(values)} }}"
    out, last = [], 0
    for cut in _value_places(query):
        out += [query[last:cut], block]
        last = cut
    return "".join(out) + query[last:]


@functools.lru_cache(maxsize=64)
def _value_places(query: str) -> tuple[int, ...]:
    """Where :func:`_bind` puts its VALUES blocks in ``query`` (found once per query text: tokenising
    a rule's ``ald:affectedBy`` query took 5 ms, four times a rule per write)."""
    at = sparql_text.where_start(query)
    return (at, *(open_at + 1 for open_at in _union_branches(query, at)))


def _union_branches(query: str, start: int) -> list[int]:
    """Offsets of the opening braces of the groups that are operands of a UNION directly inside
    the group that begins at ``start`` (just after its brace), subqueries excepted."""
    depth = 0
    groups: list[tuple[int, int]] = []  # (open, close) of groups at depth 1
    words: list[tuple[str, str]] = []  # significant tokens at depth 0 (kind, text)
    opened = 0
    for kind, tok, s, _e in _tokens(query[start:]):
        if kind in ("space", "comment"):
            continue
        if tok == "{":
            if depth == 0:
                opened = s
                words.append(("group", str(len(groups))))
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth < 0:
                break
            if depth == 0:
                groups.append((start + opened, start + s))
        elif depth == 0:
            words.append((kind, tok.upper()))
    found = []
    for i, (kind, tok) in enumerate(words):
        if kind != "group":
            continue
        before = words[i - 1][1] if i > 0 else ""
        after = words[i + 1][1] if i + 1 < len(words) else ""
        open_at = groups[int(tok)][0]
        first = next((t for k, t, _s, _e in _tokens(query[open_at + 1 :]) if k not in ("space", "comment")), "")
        if "UNION" in (before, after) and first.upper() != "SELECT":
            found.append(open_at)
    return found


def _bind_row(query: str, variables: tuple[str, ...], row: tuple[ox.NamedNode | ox.Literal, ...]) -> str:
    """``query`` with a one-row ``VALUES`` block first in its WHERE group."""
    for term in row:
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise TypeError(f"expected a pyoxigraph NamedNode or Literal, got {term!r}")
    at = sparql_text.where_start(query)
    names = " ".join("?" + v for v in variables)
    return f"{query[:at]}\n  VALUES ({names}) {{ ({' '.join(str(t) for t in row)}) }}{query[at:]}"


def _inside(group: str) -> str:
    """A group's patterns without its braces: joined into the update's own WHERE group rather than
    nested in it, so that pyoxigraph orders all the joins together (the allied-states rule took
    0.6 s on the shipped data nested, 0.07 s flattened). The same solutions, since a rule's WHERE
    group binds $this itself."""
    return group.strip()[1:-1].strip()


def _checked(nodes: Iterable[ox.NamedNode]) -> list[ox.NamedNode]:
    """The nodes, which must be pyoxigraph NamedNodes (their serialisation is all that enters a
    query or update text)."""
    out = list(nodes)
    for node in out:
        if not isinstance(node, ox.NamedNode):
            raise TypeError(f"expected a pyoxigraph NamedNode, got {node!r}")
    return out


def _terms(nodes: Iterable[ox.NamedNode]) -> str:
    """IRIs as pyoxigraph writes them, space-separated."""
    return " ".join(str(node) for node in _checked(nodes))


def _using(graphs: list[str]) -> str:
    return "".join(f"USING {ox.NamedNode(g)}\n" for g in graphs)
