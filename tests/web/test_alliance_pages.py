"""An alliance's page and its JSON twin show its events, exercises, sourced claims of benefits and
challenges, and its members' indicators; its timeline JSON carries its events and exercises."""

from __future__ import annotations

import re

from allianceld.browse import alliance_record
from allianceld.browse.alliance_record import PAGE_SIZE

WALES = "https://w3id.org/allianceld/id/event/nato-wales-summit-2014"
WALES_SOURCE = "https://www.nato.int/cps/en/natohq/news_112461.htm"
BURDEN = "https://w3id.org/allianceld/id/claim/nato-burden-sharing-2014"


def _page(client, path: str) -> str:
    resp = client.get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_data(as_text=True)


def _json(client, path: str) -> dict:
    resp = client.get(path, headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()


def _section(html: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert found, f"no table {table_id}"
    return found.group(1)


def test_nato_page_lists_the_wales_summit_with_its_source(client) -> None:
    events = _section(_page(client, "/id/alliance/nato"), "event-list")
    row = next(r for r in events.split("<tr>") if "/id/event/nato-wales-summit-2014" in r)
    assert "NATO Summit in Wales" in row and "summit" in row
    assert '<time datetime="2014-09-04">' in row and '<time datetime="2014-09-05">' in row
    assert f'href="{WALES_SOURCE}"' in row
    assert "/id/commitment/nato-defence-investment-pledge-2014" in row  # what it changed: the pledge


def test_nato_events_are_by_date_and_paged(client) -> None:
    data = _json(client, "/id/alliance/nato")
    events = data["events"]
    starts = [e["start"] for e in events["items"]]
    assert starts == sorted(starts) and starts[0] == "1949-04-04"
    assert len(events["items"]) == min(events["total"], PAGE_SIZE)
    wales = next(e for e in events["items"] if e["iri"] == WALES)
    assert wales["type"]["label"] == "summit" and wales["end"] == "2014-09-05"
    assert [s["iri"] for s in wales["sources"]] == sorted([WALES_SOURCE, "https://gov.uk/natowales"])
    if events["total"] > PAGE_SIZE:
        second = _json(client, f"/id/alliance/nato?events_offset={PAGE_SIZE}")["events"]
        assert second["offset"] == PAGE_SIZE and second["items"][0]["start"] >= starts[-1]
    france = next(e for e in events["items"] if e["iri"].endswith("nato-france-leaves-integrated-command"))
    assert france["start"] == "1966-07-01" and france["startPrecision"] is None  # known to the day
    assert [s["iri"].rsplit("/", 1)[-1] for s in france["states"]] == ["fra"]


def test_nato_page_shows_the_burden_sharing_claim_and_the_indicator(client) -> None:
    html = _page(client, "/id/alliance/nato")
    claims = _section(html, "claim-list")
    row = next(r for r in claims.split("<tr") if "/id/claim/nato-burden-sharing-2014" in r)
    assert "challenge:" in row and "2% of GDP" in row and f'href="{WALES_SOURCE}"' in row
    data = _json(client, "/id/alliance/nato")
    claim = next(c for c in data["claims"]["items"] if c["iri"] == BURDEN)
    assert claim["kind"] == "challenge" and claim["concept"]["iri"].endswith("#CapabilityDisparity")
    assert WALES in [e["iri"] for e in claim["evidence"]] and claim["sources"][0]["iri"] == WALES_SOURCE
    ind = data["indicators"]
    assert ind["year"] >= 2024 and 0 < ind["meetingGuideline"] <= ind["observed"] <= 32
    chart = _json(client, f"/charts/defence-expenditure/data?year={ind['year']}")
    meets = {o["state"] for o in chart["observations"] if o["member"] and o["meetsGuideline"]}
    assert set(ind["meeting"]) == meets
    summary = re.search(r'<p id="indicator-summary">(.*?)</p>', html, re.S).group(1)
    assert f"<strong>{ind['meetingGuideline']}</strong>" in summary and 'href="/charts/defence-expenditure' in summary


def test_quad_page_shows_both_disagreeing_claims(client) -> None:
    claims = _section(_page(client, "/id/alliance/quad"), "claim-list")
    assert "/id/claim/quad-lapse-lowy" in claims and "/id/claim/quad-lapse-rudd" in claims
    assert "lowyinstitute.org/the-interpreter/who-really-killed-quad-10" in claims
    assert "afr.com/policy/foreign-affairs/the-history-behind-who-killed-the-quad" in claims
    exercises = _section(_page(client, "/id/alliance/quad"), "exercise-list")
    assert "Malabar 2020" in exercises and "/id/state/aus" in exercises
    assert _json(client, "/id/alliance/quad")["indicators"]["observed"] == 1  # the United States alone
    assert _json(client, "/id/alliance/gcc")["indicators"] is None  # no member has figures
    assert 'id="indicator-summary"' not in _page(client, "/id/alliance/gcc")


def test_csto_timeline_json_carries_armenias_freeze(client) -> None:
    data = _json(client, "/alliances/csto/timeline")
    assert data["items"] and data["total"] == len(data["items"])  # the memberships, as before
    freeze = next(e for e in data["events"] if e["iri"].endswith("/csto-armenia-freeze-2024"))
    assert freeze["start"] == "2024-02-22" and freeze["type"]["label"] == "freeze"
    assert [s["iri"].rsplit("/", 1)[-1] for s in freeze["states"]] == ["arm"]
    assert any(x["iri"].endswith("/csto-combat-brotherhood-2021") for x in data["exercises"])


def test_an_alliance_without_events_or_claims_has_no_such_sections(client) -> None:
    data = _json(client, "/id/alliance/au-psc")
    assert data["events"]["total"] == data["claims"]["total"] == 0 and data["indicators"] is None
    html = _page(client, "/id/alliance/au-psc")
    assert 'id="event-list"' not in html and 'id="claim-list"' not in html and 'id="indicator-summary"' not in html


def test_a_bad_offset_is_refused(client) -> None:
    bad = client.get("/id/alliance/nato?events_offset=-1", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "events_offset" in bad.get_data(as_text=True)


def test_long_lists_are_paged_with_links(client, monkeypatch) -> None:
    monkeypatch.setattr(alliance_record, "PAGE_SIZE", 10)
    first = _json(client, "/id/alliance/nato")["events"]
    assert first["total"] > 20 and len(first["items"]) == 10 and first["previous"] is None
    assert first["next"] == "/id/alliance/nato?events_offset=10#events"
    second = _json(client, "/id/alliance/nato?events_offset=10")["events"]
    assert second["previous"] == "/id/alliance/nato?events_offset=0#events"
    assert second["items"][0]["start"] >= first["items"][-1]["start"]
    assert not {e["iri"] for e in first["items"]} & {e["iri"] for e in second["items"]}
    assert 'rel="next"' in _page(client, "/id/alliance/nato").split('<h2 id="events">')[1].split("<h2")[0]


def test_memberships_are_paged_and_read_once(client, monkeypatch) -> None:
    monkeypatch.setattr(alliance_record, "PAGE_SIZE", 10)
    first = _json(client, "/id/alliance/nato")
    assert len(first["memberships"]) == 10 and first["membershipsPage"]["total"] >= 30
    assert first["membershipsPage"]["next"] == "/id/alliance/nato?memberships_offset=10#memberships"
    assert first["membershipsPage"]["previous"] is None
    second = _json(client, "/id/alliance/nato?memberships_offset=10")
    assert second["membershipsPage"]["previous"] == "/id/alliance/nato?memberships_offset=0#memberships"
    assert not {m["membership"]["iri"] for m in first["memberships"]} & {
        m["membership"]["iri"] for m in second["memberships"]
    }
    html = _page(client, "/id/alliance/nato")
    assert _section(html, "memberships").count("<tr>") == 11  # the heading and ten rows
    assert 'href="/id/alliance/nato?memberships_offset=10#memberships" rel="next"' in html
    # the indicators still count every member, not the page of them
    assert first["indicators"] == _json(client, "/id/alliance/nato?memberships_offset=20")["indicators"]


def test_a_state_with_few_memberships_shows_them_all_without_pages(client) -> None:
    usa = _json(client, "/id/state/usa")
    assert usa["membershipsPage"]["total"] == len(usa["memberships"]) and usa["membershipsPage"]["next"] is None
    assert '<p class="paging">' not in _page(client, "/id/state/usa").split("<h2>Memberships</h2>")[1].split("<h2")[0]
