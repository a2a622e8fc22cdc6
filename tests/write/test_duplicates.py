"""Duplicates noticed: the same contribution posted twice is refused with 409 naming the first
(blank nodes up to renaming); a new alliance that looks like a stored one (the same members,
founded within a year, an obligation in common) is accepted with a Warning naming it."""

from __future__ import annotations

import pyoxigraph as ox
import rdflib

from allianceld.vocab import SH
from allianceld.write import gate
from allianceld.write.contributions import SAME_DATA, contribute, digest
from allianceld.write.write_policy import WritePolicy
from conftest import Site

SOURCE = "https://example.org/test-source"
PREFIXES = f"""@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{SOURCE}> a prov:Entity ; dcterms:title "Test source"@en ; dcterms:publisher "allianceld tests" .
"""
ATOP_3240 = "https://w3id.org/allianceld/id/alliance/atop-3240"
US_ROK = "https://w3id.org/allianceld/id/alliance/us-rok-alliance"


def alliance(name: str, label: str, founded: str, members: tuple[str, ...], kinds: tuple[str, ...]) -> str:
    """Turtle for an alliance ``id:alliance/<name>`` of ``members`` (state codes) founded on
    ``founded`` by a treaty with one provision of each of ``kinds``."""
    provisions = " , ".join(f"<https://w3id.org/allianceld/id/provision/{name}-{k}>" for k in kinds)
    text = f"""<https://w3id.org/allianceld/id/alliance/{name}> a ald:BilateralAlliance ;
    rdfs:label "{label}"@en ; ald:foundingDate "{founded}"^^xsd:date ;
    ald:foundingTreaty <https://w3id.org/allianceld/id/treaty/{name}> ; prov:wasDerivedFrom <{SOURCE}> .
<https://w3id.org/allianceld/id/treaty/{name}> a ald:Treaty ; rdfs:label "Treaty of {label}"@en ;
    ald:signingDate "{founded}"^^xsd:date ; ald:hasProvision {provisions} ; prov:wasDerivedFrom <{SOURCE}> .
"""
    for k in kinds:
        text += f"<https://w3id.org/allianceld/id/provision/{name}-{k}> a ald:{k}Provision .\n"
    for m in members:
        text += f"""<https://w3id.org/allianceld/id/membership/{name}-{m}> a org:Membership ;
    org:member <https://w3id.org/allianceld/id/state/{m}> ;
    org:organization <https://w3id.org/allianceld/id/alliance/{name}> ;
    org:role ald:FoundingMember ; ald:startDate "{founded}"^^xsd:date ; prov:wasDerivedFrom <{SOURCE}> .
"""
    return text


def post(site: Site, body: str):
    return site.client.post("/contributions", data=(PREFIXES + body).encode(), headers=site.auth())


def store_atop_3240(site: Site, write_policy: WritePolicy) -> None:
    """The stored alliance a contribution may duplicate: the US-ROK defence pact as ATOP holds it."""
    text = PREFIXES + alliance("atop-3240", "ATOP alliance 3240 (1953)", "1953-10-01", ("usa", "kor"), ("Defence",))
    # the same triples in another order and syntax, the blank node under another label: the same data
    triples = [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]
    gate.commit(site.kb, write_policy, [gate.Source("https://w3id.org/allianceld/graph/data/atop", triples, "atop")])


def look_alikes(body: dict) -> list[dict]:
    return [w for w in body["warnings"] if w["constraint"] == "allianceld:LookAlikeAlliance"]


def test_the_same_contribution_twice_is_refused_naming_the_first(site: Site) -> None:
    data = alliance("xt-pact", "XT pact", "1990-05-01", ("aus", "nzl"), ("Defence",))
    data += f'<{SOURCE}> dcterms:creator [ rdfs:label "a test author" ] .\n'  # a blank node
    first = post(site, data)
    assert first.status_code == 201, first.get_json()
    first_id = first.get_json()["id"]
    before = site.kb.dump()
    again = post(site, data)
    assert again.status_code == 409, again.get_json()
    body = again.get_json()
    assert (body["error"], body["id"], body["url"]) == (
        "duplicate-contribution",
        first_id,
        f"/contributions/{first_id}",
    )
    assert first_id in body["message"]
    # the same triples in another order and syntax, the blank node under another label: the same data
    triples = [q.triple for q in ox.parse((PREFIXES + data).encode(), format=ox.RdfFormat.TURTLE)]
    as_ntriples = ox.serialize(triples[::-1], format=ox.RdfFormat.N_TRIPLES).replace(b"_:", b"_:renamed")
    renamed = site.client.post("/contributions", data=as_ntriples, headers=site.auth(ctype="application/n-triples"))
    assert renamed.status_code == 409 and renamed.get_json()["id"] == first_id
    assert site.kb.dump() == before  # nothing written
    assert site.client.get("/contributions").get_json()["total"] == 1
    # one more triple is other data
    assert (
        post(site, data + '<https://w3id.org/allianceld/id/alliance/xt-pact> rdfs:comment "x" .\n').status_code == 201
    )


def test_a_retracted_contribution_may_be_posted_again(site: Site) -> None:
    data = alliance("xt-pact", "XT pact", "1990-05-01", ("aus", "nzl"), ("Defence",))
    first = post(site, data).get_json()["id"]
    retracted = site.client.delete(f"/contributions/{first}", headers=site.auth(site.admin, ctype=None))
    assert retracted.status_code == 200, retracted.get_json()
    assert post(site, data).status_code == 201


def test_a_look_alike_alliance_gets_a_warning_naming_the_stored_one(site: Site, write_policy: WritePolicy) -> None:
    store_atop_3240(site, write_policy)
    data = alliance(
        "us-rok-alliance",
        "United States\N{EN DASH}Republic of Korea alliance",
        "1954-11-17",
        ("usa", "kor"),
        ("Defence", "Consultation"),
    )
    resp = post(site, data)
    assert resp.status_code == 201, resp.get_json()  # accepted: a Warning
    [warning] = look_alikes(resp.get_json())
    assert warning["severity"] == "Warning" and warning["focusNode"] == US_ROK
    assert warning["value"] == ATOP_3240
    assert warning["message"].startswith(f"looks like {ATOP_3240} (ATOP alliance 3240 (1953))")
    assert "confidence" in warning["message"] and "members" in warning["message"], warning["message"]


def test_an_unrelated_alliance_gets_no_such_warning(site: Site, write_policy: WritePolicy) -> None:
    store_atop_3240(site, write_policy)
    cases = [  # (alliance, looks like ATOP 3240)
        (alliance("a1", "Pact of 1954", "1954-11-17", ("usa", "jpn"), ("Defence",)), False),  # other members
        (alliance("a2", "Pact of 1970", "1970-01-01", ("usa", "kor"), ("Defence",)), False),  # 17 years later
        (alliance("a3", "Pact of 1953", "1953-10-01", ("usa", "kor"), ("Consultation",)), False),  # other obligation
        (alliance("a4", "Pact of 1952", "1952-12-01", ("usa", "kor"), ("Defence",)), True),  # a year before
    ]
    for data, expected in cases:
        resp = post(site, data)
        assert resp.status_code == 201, resp.get_json()
        assert [w["value"] for w in look_alikes(resp.get_json())] == ([ATOP_3240] if expected else [])


def test_data_whose_blank_nodes_cannot_be_told_apart_is_committed_with_a_warning(site: Site) -> None:
    """Two blank nodes that say the same (symmetric data) have no canonical naming short of a
    search exponential in their number, which a client could send on purpose: such data may repeat a
    contribution, so the second post is committed with a Warning naming the first, never refused."""
    data = alliance("xs-pact", "XS pact", "1990-05-01", ("aus", "nzl"), ("Defence",))
    data += f'<{SOURCE}> dcterms:creator [ rdfs:label "an author" ] , [ rdfs:label "an author" ] .\n'
    first = post(site, data)
    assert first.status_code == 201, first.get_json()
    again = post(site, data)
    assert again.status_code == 201, again.get_json()
    (warning,) = [w for w in again.get_json()["warnings"] if w["constraint"] == SAME_DATA]
    assert first.get_json()["id"] in warning["message"] and warning["severity"] == "Warning"


def test_the_digest_names_blank_nodes_by_what_they_say() -> None:
    p, q, r = ox.NamedNode("http://e/p"), ox.NamedNode("http://e/q"), ox.NamedNode("http://e/r")

    def chain(first: str, second: str, labels: tuple[str, str]) -> list[ox.Triple]:
        a, b = ox.BlankNode(first), ox.BlankNode(second)
        return [
            ox.Triple(r, p, a),
            ox.Triple(a, q, ox.Literal(labels[0])),
            ox.Triple(a, p, b),
            ox.Triple(b, q, ox.Literal(labels[1])),
        ]

    one, renamed, swapped = chain("a", "b", ("x", "y")), chain("c", "d", ("x", "y"))[::-1], chain("a", "b", ("y", "x"))
    assert digest(one) == digest(renamed) and digest(one).exact
    assert digest(one) != digest(swapped)
    nodes = [ox.BlankNode() for _ in range(300)]
    many = [t for b in nodes for t in (ox.Triple(r, p, b), ox.Triple(b, q, ox.Literal("1")))]
    assert not digest(many).exact  # 300 blank nodes alike: named alike, at once


def _turtle_results(text: str) -> list[tuple[str, str, str | None, str]]:
    """(severity, focus node, value, constraint component) of each result of a Turtle report."""
    graph = rdflib.Graph().parse(data=text, format="turtle")
    [report] = graph.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms) == rdflib.Literal(False)
    return [
        (
            str(graph.value(r, SH.resultSeverity)),
            str(graph.value(r, SH.focusNode)),
            None if graph.value(r, SH.value) is None else str(graph.value(r, SH.value)),
            str(graph.value(r, SH.sourceConstraintComponent)),
        )
        for r in graph.objects(report, SH.result)
        if (r, rdflib.RDF.type, SH.ValidationResult) in graph
    ]


LOOK_ALIKE_RESULT = (
    "http://www.w3.org/ns/shacl#Warning",
    US_ROK,
    ATOP_3240,
    "https://w3id.org/allianceld/shapes#LookAlikeAlliance",
)


def test_the_look_alike_warning_is_in_the_turtle_report(site: Site, write_policy: WritePolicy) -> None:
    """The Warning is an sh:ValidationResult of the sh:ValidationReport as well as in the JSON:
    in the report of a committed contribution and in the Turtle of a refused one."""
    store_atop_3240(site, write_policy)
    data = alliance("us-rok-alliance", "US-ROK alliance", "1954-11-17", ("usa", "kor"), ("Defence",))
    triples = [q.triple for q in ox.parse((PREFIXES + data).encode(), format=ox.RdfFormat.TURTLE)]
    _, result = contribute(site.kb, write_policy, triples, agent="a test")
    assert LOOK_ALIKE_RESULT in _turtle_results(result.report.to_turtle())

    # refused (a membership ending before it starts): the Turtle report holds the Violation and the Warning
    broken = data.replace(
        'org:role ald:FoundingMember ; ald:startDate "1954-11-17"^^xsd:date ;',
        'org:role ald:FoundingMember ; ald:startDate "1954-11-17"^^xsd:date ; ald:endDate "1950-01-01"^^xsd:date ;',
        1,
    ).replace("us-rok-alliance", "us-rok-alliance-2")
    assert broken != data
    refused = site.client.post(
        "/contributions", data=(PREFIXES + broken).encode(), headers={**site.auth(), "Accept": "text/turtle"}
    )
    assert refused.status_code == 422, refused.get_data(as_text=True)
    results = _turtle_results(refused.get_data(as_text=True))
    assert (LOOK_ALIKE_RESULT[0], US_ROK + "-2", ATOP_3240, LOOK_ALIKE_RESULT[3]) in results
    assert any(r[0] == "http://www.w3.org/ns/shacl#Violation" for r in results)
