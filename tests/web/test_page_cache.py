"""Pages kept until the next write (web.page_cache): built once per store version, never stale,
never kept for or from a request with credentials; requests arriving while a page is built wait
for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
import pytest

from allianceld.browse import alliance_record
from allianceld.web.page_cache import PageCache, _Page
from conftest import Site

ID = "https://w3id.org/allianceld/id/"
HTML = {"Accept": "text/html"}
NATO = "/id/alliance/nato"
PARTNER = f"""@prefix org: <http://www.w3.org/ns/org#> .
@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}membership/nato-jpn-page-cache> a org:Membership ; org:member <{ID}state/jpn> ;
    org:organization <{ID}alliance/nato> ; org:role ald:Partner ; ald:startDate "2014-05-06"^^xsd:date ;
    prov:wasDerivedFrom <https://www.nato.int/cps/en/natohq/topics_52044.htm> .
"""


def counting_builds(monkeypatch: pytest.MonkeyPatch, during: Callable[[], Any] | None = None) -> list[str]:
    """The alliance pages built from now on (``during``: run while each is built)."""
    built: list[str] = []
    real = alliance_record.record

    def record(kb: Any, alliance: str, *args: Any, **kwargs: Any) -> Any:
        built.append(alliance)
        if during is not None:
            during()
        return real(kb, alliance, *args, **kwargs)

    monkeypatch.setattr(alliance_record, "record", record)
    return built


def test_a_page_is_built_once_until_the_next_write(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    built = counting_builds(monkeypatch)
    first = site.client.get(NATO, headers=HTML)
    second = site.client.get(NATO, headers=HTML)
    assert first.status_code == second.status_code == 200
    assert len(built) == 1
    assert second.data == first.data and second.content_type == first.content_type
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]  # each answer its own
    assert "Japan" not in first.get_data(as_text=True)
    written = site.client.post("/contributions", data=PARTNER.encode(), headers=site.auth())
    assert written.status_code == 201, written.get_json()
    after = site.client.get(NATO, headers=HTML)
    assert len(built) == 2 and "Japan" in after.get_data(as_text=True)


def test_a_request_with_credentials_is_neither_answered_nor_kept(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    built = counting_builds(monkeypatch)
    signed = {**HTML, "Authorization": f"Bearer {site.contributor}"}
    site.client.get(NATO, headers=signed)
    site.client.get(NATO, headers=signed)
    assert len(built) == 2
    site.client.get(NATO, headers=HTML)  # nothing was kept from the signed ones
    assert len(built) == 3
    site.client.get(NATO, headers=signed)  # nor is the anonymous one given to a signed request
    assert len(built) == 4


def test_a_write_made_while_a_page_is_built_makes_the_next_request_build_it_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = "https://w3id.org/allianceld/graph/data/page-cache-test"

    def write() -> None:
        n = len(built)
        triple = ox.Triple(ox.NamedNode(f"{ID}thing/{n}"), ox.NamedNode(f"{ID}p"), ox.Literal(str(n)))
        site.kb.replace_graphs({graph: [triple]})

    built = counting_builds(monkeypatch, during=write)
    site.client.get(NATO, headers=HTML)
    site.client.get(NATO, headers=HTML)
    assert len(built) == 2  # the page kept was of the version before the write


def test_requests_for_a_page_being_built_wait_for_it(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    built = counting_builds(monkeypatch, during=lambda: release.wait(30))
    cache: PageCache = site.app.extensions["allianceld.page_cache"]
    answers: dict[str, Any] = {}

    def ask(name: str) -> None:
        answers[name] = site.client.get(NATO, headers=HTML)

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    deadline = time.monotonic() + 30
    while not built:  # the first request is building the page
        assert time.monotonic() < deadline
        time.sleep(0.001)
    hits = cache.hits
    second = threading.Thread(target=ask, args=("second",))
    second.start()
    while cache.hits == hits:  # the second found the page under way
        assert time.monotonic() < deadline
        time.sleep(0.001)
    assert "second" not in answers  # it waits
    release.set()
    first.join(30)
    second.join(30)
    assert len(built) == 1
    assert answers["first"].status_code == answers["second"].status_code == 200
    assert answers["second"].data == answers["first"].data


def test_the_cache_keeps_one_version_within_its_memory() -> None:
    cache = PageCache(max_bytes=8 * 1000)

    def keep(version: int, key: str, size: int) -> None:
        _, flight, builds = cache.begin(version, (key,))
        assert builds and flight is not None
        cache.finish(version, (key,), flight, _Page(200, [], b"x" * size), keep=True)

    keep(1, "a", 500)
    keep(1, "b", 500)
    assert cache.begin(1, ("a",))[0] is not None
    assert cache.begin(2, ("a",))[0] is None  # a newer version: nothing kept for it
    keep(2, "d", 500)
    assert cache.begin(1, ("a",))[0] is None  # the newer version dropped the older pages
    keep(1, "c", 500)  # an answer of an older version than the newest kept is not kept
    assert cache.begin(1, ("c",))[0] is None and cache.begin(2, ("c",))[0] is None
    for n in range(20):  # past the memory, the least recently used go first
        keep(2, f"e{n}", 900)
    assert cache.begin(2, ("e19",))[0] is not None and cache.begin(2, ("e0",))[0] is None
    keep(2, "huge", 5000)  # larger than an eighth of the memory: never kept
    assert cache.begin(2, ("huge",))[0] is None


def test_a_write_by_another_service_is_seen_at_once(request: pytest.FixtureRequest, settings: Any) -> None:
    """Two services over one `oxigraph serve`: a page service A kept is built again after service B wrote."""
    from allianceld.store import KnowledgeBase
    from allianceld.store.backends import SparqlBackend
    from allianceld.web import create_app
    from conftest import empty_remote

    here = empty_remote(request, "remote")
    other = KnowledgeBase(backend=SparqlBackend(here.backend.query_url, here.backend.update_url))
    graph = "https://w3id.org/allianceld/graph/data/page-cache-remote"
    state = ox.NamedNode(f"{ID}state/xpc")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    other.replace_graphs({graph: [ox.Triple(state, label, ox.Literal("Before", language="en"))]})
    client = create_app({"SETTINGS": settings, "KB": here, "TESTING": True}).test_client()
    assert "Before" in client.get("/id/state/xpc", headers=HTML).get_data(as_text=True)
    other.replace_graphs({graph: [ox.Triple(state, label, ox.Literal("After", language="en"))]})
    page = client.get("/id/state/xpc", headers=HTML).get_data(as_text=True)
    assert "After" in page and "Before" not in page
