"""The rewriting behind using-graph-uri / using-named-graph-uri: tokens, operations, USING clauses."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from allianceld.errors import BadRequest, QuerySyntaxError
from allianceld.write.sparql_update import operations, tokenize, with_dataset

D = "http://example.org/d"
N = "http://example.org/n"


def _kinds(text: str) -> list[tuple[str, str, int]]:
    return [(t.kind, t.text, t.depth) for t in tokenize(text)]


def test_braces_semicolons_and_hashes_inside_strings_and_iris_are_not_structure() -> None:
    text = """INSERT DATA { GRAPH <http://g/a#b;c> { <http://s> <http://p> "x } ; # y", 'z { ;', '''long
    } ; # ''', \"\"\"also ' " } \"\"\" } }"""
    tokens = tokenize(text)
    assert [t.text for t in tokens if t.kind in ("open", "close") or t.text == ";"] == ["{", "{", "}", "}"]
    assert [t.text for t in tokens if t.kind == "iri"] == ["<http://g/a#b;c>", "<http://s>", "<http://p>"]
    assert len([t for t in tokens if t.kind == "string"]) == 4
    assert len(operations(text)) == 1


def test_comments_are_dropped_and_end_at_the_line_end() -> None:
    text = "# WHERE { ; \nCLEAR ALL # ; DROP ALL\n; CLEAR DEFAULT"
    assert [[t.text for t in op] for op in operations(text)] == [["CLEAR", "ALL"], ["CLEAR", "DEFAULT"]]


def test_escapes_in_strings_and_local_names() -> None:
    assert _kinds(r'"a \" } ;"') == [("string", r'"a \" } ;"', 0)]
    # a backslash-escaped '#' in a prefixed name is part of the name, not a comment
    assert _kinds(r"ex:a\#b ;") == [("pname", r"ex:a\#b", 0), ("punct", ";", 0)]


def test_less_than_is_an_operator_unless_it_opens_an_iri() -> None:
    kinds = _kinds("FILTER(?a < 3)")
    assert ("punct", "<", 1) in kinds and not any(k == "iri" for k, *_ in kinds)


@pytest.mark.parametrize("text", ['INSERT DATA { <a> <b> "open }', "INSERT DATA { <a> <b> <c>", "}"])
def test_unterminated_strings_and_unbalanced_braces_are_syntax_errors(text: str) -> None:
    with pytest.raises(QuerySyntaxError):
        tokenize(text)


def test_using_goes_before_the_top_level_where_of_each_modify_operation() -> None:
    text = (
        "PREFIX where: <http://example.org/where#>\nPREFIX ex: <http://example.org/>\n"
        "INSERT DATA { GRAPH <http://g> { where:WHERE where:p 'WHERE' } } ;\n"
        "INSERT { GRAPH <http://g> { ?s ?p ?o } } WHERE { ?s ?p ?o FILTER EXISTS { ?s ?p 'WHERE' } } ;\n"
        "delete { GRAPH <http://g> { ?s ex:p ?o } } where { ?s ex:p ?o }"
    )
    out = with_dataset(text, [D], [N])
    assert out.count(f"USING <{D}> USING NAMED <{N}> ") == 2
    assert "} } USING <http://example.org/d> USING NAMED <http://example.org/n> WHERE { ?s ?p ?o FILTER" in out
    assert "} } USING <http://example.org/d> USING NAMED <http://example.org/n> where { ?s ex:p" in out
    assert out.startswith(text[: text.index(";")])  # INSERT DATA is left alone
    ox.Store().update(out)  # still valid SPARQL Update
    # the grammar allows a prologue before each operation (pyoxigraph 0.5 does not parse it)
    later = "CLEAR ALL ; PREFIX ex: <http://e/> DELETE { ?s ex:p ?o } WHERE { ?s ex:p ?o }"
    assert with_dataset(later, [D], []).endswith(f"DELETE {{ ?s ex:p ?o }} USING <{D}> WHERE {{ ?s ex:p ?o }}")


def test_delete_where_is_expanded_with_its_pattern() -> None:
    out = with_dataset("DELETE WHERE { GRAPH <http://g> { ?s ?p 1 } }", [D], [])
    assert out == f"DELETE {{ GRAPH <http://g> {{ ?s ?p 1 }} }} USING <{D}> WHERE {{ GRAPH <http://g> {{ ?s ?p 1 }} }}"
    ox.Store().update(out)


def test_the_dataset_applies_to_the_where_clause() -> None:
    store = ox.Store()
    store.update(
        f"INSERT DATA {{ GRAPH <{D}> {{ <http://a> <http://p> 1 }} GRAPH <{N}> {{ <http://b> <http://p> 2 }} }}"
    )
    store.update(with_dataset("INSERT { GRAPH <http://out> { ?s <http://q> ?o } } WHERE { ?s <http://p> ?o }", [D], []))
    assert {str(q.subject) for q in store.quads_for_pattern(None, None, None, ox.NamedNode("http://out"))} == {
        "<http://a>"
    }


@pytest.mark.parametrize(
    "text",
    [
        "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "INSERT { GRAPH <http://g> { ?s ?p ?o } } USING <http://x> WHERE { ?s ?p ?o }",
        "CLEAR ALL ; PREFIX ex: <http://e/> INSERT { GRAPH ex:g { ?s ?p ?o } } USING NAMED ex:x WHERE { ?s ?p ?o }",
    ],
)
def test_a_dataset_in_the_update_and_in_the_request_is_refused(text: str) -> None:
    with pytest.raises(BadRequest):
        with_dataset(text, [], [N])
    assert with_dataset(text, [], []) == text  # without the parameters nothing is rewritten


def test_parameters_must_be_iris() -> None:
    with pytest.raises(BadRequest):
        with_dataset("DELETE WHERE { ?s ?p ?o }", ["http://x> } ; DROP ALL ; <http://y"], [])
