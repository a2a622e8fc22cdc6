"""docs/examples/contribution.ttl is a complete, valid contribution, and each field that
docs/contributing.md says every record needs is refused when it is missing."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import DCTERMS, PROV, RDFS

from conftest import ROOT

EXAMPLE = ROOT / "docs" / "examples" / "contribution.ttl"
DOC = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
ID = rdflib.Namespace("https://w3id.org/allianceld/id/")
ALD = rdflib.Namespace("https://w3id.org/allianceld/ontology#")
ORG = rdflib.Namespace("http://www.w3.org/ns/org#")
SOURCE = rdflib.URIRef("https://example.org/sources/example-defence-pact")

# (the record, the field the doc says it needs, as the doc writes the field)
REQUIRED = [
    (ID["alliance/example-defence-pact"], RDFS.label, "rdfs:label"),
    (ID["alliance/example-defence-pact"], PROV.wasDerivedFrom, "prov:wasDerivedFrom"),
    (ID["treaty/example-defence-treaty"], RDFS.label, "rdfs:label"),
    (ID["treaty/example-defence-treaty"], PROV.wasDerivedFrom, "prov:wasDerivedFrom"),
    (ID["membership/example-defence-pact-fra"], ORG.member, "org:member"),
    (ID["membership/example-defence-pact-fra"], ORG.organization, "org:organization"),
    (ID["membership/example-defence-pact-fra"], ORG.role, "org:role"),
    (ID["membership/example-defence-pact-fra"], ALD.startDate, "ald:startDate"),
    (ID["membership/example-defence-pact-fra"], PROV.wasDerivedFrom, "prov:wasDerivedFrom"),
    (SOURCE, DCTERMS.title, "dcterms:title"),
]


def _validate(client, body: bytes) -> dict:
    resp = client.post("/validate", data=body, headers={"Content-Type": "text/turtle"})
    assert resp.status_code == 200
    return resp.get_json()


def test_the_example_is_accepted_with_only_the_warning_the_doc_names(client) -> None:
    report = _validate(client, EXAMPLE.read_bytes())
    assert (report["conforms"], report["accepted"], report["violations"]) == (False, True, 0), report
    assert "does not conform" in DOC and "accepted" in DOC
    warnings = [r for r in report["results"] if r["severity"] == "Warning"]
    assert [w["message"] for w in warnings] == [
        "This alliance has no Wikidata link yet (owl:sameAs http://www.wikidata.org/entity/Q…)."
    ]


def test_the_example_is_committed_as_a_contribution(setup) -> None:
    client, _, contributor, _ = setup
    resp = client.post(
        "/contributions",
        data=EXAMPLE.read_bytes(),
        query_string={"source": str(SOURCE), "license": "https://creativecommons.org/licenses/by/4.0/"},
        headers={"Authorization": f"Bearer {contributor}", "Content-Type": "text/turtle"},
    )
    assert resp.status_code == 201, resp.get_json()
    page = client.get("/id/alliance/example-defence-pact", headers={"Accept": "application/json"})
    assert page.status_code == 200


@pytest.mark.parametrize(("record", "field", "written"), REQUIRED, ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_each_required_field_is_required(client, record, field, written) -> None:
    assert f"`{written}`" in DOC
    graph = rdflib.Graph().parse(EXAMPLE)
    assert (record, field, None) in graph
    graph.remove((record, field, None))
    report = _validate(client, graph.serialize(format="turtle").encode())
    assert report["conforms"] is False and report["accepted"] is False
    assert any(r["severity"] == "Violation" and r["focusNode"] == str(record) for r in report["results"]), report
