"""Federated queries: ``SERVICE`` only to allowlisted endpoints, ``LOAD`` never.

pyoxigraph evaluates ``SERVICE <url>`` by connecting to ``url`` itself, and ``LOAD <url>`` by
fetching it, with no time limit. A user's query or update could therefore make the server connect
anywhere it can reach (server-side request forgery). Before a user's query or update runs, it is
parsed whole (rdflib's SPARQL grammar, :func:`connections`) and every ``SERVICE`` and ``LOAD`` is
taken from its parse tree: a text that cannot be parsed is refused, so nothing whose calls are not
known ever runs. A query's SERVICE endpoints must be on the configured allowlist
(``ALLIANCELD_SERVICE_ALLOWLIST``, empty by default, so federation is off); ``SERVICE ?variable``
is refused, whatever the allowlist; an update with ``LOAD`` or ``SERVICE`` is refused whole.

The parse sees the text as pyoxigraph does: rdflib would expand ``\\u`` escapes everywhere before
parsing (so a ``\\u0022`` inside a string would end it for rdflib but not for pyoxigraph, which
expands them only inside strings and IRIs), so the grammar is called without that step and a
string or IRI holding such an escape is refused; a comment ends at a carriage return for
pyoxigraph but not for rdflib, so carriage returns are read as line feeds (the same thing to
pyoxigraph everywhere else). Texts longer than :data:`MAX_GUARDED_CHARS` are refused (413):
rdflib parses data at about 10 µs a character but expressions at up to 0.3 ms. Verdicts are
cached per exact text.

>>> from allianceld.config import parse_allowlist
>>> allowed = parse_allowlist("https://query.wikidata.org/sparql")
>>> check_query("SELECT * WHERE { SERVICE <https://QUERY.wikidata.org:443/sparql> { ?s ?p ?o } }", allowed)
['https://query.wikidata.org/sparql']
>>> check_query("SELECT * WHERE { ?s ?p 'no service here' }", allowed)
[]
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from pyparsing import ParseResults
from rdflib import Variable
from rdflib.plugins.sparql import parser as sparql_parser
from rdflib.plugins.sparql.parserutils import CompValue, ParamValue

from allianceld.config import normalise_endpoint
from allianceld.errors import AllianceldError, BadRequest, QuerySyntaxError, RemoteQueryTimeout, RemoteStoreError

T = TypeVar("T")

MAX_GUARDED_CHARS = 32 * 1024  # rdflib: 0.25 s for an INSERT DATA this long, 5-9 s at worst (expressions)
_CACHE_SIZE = 1024  # verdicts kept, by the text's SHA-256 (the texts themselves are not kept)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # an IRI with a scheme: used as it is, never resolved
_PN_LOCAL_ESC = re.compile(r"\\(.)")


class ServiceNotAllowed(BadRequest):
    """A SERVICE endpoint that is not on the allowlist (or a variable as the endpoint)."""

    kind = "service-not-allowed"


class LoadNotAllowed(BadRequest):
    """LOAD fetches a URL from the server: never allowed."""

    kind = "load-not-allowed"


class ServiceFailed(RemoteStoreError):
    """A SERVICE endpoint could not be reached or answered with an error (502)."""

    kind = "service-error"


class ServiceTimeout(RemoteQueryTimeout):
    """A federated query whose SERVICE endpoint did not answer in time."""

    kind = "service-timeout"


class TooLongToCheck(AllianceldError):
    """A query or update too long to be parsed before it runs (413)."""

    status = 413
    kind = "sparql-too-long"


@dataclass(frozen=True)
class ServiceCall:
    """One ``SERVICE`` in a query: its endpoint IRI (None when it is a variable)."""

    endpoint: str | None
    variable: str | None = None
    silent: bool = False


@dataclass(frozen=True)
class LoadCall:
    """One ``LOAD`` in an update: the IRI it would fetch."""

    url: str


def check_query(sparql: str, allowlist: Collection[str]) -> list[str]:
    """The allowlisted endpoints a query's ``SERVICE`` calls go to (none: not federated).

    Raises :class:`ServiceNotAllowed` (400) for an endpoint not on ``allowlist`` (normalised
    URLs, see :func:`parse_allowlist`), for ``SERVICE ?variable`` and for any SERVICE when the
    allowlist is empty; :class:`QuerySyntaxError` (400) when the query cannot be parsed and
    :class:`TooLongToCheck` (413) when it is too long to parse (:func:`connections`).
    """
    calls = [c for c in connections(sparql) if isinstance(c, ServiceCall)]
    used: list[str] = []
    for call in calls:
        if call.endpoint is None:
            raise ServiceNotAllowed(
                f"SERVICE ?{call.variable}: the endpoint of a SERVICE must be an IRI on the allowlist, not a variable",
                parameter="query",
            )
        try:
            endpoint = normalise_endpoint(call.endpoint)
        except ValueError:
            endpoint = call.endpoint
        if endpoint not in allowlist:
            why = (
                "federated queries are off (ALLIANCELD_SERVICE_ALLOWLIST is empty)"
                if not allowlist
                else f"it is not on the allowlist (ALLIANCELD_SERVICE_ALLOWLIST: {', '.join(allowlist)})"
            )
            raise ServiceNotAllowed(
                f"SERVICE <{call.endpoint}> refused: {why}; nothing was fetched",
                parameter="query",
                endpoint=call.endpoint,
                allowlist=list(allowlist),
            )
        if endpoint not in used:
            used.append(endpoint)
    return used


def check_update(sparql: str) -> None:
    """Refuse an update that would fetch anything: ``LOAD <url>`` and ``SERVICE`` (a write holds
    the store's write lock, so it must not wait on another server; query the endpoint, then write).

    Raises :class:`LoadNotAllowed` or :class:`ServiceNotAllowed` (400), :class:`QuerySyntaxError`
    when the update cannot be parsed, :class:`TooLongToCheck` (413) when it is too long to parse.
    """
    for call in connections(sparql, update=True):
        if isinstance(call, ServiceCall):
            raise ServiceNotAllowed(
                "SERVICE is not allowed in a SPARQL Update (a write must not wait on another server): "
                "query the endpoint with /sparql, then write the data",
                parameter="update",
            )
        raise LoadNotAllowed(
            f"LOAD <{call.url}> refused: the server does not fetch URLs for an update; "
            "send the data itself (POST /data, /contributions or INSERT DATA)",
            parameter="update",
            url=call.url,
        )


def run_with_deadline(work: Callable[[], T], seconds: float, endpoints: Collection[str]) -> T:
    """``work()`` in a thread, waited for at most ``seconds``: pyoxigraph's SERVICE calls have no
    time limit of their own. Past it, :class:`ServiceTimeout` (504); the thread is left to finish
    (pyoxigraph cannot be interrupted) and its result is dropped. An endpoint that cannot be
    reached or answers with an error gives :class:`ServiceFailed` (502)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except OSError as exc:  # pyoxigraph's HTTP client: refused, reset, an error status, a redirect
            box["error"] = ServiceFailed(
                f"a SERVICE call failed ({', '.join(endpoints)}): {exc}", endpoints=list(endpoints)
            )
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name="allianceld-service")
    thread.start()
    thread.join(seconds if seconds > 0 else None)
    if thread.is_alive():
        raise ServiceTimeout(
            f"the federated query did not finish within {seconds:g} s (ALLIANCELD_SERVICE_TIMEOUT); "
            f"SERVICE endpoint(s): {', '.join(endpoints)}",
            timeout_s=seconds,
        )
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- finding SERVICE and LOAD in the parse tree --------------------------------------------------

Call = ServiceCall | LoadCall
_verdicts: OrderedDict[tuple[bytes, bool], tuple[Call, ...]] = OrderedDict()
_verdicts_lock = threading.Lock()


def connections(sparql: str, *, update: bool = False) -> tuple[Call, ...]:
    """Every ``SERVICE`` and ``LOAD`` in a query (or update), in the order written, from its parse
    tree; the verdict is cached per exact text (a bounded LRU).

    Raises :class:`QuerySyntaxError` (400) when the text cannot be parsed, and
    :class:`TooLongToCheck` (413) when it is longer than :data:`MAX_GUARDED_CHARS`.

    >>> connections("PREFIX e: <http://e.example/> SELECT * { SERVICE e:q\\\\#x {} }")
    (ServiceCall(endpoint='http://e.example/q#x', variable=None, silent=False),)
    """
    what = "update" if update else "query"
    if len(sparql) > MAX_GUARDED_CHARS:
        raise TooLongToCheck(
            f"the {what} is {len(sparql):,} characters long, more than the {MAX_GUARDED_CHARS:,} "
            f"a SPARQL {what} may have here (each is parsed before it runs); send large data "
            "through the Graph Store Protocol (/data) or /contributions",
            parameter=what,
            limit=MAX_GUARDED_CHARS,
        )
    key = (hashlib.sha256(sparql.encode("utf-8", "surrogatepass")).digest(), update)
    with _verdicts_lock:
        if key in _verdicts:
            _verdicts.move_to_end(key)
            return _verdicts[key]
    calls = _parse_calls(sparql, update)
    with _verdicts_lock:
        _verdicts[key] = calls
        while len(_verdicts) > _CACHE_SIZE:
            _verdicts.popitem(last=False)
    return calls


def warm() -> None:
    """Parse a small query once: a process's first parse takes about 17 ms more than the next."""
    connections("ASK { ?s ?p ?o FILTER(?o < 1) }")


def _parse_calls(sparql: str, update: bool) -> tuple[Call, ...]:
    """Parse ``sparql`` (see the module's docstring for how it is read) and take its calls."""
    what = "SPARQL Update" if update else "SPARQL"
    text = sparql.replace("\r", "\n")  # pyoxigraph ends a comment at either; rdflib only at \n
    try:
        if update:  # not parser.parseUpdate/parseQuery: they expand \u escapes everywhere first
            tree = _grammar()[1].parse_string(text, parse_all=True)[0]
            units = list(zip(tree.prologue, tree.request, strict=False)) if tree.request else []
        else:
            tree = _grammar()[0].parse_string(text, parse_all=True)
            units = [(tree[0], tree[1])]
    except RecursionError:
        raise QuerySyntaxError(
            f"{what} syntax error: the text nests too deeply to be checked "
            "(about 20 levels of parentheses or 30 of braces at most)"
        ) from None
    except Exception as exc:  # pyparsing's ParseException
        where = f"error at {exc.lineno}:{exc.col}: " if hasattr(exc, "lineno") else ""
        message = str(getattr(exc, "msg", exc))
        hint = (
            " (\\u and \\U escapes are not accepted here: write the character itself)"
            if re.search(r"\\[uU]", sparql)
            else ""
        )
        raise QuerySyntaxError(f"{what} syntax error: {where}{message[:1].lower()}{message[1:]}{hint}") from None
    prefixes: dict[str, str | None] = {}
    calls: list[Call] = []
    for prologue, operation in units:
        for decl in prologue:  # later declarations win, and carry over to the next operation
            if decl.name == "PrefixDecl":
                iri = str(decl.iri)
                prefixes[decl.prefix or ""] = iri if _ABSOLUTE.match(iri) else None
        calls.extend(_calls(operation, prefixes, what))
    return tuple(calls)


def _service_tokens(instring: str, loc: int, tokens: Any) -> CompValue:
    """A ``ServiceGraphPattern`` node of the tokens' parameters: rdflib's ``Comp.postParse``
    without its search for the SERVICE's own text (see below)."""
    node = CompValue("ServiceGraphPattern")
    for token in tokens:
        if isinstance(token, ParamValue):
            node[token.name] = token.tokenList
    return node


@functools.cache
def _grammar() -> tuple[Any, Any]:
    """The guard's own copy of rdflib's ``Query`` and ``UpdateUnit`` rules, built on first use.

    rdflib's SERVICE rule also searches the whole text again for the SERVICE's own text (its
    ``service_string``, used only when rdflib itself evaluates a SERVICE), once per SERVICE: seconds
    for a few dozen, and the search takes a ``#`` anywhere on the line before it (in an IRI such as
    ``rdfs:``'s) for a comment, so the SERVICE is not found and a valid query fails to parse. In the
    copy, the SERVICE rule keeps only the parsed tokens. The copy is deep (one copy of each rule,
    shared as in the original, recursion kept) so rdflib's own grammar is left as it is."""
    memo: dict[int, Any] = {}
    query, update = copy.deepcopy((sparql_parser.Query, sparql_parser.UpdateUnit), memo)
    service = memo[id(sparql_parser.ServiceGraphPattern)]
    service.postParse = _service_tokens
    return query, update


def _calls(tree: Any, prefixes: dict[str, str | None], what: str) -> list[Call]:
    """The SERVICE and LOAD nodes anywhere in one operation's parse tree (expressions, EXISTS and
    subqueries included), walked without recursion."""
    found: list[Call] = []
    todo, seen = [tree], set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                term, silent = dict.get(node, "term"), dict.get(node, "silent") is not None
                if isinstance(term, Variable):
                    found.append(ServiceCall(None, variable=str(term), silent=silent))
                else:
                    found.append(ServiceCall(_iri(term, prefixes, what, "SERVICE"), silent=silent))
            elif node.name == "Load":
                found.append(LoadCall(_iri(dict.get(node, "iri"), prefixes, what, "LOAD")))
            todo.extend(reversed(list(dict.values(node))))
        elif isinstance(node, ParseResults):
            todo.extend(reversed([*node, *node.values()]))
        elif isinstance(node, list | tuple):
            todo.extend(reversed(node))
    return found


def _iri(term: Any, prefixes: dict[str, str | None], what: str, keyword: str) -> str:
    """The absolute IRI a SERVICE or LOAD names, as pyoxigraph reads it (a prefixed name's escapes
    removed). In a query, a relative IRI (or a prefix declared with one) is refused: what it
    resolves to would depend on a base IRI, and no endpoint needs one. In an update, where every
    call is refused anyway, such a name is given as written."""
    update = what == "SPARQL Update"
    if isinstance(term, CompValue) and term.name == "pname":
        prefix, local = term.prefix or "", _PN_LOCAL_ESC.sub(r"\1", str(term.localname or ""))
        base = prefixes.get(prefix)
        if base is None and update:
            return f"{prefix}:{local}"
        if prefix not in prefixes:
            raise QuerySyntaxError(f"{what} syntax error: {keyword} {prefix}:…: the prefix {prefix!r} is not declared")
        if base is None:
            raise BadRequest(
                f"{keyword} {prefix}:…: the prefix is declared with a relative IRI; "
                f"a {keyword} must name an absolute IRI",
                parameter="query",
            )
        return base + local
    iri = str(term)
    if not _ABSOLUTE.match(iri) and not update:
        raise BadRequest(
            f"{keyword} <{iri}>: a {keyword} must name an absolute IRI, not a relative one", parameter="query"
        )
    return iri
