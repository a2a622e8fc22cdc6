"""Federated queries: ``SERVICE`` only to allowlisted endpoints, ``LOAD`` never.

pyoxigraph evaluates ``SERVICE <url>`` by connecting to ``url`` itself, and ``LOAD <url>`` by
fetching it, with no time limit. A user's query or update could therefore make the server connect
anywhere it can reach (server-side request forgery). Before a user's query runs, every ``SERVICE``
in it is found in its parsed algebra (rdflib's SPARQL parser, prefixes and ``BASE`` resolved; only
when a lexical scan, :func:`may_connect`, finds that a keyword may be there) and checked against
the configured allowlist (``ALLIANCELD_SERVICE_ALLOWLIST``, empty by default, so federation is
off); ``SERVICE ?variable`` is refused, whatever the allowlist; an update with ``LOAD`` or
``SERVICE`` is refused whole. Nothing connects before the check has passed.

>>> allowed = parse_allowlist("https://query.wikidata.org/sparql")
>>> check_query("SELECT * WHERE { SERVICE <https://QUERY.wikidata.org:443/sparql> { ?s ?p ?o } }", allowed)
['https://query.wikidata.org/sparql']
>>> check_query("SELECT * WHERE { ?s ?p 'no service here' }", allowed)
[]
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from allianceld.errors import BadRequest, QuerySyntaxError, RemoteQueryTimeout, RemoteStoreError

T = TypeVar("T")

# a SERVICE or LOAD keyword can only be spelt with these letters (SPARQL keywords have no escapes)
_MAY_CONNECT = re.compile(r"service|load", re.IGNORECASE)
# where the lexical state of SPARQL code can change, and the keywords themselves when they are
# not inside a name (?load, ex:service, download)
_CODE_EVENT = re.compile("#|'''|\"\"\"|'|\"|<|(?<![A-Za-z0-9_?$:])(?:service|load)(?![A-Za-z0-9_])", re.IGNORECASE)
_STRINGS = {
    "'''": re.compile(r"'''(?:[^'\\]|\\.|'(?!''))*+'''", re.DOTALL),
    '"""': re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*+"""', re.DOTALL),
    "'": re.compile(r"'(?:[^'\\]|\\.)*+'", re.DOTALL),
    '"': re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL),
}
_IRI = re.compile(r"<[^<>\x00-\x20]*>")  # wider than IRIREF: escapes and any other character
_URL_AFTER_LT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")  # '<scheme://' is an IRI, never less-than
_EOL = re.compile(r"[\n\r]")
MAX_CHECKED_CHARS = 1_000_000  # rdflib's parser takes seconds per 100 kB


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


@dataclass(frozen=True)
class ServiceCall:
    """One ``SERVICE`` in a query: its endpoint IRI (None when it is a variable)."""

    endpoint: str | None
    variable: str | None = None
    silent: bool = False


def normalise_endpoint(url: str) -> str:
    """The form endpoints are compared in: scheme and host in lower case, the default port and any
    fragment dropped, an empty path written ``/``; the path and query string are kept as they are.

    >>> normalise_endpoint("HTTP://Example.org:80")
    'http://example.org/'

    Raises :class:`ValueError` for anything but an absolute http(s) URL with a host.
    """
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) endpoint URL: {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"not an http(s) endpoint URL (bad port): {url!r}") from None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        raise ValueError(f"an endpoint URL with credentials is not accepted: {url!r}")
    return urllib.parse.urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def parse_allowlist(text: str) -> tuple[str, ...]:
    """The endpoints of a comma-separated allowlist, normalised (``ALLIANCELD_SERVICE_ALLOWLIST``).

    >>> parse_allowlist(" http://127.0.0.1:7878/query , ")
    ('http://127.0.0.1:7878/query',)
    """
    return tuple(normalise_endpoint(item) for item in text.split(",") if item.strip())


def service_calls(sparql: str, *, update: bool = False) -> list[ServiceCall]:
    """Every ``SERVICE`` in a query (or update), from its parsed algebra (none without parsing
    when :func:`may_connect` rules them out).

    Raises :class:`QuerySyntaxError` when the text names SERVICE but cannot be parsed, so that a
    query whose endpoints are not known never runs.
    """
    if not may_connect(sparql):
        return []
    return [c for c in _calls(_algebra(sparql, update)) if isinstance(c, ServiceCall)]


def may_connect(sparql: str) -> bool:
    """False when ``sparql`` certainly has no SERVICE or LOAD keyword (each is at most in a
    string, a comment, an IRI or a name); True means "parse it to find out". No parse: linear.

    Lexing SPARQL is deterministic except at ``<``, an IRI or the less-than operator, which only
    the grammar tells apart; both readings are followed (the code positions they reach are
    merged), so neither can hide a keyword in what the other reads as a string or a comment.

    >>> may_connect('SELECT * WHERE { ?s ?p "to load" } # SERVICE')
    False
    >>> may_connect("SELECT * WHERE { FILTER(?a<?b)#x>'''\\nSERVICE <http://x/> {}\\n#''' }")
    True
    """
    if not _MAY_CONNECT.search(sparql):
        return False
    todo, seen = [0], set()
    while todo:
        m = _CODE_EVENT.search(sparql, todo.pop())
        if m is None or m.start() in seen:
            continue
        seen.add(m.start())
        event, start = m.group(), m.start()
        if event[0] not in "#'\"<":
            return True  # a keyword in code
        if event == "#":
            eol = _EOL.search(sparql, start)
            if eol is not None:
                todo.append(eol.end())
        elif event == "<":
            iri = _IRI.match(sparql, start)
            if iri is not None:
                todo.append(iri.end())
            if iri is None or not _URL_AFTER_LT.match(sparql, start + 1):
                todo.append(start + 1)  # the less-than operator
        else:
            literal = _STRINGS[event].match(sparql, start)
            if literal is not None:
                todo.append(literal.end())
            if len(event) == 3:  # a parser may also read '' (an empty string) and go on
                todo.append(start + 2)
    return False


def check_query(sparql: str, allowlist: Collection[str]) -> list[str]:
    """The allowlisted endpoints a query's ``SERVICE`` calls go to (none: not federated).

    Raises :class:`ServiceNotAllowed` (400) for an endpoint not on ``allowlist`` (normalised
    URLs, see :func:`parse_allowlist`), for ``SERVICE ?variable`` and for any SERVICE when the
    allowlist is empty; :class:`QuerySyntaxError` when the SERVICE calls cannot be found.
    """
    calls = service_calls(sparql)
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

    Raises :class:`LoadNotAllowed` or :class:`ServiceNotAllowed` (400), or
    :class:`QuerySyntaxError` when such an update cannot be parsed.
    """
    if not may_connect(sparql):
        return
    for call in _calls(_algebra(sparql, True)):
        if isinstance(call, ServiceCall):
            raise ServiceNotAllowed(
                "SERVICE is not allowed in a SPARQL Update (a write must not wait on another server): "
                "query the endpoint with /sparql, then write the data",
                parameter="update",
            )
        raise LoadNotAllowed(
            f"LOAD <{call}> refused: the server does not fetch URLs for an update; "
            "send the data itself (POST /data, /contributions or INSERT DATA)",
            parameter="update",
            url=str(call),
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


# -- finding SERVICE and LOAD in the algebra ---------------------------------------------------


def _algebra(sparql: str, update: bool) -> Any:
    """rdflib's algebra of a query or update (prefixed names and relative IRIs resolved)."""
    from rdflib.plugins.sparql import algebra, parser

    what = "update" if update else "query"
    if len(sparql) > MAX_CHECKED_CHARS:
        raise BadRequest(
            f"the {what} may use SERVICE or LOAD and is longer than {MAX_CHECKED_CHARS:,} characters: "
            "too long to check its endpoints",
            parameter=what,
        )
    try:
        if update:
            return algebra.translateUpdate(parser.parseUpdate(sparql)).algebra
        return algebra.translateQuery(parser.parseQuery(sparql)).algebra
    except Exception as exc:  # pyparsing's ParseException, rdflib's errors for unknown prefixes
        raise QuerySyntaxError(
            f"the {what} mentions SERVICE or LOAD, and its endpoints could not be checked "
            f"because it could not be parsed: {exc}"
        ) from None


def _calls(node: Any) -> Iterator[ServiceCall | str]:
    """ServiceCalls and LOAD URLs (as str) anywhere in an algebra tree, expressions included."""
    from rdflib import URIRef, Variable
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            term = node.get("term")
            silent = dict.get(node, "silent") is not None
            if isinstance(term, Variable):
                yield ServiceCall(None, variable=str(term), silent=silent)
            else:
                yield ServiceCall(str(term) if isinstance(term, URIRef) else repr(term), silent=silent)
        elif node.name == "Load":
            yield str(dict.get(node, "iri"))
        for value in dict.values(node):
            yield from _calls(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _calls(item)
