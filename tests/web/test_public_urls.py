"""No Host-header trust: the absolute URLs the service writes (reconciliation manifest and
previews, service description, VoID, dumps, the base of relative IRIs in an update) come from
ALLIANCELD_BASE_URL, or from the configured host and port, never from the request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from allianceld.config import Settings
from allianceld.web import create_app
from conftest import Site

EVIL = "evil.example"
SPOOF = {"Host": EVIL, "X-Forwarded-Host": EVIL, "Forwarded": f"host={EVIL}", "X-Forwarded-Proto": "https"}
ANSWERS = [
    ("/reconcile", {}),
    ("/reconcile?version=1.0-draft", {}),
    ("/reconcile/preview?id=alliance/nato", {}),
    ("/sparql", {"Accept": "text/turtle"}),
    ("/.well-known/void", {"Accept": "text/turtle"}),
    ("/dump?format=trig&inference=false", {}),
]


@pytest.mark.parametrize(("path", "headers"), ANSWERS)
def test_a_spoofed_host_never_shows(client, path: str, headers: dict[str, str]) -> None:
    resp = client.get(path, headers={**SPOOF, **headers})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_data(as_text=True)
    assert EVIL not in body
    assert client.application.config["SETTINGS"].public_url in body  # the configured default


@pytest.mark.parametrize(("path", "headers"), ANSWERS)
def test_the_configured_base_url_is_used(settings: Settings, shared_kb, path: str, headers: dict[str, str]) -> None:
    app = create_app({"SETTINGS": replace(settings, base_url="https://kb.example.org/ald"), "KB": shared_kb})
    body = app.test_client().get(path, headers={**SPOOF, **headers}).get_data(as_text=True)
    assert "https://kb.example.org/ald/" in body and EVIL not in body


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="ALLIANCELD_BASE_URL"):
        _ = Settings(store_path=None, base_url="javascript:alert(1)").public_url


def test_relative_iris_in_an_update_do_not_resolve_against_the_host_header(site: Site) -> None:
    update = (
        "INSERT DATA { GRAPH <https://w3id.org/allianceld/graph/data/relative> { "
        '<region/relative> <http://www.w3.org/2000/01/rdf-schema#label> "relative"@en } }'
    )
    resp = site.client.post(
        "/sparql",
        data=update,
        headers=site.auth(site.admin, "application/sparql-update", **SPOOF),
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    stored = site.kb.select('SELECT ?s WHERE { GRAPH ?g { ?s ?p "relative"@en } }')
    assert [str(r["s"]) for r in stored] == [site.app.config["SETTINGS"].public_url + "region/relative"]
