"""The connection guard: no query or update makes the server connect anywhere it was not allowed to.

Every query and update is parsed before it runs (:func:`federation.connections`); the SERVICE and
LOAD calls are taken from the parse tree, and a text the guard cannot parse is refused. A real
HTTP listener on 127.0.0.1 counts every connection made to it: a refusal must leave it at zero.
It answers every request (empty SPARQL results), so that a call that does get through makes the
request finish, and the count is read only after that (no waiting, no timing).

The fuzz test hides a SERVICE (or a LOAD) behind every escape and comment form the grammar allows
and checks that the guard refuses the text or that pyoxigraph, running it, connects nowhere. Its
examples are derandomised and no example database is kept, so CI runs the same cases each time.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allianceld.config import Settings
from allianceld.errors import AllianceldError
from allianceld.store import KnowledgeBase, federation
from allianceld.web import create_app
from conftest import ROOT

EMPTY_RESULTS = b'{"head":{"vars":[]},"results":{"bindings":[]}}'


class Listener(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that counts the connections made to it and answers every
    request with empty SPARQL JSON results."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Answer)
        self.connections = 0
        self.url = f"http://127.0.0.1:{self.server_address[1]}/sparql"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def process_request(self, request, client_address) -> None:
        self.connections += 1  # counted on accept, before any answer is sent
        super().process_request(request, client_address)

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)


class _Answer(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(EMPTY_RESULTS)))
        self.end_headers()
        self.wfile.write(EMPTY_RESULTS)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def open_app(tmp_path_factory, small_store: KnowledgeBase):
    """An app over an on-disk copy of the small store with no SERVICE allowlist (the default),
    queries run in this process, and a contributor's token: (client, kb, token)."""
    from allianceld.tokens import TokenStore

    tmp = tmp_path_factory.mktemp("guard")
    small_store.snapshot(tmp / "store")
    kb = KnowledgeBase(tmp / "store")
    local = Settings(store_path=kb.path, home=ROOT, tokens_file=tmp / "tokens.json", query_timeout=0)
    app = create_app({"SETTINGS": local, "KB": kb, "TESTING": True})
    yield app.test_client(), kb, TokenStore(local.tokens_file).create("alice", "contributor")
    kb.close()


# -- the reproductions: an escaped '#' in a prefixed name before the call ----------------------


def test_service_after_an_escaped_hash_is_refused_without_a_token(open_app, listener: Listener) -> None:
    client, _, _ = open_app
    query = (
        "PREFIX ex: <http://e/> SELECT ?s WHERE { OPTIONAL { ?x ex:a\\# ?y } "
        f"SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
    )
    resp = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["error"] == "service-not-allowed"
    assert listener.connections == 0


def test_load_after_an_escaped_hash_is_refused_for_a_contributor(open_app, listener: Listener) -> None:
    client, kb, token = open_app
    graph = "https://example.org/graph/guard"
    update = (
        f"PREFIX ex: <http://e/> INSERT DATA {{ GRAPH <{graph}> {{ ex:a\\# ex:b ex:c }} }} ; "
        f"LOAD <{listener.url}> INTO GRAPH <{graph}>"
    )
    before = kb.graphs()
    resp = client.post(
        "/sparql",
        data=update,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"},
    )
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["error"] == "load-not-allowed"
    assert listener.url in resp.get_json()["message"]
    assert kb.graphs() == before
    assert listener.connections == 0


@pytest.mark.parametrize(
    "hiding",
    [
        # rdflib expands \u escapes everywhere; pyoxigraph only inside strings and IRIs
        'SELECT * WHERE {{ ?s ?p "\\u0022" . SERVICE <{url}> {{ ?s ?p ?o }} ?s ?p "\\u0022" }}',
        # pyoxigraph ends a comment at a carriage return; rdflib's comment runs to the line feed
        "SELECT * WHERE {{ # a comment\rSERVICE <{url}> {{ ?s ?p ?o }}\n}}",
    ],
    ids=["unicode-escape-in-a-string", "comment-ended-by-carriage-return"],
)
def test_where_the_guards_parser_and_pyoxigraph_read_differently(client, listener: Listener, hiding: str) -> None:
    """Each text reads to rdflib's plain parser as holding no SERVICE, to pyoxigraph as one call."""
    query = hiding.format(url=listener.url)
    resp = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert listener.connections == 0


# -- what the guard parses, and what it refuses -------------------------------------------------


def test_unparsable_query_is_refused_even_if_pyoxigraph_would_run_it(client) -> None:
    """pyoxigraph reads ``\\u0041`` inside a string; the guard does not, so it refuses the query."""
    query = 'SELECT ?x WHERE { BIND("\\u0041" AS ?x) }'
    assert [str(row[0]) for row in ox.Store().query(query)] == ['"A"']
    resp = client.get("/sparql", query_string={"query": query})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "query-syntax-error"
    assert "write the character itself" in body["message"]


def test_query_too_deep_for_the_guards_parser_is_refused(client) -> None:
    """rdflib's parser recurses a few dozen frames per level; Python's recursion limit ends it long
    before pyoxigraph's limit, and the query is refused rather than run unchecked."""
    query = "SELECT * WHERE { FILTER(" + "(" * 60 + "1" + ")" * 60 + ") }"
    assert list(ox.Store().query(query)) != []
    resp = client.get("/sparql", query_string={"query": query})
    assert resp.status_code == 400
    assert "nests too deeply to be checked" in resp.get_json()["message"]


def test_service_endpoints_are_read_as_pyoxigraph_reads_them() -> None:
    prefixed = "PREFIX t: <http://a.example/> PREFIX t: <http://b.example/> SELECT * { SERVICE t:q\\#x {} }"
    assert federation.connections(prefixed) == (federation.ServiceCall("http://b.example/q#x"),)
    one_line = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT * { SERVICE <http://s.example/> {} }"
    assert federation.check_query(one_line, ("http://s.example/",)) == ["http://s.example/"]
    with pytest.raises(federation.BadRequest, match="absolute IRI"):
        federation.connections("BASE <http://a.example/> SELECT * { SERVICE <sparql> {} }")
    for update in ("LOAD <relative>", "PREFIX r: <x/> LOAD r:y", "LOAD undeclared:y"):  # any LOAD: load-not-allowed
        with pytest.raises(federation.LoadNotAllowed):
            federation.check_update(update)


def test_too_long_text_is_refused_before_it_is_parsed(open_app) -> None:
    client, kb, token = open_app
    triples = "\n".join(f"<https://example.org/s{i}> <https://example.org/p> {i} ." for i in range(1000))
    update = "INSERT DATA { GRAPH <https://example.org/graph/big> {\n" + triples + "\n} }"
    assert len(update) > federation.MAX_GUARDED_CHARS
    resp = client.post(
        "/sparql",
        data=update,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"},
    )
    assert resp.status_code == 413
    body = resp.get_json()
    assert body["error"] == "sparql-too-long" and body["limit"] == federation.MAX_GUARDED_CHARS
    assert f"{federation.MAX_GUARDED_CHARS:,}" in body["message"] and "/data" in body["message"]
    assert "https://example.org/graph/big" not in kb.graphs()
    query = "SELECT * WHERE { ?s ?p ?o " + "FILTER(?o != 1) " * 3000 + "}"
    assert client.get("/sparql", query_string={"query": query}).status_code == 413


def test_verdicts_are_cached_per_text(monkeypatch) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } # cached verdict"
    assert federation.connections(query) == ()
    parsed: list[str] = []
    monkeypatch.setattr(federation, "_parse_calls", lambda text, update: parsed.append(text) or ())
    assert federation.connections(query) == ()
    assert parsed == []
    federation.connections(query, update=True)  # not the same verdict: parsed as an update
    assert parsed == [query]


# -- the fuzz test -------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# pieces of SPARQL that change how the rest of the text is read (or would, to a naive reader):
# mostly valid, so that pyoxigraph runs the text, sometimes not
ANYWHERE_IN_STRINGS = ["#", "# x", "SERVICE <http://e/> {", "}", "{", "\\'", '\\"', "\\\\", "\\n", "<", "> {", "a"]
OTHER_QUOTE = {
    "'": ['"', '"""'],
    '"': ["'", "'''"],
    "'''": ['"', "a'b", "a''b", "\n"],
    '"""': ["'", 'a"b', 'a""b', "\r"],
}
ESCAPES_IN_STRINGS = [
    "\\u0022",
    "\\u0027",
    "\\U00000022",
    "\\u0023",
    "\\u000A",
]  # pyoxigraph reads these; rdflib too early
NAMES = ["ex:a", "ex:a\\#", "ex:a\\'", "ex:a\\.b", "ex:\\#", "ex:a\\;b", "ex:a\\~", "ex:a\\%", "ex:%41", "ex:a\\'\\#"]
BAD_NAMES = ['ex:a\\"', "ex:a\\u0041"]
COMMENT_BODIES = ["", "'", '"', "'''", '"""', "<", "SERVICE <http://e/> {", "\\u000A", "\\"]
EOL = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def strings(draw) -> str:
    quote = draw(st.sampled_from(["'", '"', "'''", '"""']))
    pieces = ANYWHERE_IN_STRINGS + OTHER_QUOTE[quote] + draw(st.sampled_from([[], ESCAPES_IN_STRINGS]))
    return quote + "".join(draw(st.lists(st.sampled_from(pieces), max_size=4))) + quote


@st.composite
def names(draw) -> str:
    return draw(st.sampled_from(NAMES if draw(st.integers(0, 9)) else BAD_NAMES))


@st.composite
def noise(draw, ground: bool = False) -> str:
    """A triple, comment or filter that may stand before or after a graph pattern, each in an
    OPTIONAL (so that it keeps the solution the SERVICE is evaluated for); ``ground``: a triple
    for INSERT DATA, or a comment."""
    kind = draw(st.integers(0, 7))
    if kind == 3:
        return "#" + draw(st.sampled_from(COMMENT_BODIES)) + draw(EOL)
    if kind == 7:
        return draw(st.sampled_from(["\\u0023", "\\u0022", "\\U00000023"]))  # not SPARQL outside strings
    if kind == 5:
        if ground:
            return "#" + draw(EOL)
        tail = draw(st.sampled_from(["", "#x>", "#x>'''", " . ?x ex:p '>' ."]))
        return f"OPTIONAL {{ FILTER(?a<?b){tail}{draw(EOL)} }}"
    triple = {
        0: f"?x {draw(names())} ?y .",
        1: f"?x {draw(names())} ?y .",
        2: f"?x ex:p {draw(strings())} .",
        4: "?x <http://e/p#frag> <http://e/o#'> .",
        6: f"?x ex:p {draw(strings())}, {draw(strings())} .",
    }[kind]
    return triple.replace("?x", "ex:x").replace("?y", "ex:y") if ground else f"OPTIONAL {{ {triple} }}"


def spaced(draw, parts: st.SearchStrategy[str], max_size: int) -> str:
    return " ".join(draw(st.lists(parts, max_size=max_size)))


@st.composite
def call(draw, url: str) -> str:
    """A SERVICE to ``url``, spelt in any case, with a prefix and escapes, or with \\u escapes
    (which only rdflib's plain parser reads in a keyword)."""
    keyword = draw(st.sampled_from(["SERVICE", "service", "SeRvIcE"] if draw(st.integers(0, 9)) else ["\\u0053ERVICE"]))
    silent = draw(st.sampled_from(["", " SILENT"]))
    endpoint = draw(st.sampled_from([f"<{url}>", f"<{url}#x>", "t:sparql", "t:sp\\-arql", "t:\\#sparql"]))
    return f"{keyword}{silent} {endpoint} {{ ?s ?p ?o }}"


# what may stand just before and just after a call to hide it from one reader but not the other:
# a comment pyoxigraph ends at a carriage return; strings whose \u escapes, expanded too early,
# make a long string around the call; names with escaped '#' and quotes; a less-than that looks
# like an IRI, followed by a comment holding a long string's quotes
HIDINGS = [
    ("# c\r", "\n"),
    ("# c\r", "# d\n"),
    ('OPTIONAL { ?x ex:p "\\u0022" . }', 'OPTIONAL { ?x ex:p "\\u0022" . }'),
    ("OPTIONAL { ?x ex:p '\\u0027' . }", "OPTIONAL { ?x ex:p '\\u0027' . }"),
    ('OPTIONAL { ?x ex:p "\\U00000022" . }', 'OPTIONAL { ?x ex:p "a\\u0022\\u0022" . }'),
    ("OPTIONAL { ?x ex:p '\\u0023' . }", "\n"),
    ("OPTIONAL { ?x ex:a\\# ?y }", ""),
    ("OPTIONAL { ?x ex:a\\' ?y }", ""),
    ("OPTIONAL { ?x ex:a\\' ?y }", "OPTIONAL { ?x ex:a\\' ?y }"),
    ("OPTIONAL { FILTER(?a<?b)#x>'''\n }", "#'''\n"),
    ("OPTIONAL { ?x <http://e/#> ?y }", ""),
]


@st.composite
def hidden(draw, url: str) -> str:
    """A call to ``url``, most of the time between the two halves of a hiding."""
    text = draw(call(url))
    if draw(st.integers(0, 3)):
        before, after = draw(st.sampled_from(HIDINGS))
        text = f"{before} {text} {after}"
    return text


@st.composite
def group(draw, inner: str) -> str:
    """``inner`` inside a random nest of groups, OPTIONAL, UNION, MINUS, GRAPH, EXISTS, subqueries,
    with noise on either side at each level."""
    forms = ["{ %s }", "OPTIONAL { %s }", "{ %s } UNION { }", "MINUS { %s }", "GRAPH ?g { %s }"]
    forms += ["FILTER EXISTS { %s }", "FILTER NOT EXISTS { %s }", "{ SELECT * WHERE { %s } }"]
    for _ in range(draw(st.integers(0, 3))):
        inner = f"{spaced(draw, noise(), 2)} {draw(st.sampled_from(forms)) % inner} {spaced(draw, noise(), 2)}"
    return inner


def _prologue(url: str) -> str:
    return f"PREFIX ex: <http://e/> PREFIX t: <{url.removesuffix('sparql')}> "


@st.composite
def queries(draw, url: str) -> str:
    body = draw(group(draw(hidden(url))))
    return _prologue(url) + f"SELECT * WHERE {{ {spaced(draw, noise(), 3)} {body} {spaced(draw, noise(), 3)} }}"


@st.composite
def updates(draw, url: str) -> str:
    ground = noise(ground=True)
    insert = f"INSERT DATA {{ GRAPH <http://e/g> {{ ex:s ex:p ex:o . {spaced(draw, ground, 3)} }} }}"
    form = draw(st.integers(0, 2))
    if form == 0:
        loads = [f"LOAD <{url}>", f"LOAD SILENT <{url}> INTO GRAPH <http://e/g>", "load t:sparql", "LOAD t:\\#x"]
        separator = draw(st.sampled_from([" ", "\n", "\r"]))
        return _prologue(url) + f"{insert} ;{separator}{draw(st.sampled_from(loads))}"
    where = draw(group(draw(hidden(url))))
    if form == 1:
        return _prologue(url) + f"{insert} ; INSERT {{ ?s ?p ?o }} WHERE {{ {where} }}"
    return _prologue(url) + f"DELETE {{ ?s ?p ?o }} WHERE {{ {where} }}"


def _refused_or_harmless(listener: Listener, text: str, update: bool) -> None:
    """The property: the guard refuses ``text``, or pyoxigraph runs it without connecting."""
    before = listener.connections
    try:
        if update:
            federation.check_update(text)
        else:
            federation.check_query(text, ())
    except AllianceldError:
        return
    store = ox.Store()
    try:
        if update:
            store.update(text)
        else:
            result = store.query(text)
            if not isinstance(result, ox.QueryBoolean):
                list(result)
    except (SyntaxError, OSError, ValueError):
        pass
    assert listener.connections == before, f"the guard let through a text that connected: {text!r}"


@pytest.mark.parametrize("update", [False, True], ids=["query", "update"])
def test_fuzz_nothing_connects_unless_the_guard_allows_it(update: bool) -> None:
    listener = Listener()
    try:

        @FUZZ
        @given((updates if update else queries)(listener.url))
        def prop(text: str) -> None:
            _refused_or_harmless(listener, text, update=update)

        prop()
    finally:
        listener.close()
