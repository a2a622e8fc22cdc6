"""The one SPARQL tokeniser: token kinds on tricky text, tokens that cover the text exactly, and the
nesting guard's reading of an ambiguous ``<``."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allianceld.errors import QuerySyntaxError
from allianceld.rdf import depth, sparql_text

DEEP = depth.MAX_DEPTH + 50


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in sparql_text.significant(text)]


def test_escaped_prefixed_names_keep_their_hash_quote_and_percent() -> None:
    assert _kinds(r"ex:a\#b\'c%20d\(e\). ex:f") == [
        ("pname", r"ex:a\#b\'c%20d\(e\)"),
        ("punct", "."),
        ("pname", "ex:f"),
    ]
    assert _kinds("ex: :x ex:a.b. ex:1") == [
        ("pname", "ex:"),
        ("pname", ":x"),
        ("pname", "ex:a.b"),
        ("punct", "."),
        ("pname", "ex:1"),
    ]


def test_strings_with_quotes_escapes_and_hashes() -> None:
    text = r"""'it\'s # not a comment' "say \"{\"" 'a\tb\u00e9' "x\q" """
    assert _kinds(text)[:3] == [
        ("string", r"'it\'s # not a comment'"),
        ("string", r'"say \"{\""'),
        ("string", r"'a\tb\u00e9'"),
    ]
    # \q is no ECHAR: the quote begins no string, and the rest is read on
    assert _kinds(text)[3] == ("error", '"')


def test_long_strings_span_lines_and_hold_lone_quotes() -> None:
    text = "'''one ' two '' { # \n three''' \"\"\"a \"\" b\r\n}\"\"\" ?x"
    assert _kinds(text) == [
        ("string", "'''one ' two '' { # \n three'''"),
        ("string", '"""a "" b\r\n}"""'),
        ("var", "?x"),
    ]


def test_comments_end_at_a_carriage_return_or_a_line_feed() -> None:
    tokens = sparql_text.tokens("?a # one { \r{ # two ( \n}")
    assert [(t.kind, t.text) for t in tokens if t.kind in ("comment", "open", "close")] == [
        ("comment", "# one { "),
        ("open", "{"),
        ("comment", "# two ( "),
        ("close", "}"),
    ]


def test_the_other_terminals() -> None:
    text = "_:b1 ?v $w 1 2.5 .5 1e3 1.E-2 @en-GB ^^ <= != && || <http://e/a#b> a true"
    assert [k for k, _ in _kinds(text)] == [
        "bnode", "var", "var", "number", "number", "number", "number", "number",
        "langtag", "punct", "punct", "punct", "punct", "punct", "iri", "word", "word",
    ]  # fmt: skip


def test_less_than_in_a_filter_with_spaces_is_punctuation() -> None:
    assert _kinds("FILTER(?a < 3 && ?b > 1)") == [
        ("word", "FILTER"),
        ("open", "("),
        ("var", "?a"),
        ("punct", "<"),
        ("number", "3"),
        ("punct", "&&"),
        ("var", "?b"),
        ("punct", ">"),
        ("number", "1"),
        ("close", ")"),
    ]


def test_less_than_without_spaces_reads_as_an_iri_and_is_flagged() -> None:
    tokens = sparql_text.significant("FILTER(?a<?b&&?c>?d)")
    assert [(t.kind, t.text) for t in tokens][2:4] == [("var", "?a"), ("iri", "<?b&&?c>")]
    # no bracket, comment or string in it: either reading gives the same structure
    assert not sparql_text.may_be_less_than(tokens[2], tokens[3])
    tokens = sparql_text.significant("FILTER(?a<(1)&&2>1)")
    assert sparql_text.may_be_less_than(tokens[2], tokens[3])
    tokens = sparql_text.significant("FILTER(?p=<http://e/a#b>)")
    assert not sparql_text.may_be_less_than(tokens[3], tokens[4])  # after an operator: an IRI


def test_depth_counts_every_bracket() -> None:
    tokens = sparql_text.significant("{ ( [ ] ) }")
    assert [t.depth for t in tokens] == [0, 1, 2, 3, 2, 1]


def test_where_start() -> None:
    select = "PREFIX e: <http://e/a#>\nSELECT ?s # {\nWHERE { ?s e:p '{' }"
    assert select[sparql_text.where_start(select) :] == " ?s e:p '{' }"
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert construct[sparql_text.where_start(construct) :] == " ?s ?p ?o }"
    short = "CONSTRUCT WHERE { ?s ?p ?o }"
    assert short[sparql_text.where_start(short) :] == " ?s ?p ?o }"
    with pytest.raises(ValueError):
        sparql_text.where_start("SELECT * # {")


SPARQLISH = st.text(
    alphabet=st.sampled_from(list("<>{}()[]'\"#\\\n\r ?$:._-@%^&|!=,;*/+aeE019\u00e9\u00b7")),
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(SPARQLISH)
def test_tokens_cover_the_text_without_gaps_or_overlaps(text: str) -> None:
    tokens = sparql_text.tokens(text)
    assert "".join(t.text for t in tokens) == text
    pos = 0
    for t in tokens:
        assert t.start == pos and t.end > t.start and text[t.start : t.end] == t.text
        assert t.kind in sparql_text.KINDS
        pos = t.end
    assert pos == len(text)


# -- the nesting guard --------------------------------------------------------------------------


def test_parentheses_inside_a_less_than_read_as_an_iri_are_counted() -> None:
    small = "SELECT * WHERE { BIND(1<((2))&&2>1 AS ?x) }"
    assert len(list(ox.Store().query(small))) == 1  # pyoxigraph reads '<' as less-than here
    deep = f"SELECT * WHERE {{ BIND(1<{'(' * DEEP}2{')' * DEEP}&&2>1 AS ?x) }}"
    with pytest.raises(QuerySyntaxError, match="nests brackets"):
        depth.check_sparql(deep)


def test_a_long_string_that_only_the_iri_reading_sees_hides_nothing() -> None:
    def query(n: int) -> str:
        return f"SELECT * WHERE {{ BIND(CONCAT(?a<?b,'''>\"\"\"\n''',{'(' * n}1{')' * n}\n#\"\"\"\n) AS ?c) }}"

    assert len(list(ox.Store().query(query(3)))) == 1  # read as: ?a < ?b, '''…''', (((1)))
    with pytest.raises(QuerySyntaxError, match="nests brackets"):
        depth.check_sparql(query(DEEP))


def test_an_escaped_hash_in_a_prefixed_name_is_no_comment() -> None:
    query = f"PREFIX ex: <http://e/>\nSELECT * WHERE {{ ?s ex:a\\#b ?o FILTER({'(' * DEEP}1{')' * DEEP}) }}"
    with pytest.raises(QuerySyntaxError, match="nests brackets"):
        depth.check_sparql(query)
    turtle = f"@prefix ex: <http://e/> .\nex:s ex:a\\#b {'[ ex:p ' * DEEP}1{' ]' * DEEP} ."
    assert depth.too_deep(turtle) is not None


def test_real_queries_with_many_iris_are_not_refused() -> None:
    lines = [
        f"  FILTER(?p{i} = <http://e/v#a{i}> || ?p{i} IN (<http://e/v#b>, <http://e/v#c>))\n"
        f"  ?s <http://e/v#p> [ <http://e/v#q> (<http://e/v#r> <http://e/v#s>) ] .\n"
        for i in range(300)
    ]
    rows = ["(<http://e/v#a> <http://e/v#b>)\n"] * 300

    def query(n: int) -> str:
        return "SELECT * WHERE {\n" + "".join(lines[:n]) + "  VALUES (?a ?b) {\n" + "".join(rows[:n]) + "  }\n}"

    depth.check_sparql(query(300))
    ox.Store().query(query(3))  # a query pyoxigraph reads (planning 300 of them takes it long)


def test_strings_comments_and_iris_hide_brackets_from_the_guard() -> None:
    hidden = "'{{{' \"(((\" '''[[[\n''' # {{{\n <http://e/(((> "
    query = "SELECT * WHERE { " + hidden * 100 + "?s ?p ?o }"
    depth.check_sparql(query)
