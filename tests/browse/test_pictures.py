"""The pictures' data endpoints and pages through the Flask test client, on the shipped data:
an alliance's timeline, the network of states on a day (whole and around one state), the chart
of alliances per decade by type, the vendor files, and bad parameters."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import ROOT

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}
NATO_FOUNDERS = {"bel", "can", "dnk", "fra", "gbr", "isl", "ita", "lux", "nld", "nor", "prt", "usa"}
GCC = {"are", "bhr", "kwt", "omn", "qat", "sau"}


def test_nato_timeline_has_one_item_per_membership(client) -> None:
    data = client.get("/alliances/nato/timeline", headers=JSON).get_json()
    assert data["alliance"]["label"] == "North Atlantic Treaty Organization"
    assert data["alliance"]["foundingDate"] == "1949-04-04"
    assert data["total"] == len(data["items"]) == 32
    first = data["items"][0]
    assert first["start"] == "1949-08-24" and first["end"] is None
    assert {i["state"]["id"] for i in data["items"] if i["start"] == "1949-08-24"} == NATO_FOUNDERS
    assert {i["state"]["id"] for i in data["items"][-2:]} == {"fin", "swe"}
    assert first["role"]["label"] == "founding member"


def test_timeline_keeps_ends_and_precision(client) -> None:
    csto = client.get("/alliances/csto/timeline").get_json()
    uzb = next(i for i in csto["items"] if i["state"]["id"] == "uzb")
    assert (uzb["start"], uzb["end"]) == ("2006-08-16", "2012-12-18")  # then suspended
    quad = client.get("/alliances/quad/timeline").get_json()
    first = [i for i in quad["items"] if i["start"] == "2007-01-01"]
    assert len(first) == 4 and all(i["startPrecision"] == "year" and i["endPrecision"] == "year" for i in first)


def test_network_on_1990_01_01(client) -> None:
    data = client.get("/network?date=1990-01-01", headers=JSON).get_json()
    ids = {n["id"] for n in data["nodes"]}
    # NATO's sixteen, the GCC's six and Japan (the United States is in NATO already)
    assert len(ids) == 23 and ids >= GCC and "jpn" in ids and "fin" not in ids
    # 16*15/2 NATO pairs + 6*5/2 GCC pairs + United States-Japan
    assert len(data["edges"]) == 120 + 15 + 1
    usa_jpn = next(e for e in data["edges"] if (e["source"], e["target"]) == ("jpn", "usa"))
    assert usa_jpn["alliances"] == ["us-japan-alliance"]
    assert {a["id"]: a["members"] for a in data["alliances"]} == {"gcc": 6, "nato": 16, "us-japan-alliance": 2}
    assert data["date"] == "1990-01-01"
    assert data["range"]["first"] == "1949-08-24"
    assert client.get("/network.json?date=1990-01-01").get_json()["edges"] == data["edges"]


def test_network_edges_carry_every_shared_alliance(client) -> None:
    data = client.get("/network.json?date=2018-01-01&obligation=any").get_json()
    usa_jpn = next(e for e in data["edges"] if (e["source"], e["target"]) == ("jpn", "usa"))
    assert usa_jpn["alliances"] == ["admm-plus", "quad", "us-japan-alliance"]
    named = {a["id"]: a["label"] for a in data["alliances"]}
    assert named["quad"] == "Quadrilateral Security Dialogue"


def test_network_ends_with_the_membership(client) -> None:
    """Azerbaijan left the Collective Security Treaty when its first term expired: linked to Russia on
    1999-04-20, not the next day."""

    def linked(day: str) -> bool:
        edges = client.get(f"/network.json?date={day}").get_json()["edges"]
        return any({e["source"], e["target"]} == {"aze", "rus"} for e in edges)

    assert linked("1999-04-20") and not linked("1999-04-21")


def test_network_defaults_to_today(client) -> None:
    data = client.get("/network.json").get_json()
    assert data["date"] == dt.date.today().isoformat()
    assert data["range"]["last"] >= data["date"]


def test_state_network_of_japan_in_1990(client) -> None:
    data = client.get("/states/jpn/network?date=1990-01-01", headers=JSON).get_json()
    assert data["state"]["id"] == "jpn"
    assert [n["id"] for n in data["nodes"]] == ["jpn", "usa"]
    assert [(e["source"], e["target"]) for e in data["edges"]] == [("jpn", "usa")]


def test_state_network_links_the_state_to_its_allies_only(client) -> None:
    data = client.get("/states/usa/network?date=1990-01-01", headers=JSON).get_json()
    assert len(data["nodes"]) == 17  # NATO's sixteen and Japan
    assert len(data["edges"]) == 16  # the United States to each of its allies, not the allies' own ties
    assert all("usa" in (e["source"], e["target"]) for e in data["edges"])
    assert not GCC & {n["id"] for n in data["nodes"]}


def test_networks_are_of_defence_pacts_unless_another_obligation_is_asked(client) -> None:
    """The Quad and ADMM-Plus carry no defence obligation: not drawn by default; ``any`` draws them."""
    defence = client.get("/network.json?date=2018-01-01").get_json()
    assert defence["obligation"] == "defence"
    assert {"csto", "gcc", "nato", "us-japan-alliance"} <= {a["id"] for a in defence["alliances"]}
    assert not {"quad", "admm-plus"} & {a["id"] for a in defence["alliances"]}
    usa_jpn = next(e for e in defence["edges"] if (e["source"], e["target"]) == ("jpn", "usa"))
    assert usa_jpn["alliances"] == ["us-japan-alliance"]
    consultation = client.get("/network.json?date=2018-01-01&obligation=consultation").get_json()
    assert {"csto", "nato", "us-japan-alliance"} <= {a["id"] for a in consultation["alliances"]}
    assert "gcc" not in {a["id"] for a in consultation["alliances"]}
    every = client.get("/network.json?date=2018-01-01&obligation=any").get_json()
    assert {"quad", "admm-plus"} <= {a["id"] for a in every["alliances"]}
    assert client.get("/network.json?date=2018-01-01&obligation=offence").get_json()["edges"] == []
    ind = client.get("/states/ind/network?date=2018-01-01", headers=JSON).get_json()
    assert [n["id"] for n in ind["nodes"]] == ["ind"] and ind["edges"] == []
    ind = client.get("/states/ind/network?date=2018-01-01&obligation=any", headers=JSON).get_json()
    assert {"usa", "jpn", "aus"} <= {n["id"] for n in ind["nodes"]}
    page = client.get("/network?date=2018-01-01&obligation=consultation", headers=HTML).get_data(as_text=True)
    assert '<option value="consultation" selected>' in page
    assert "obligation=consultation" in page.split('id="network-json"')[1].split(">")[0]


def test_state_network_page_lists_the_links(client) -> None:
    page = client.get("/states/jpn/network?date=1990-01-01", headers=HTML).get_data(as_text=True)
    assert page.count("<tr>") == 2  # the header and the one link
    assert "United States\u2013Japan alliance" in page


def test_network_page_has_the_slider_and_a_table_fallback(client) -> None:
    page = client.get("/network?date=1990-01-01", headers=HTML).get_data(as_text=True)
    assert 'id="network-slider"' in page and 'value="1990-01-01"' in page
    table = page.split('id="network-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 136


def test_charts_data_by_type_and_decade(client) -> None:
    data = client.get("/charts/data").get_json()
    by_decade = {d["decade"]: d["counts"] for d in data["decades"]}
    assert sorted(by_decade) == [1940, 1950, 1980, 1990, 2000, 2010]
    assert by_decade[1940] == {"MultilateralAlliance": 1, "RegionalPartnership": 1}  # NATO, 1949
    assert by_decade[1950] == {"BilateralAlliance": 1}  # the United States-Japan alliance, 1952
    assert by_decade[1990] == {"MultilateralAlliance": 1, "RegionalPartnership": 1}  # the Collective Security Treaty
    # the CSTO (2002), the AU Peace and Security Council (2004), the US-India partnership (2005), the Quad (2007)
    assert by_decade[2000]["MultilateralAlliance"] == 3 and by_decade[2000]["StrategicPartnership"] == 1
    assert data["undated"] == 1  # the African Standby Force has no founding date
    assert client.get("/charts", headers=JSON).get_json() == data


def test_charts_page_draws_one_bar_per_decade_and_type(client) -> None:
    page = client.get("/charts", headers=HTML).get_data(as_text=True)
    data = client.get("/charts/data").get_json()
    cells = sum(len(d["counts"]) for d in data["decades"])
    assert cells == 17
    assert len(re.findall(r'<rect class="bar"', page)) == cells
    assert 'data-decade="2000" data-type="MultilateralAlliance" data-count="3"' in page


def test_alliance_and_state_pages_carry_their_pictures(client) -> None:
    nato = client.get("/id/alliance/nato", headers=HTML).get_data(as_text=True)
    assert 'data-src="/alliances/nato/timeline"' in nato
    usa = client.get("/id/state/usa", headers=HTML).get_data(as_text=True)
    assert 'data-src="/states/usa/network?format=json"' in usa
    assert "/id/alliance/nato" not in usa.split('id="network"')[0].split("Its network")[1]


def test_vendor_files_are_served_by_the_app(client) -> None:
    resp = client.get("/assets/vendor/cytoscape/cytoscape.min.js")
    assert resp.status_code == 200 and b"cytoscape" in resp.data[:2000]
    resp = client.get("/assets/vendor/vis-timeline/vis-timeline-graph2d.min.js")
    assert resp.status_code == 200
    assert client.get("/assets/vendor/left-pad/index.js").status_code == 404
    assert client.get("/assets/vendor/cytoscape/../package.json").status_code == 404
    assert client.get("/static/pictures/network.js").status_code == 200


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/network?date=1990-13-01", "date"),
        ("/network.json?date=yesterday", "date"),
        ("/network.json?date=1990-1-1", "date"),
        ("/states/usa/network?date=1990-02-30", "date"),
        ("/network?date=1990-01-01&format=xml", "format"),
        ("/network.json?obligation=defense", "obligation"),
        ("/states/usa/network?obligation=Defence", "obligation"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, url: str, parameter: str) -> None:
    resp = client.get(url, headers=JSON)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["parameter"] == parameter and parameter in body["message"]


def test_date_text_never_reaches_the_query(client) -> None:
    resp = client.get('/network.json?date=1990-01-01"^^<x> } ; DROP ALL #', headers=JSON)
    assert resp.status_code == 400 and resp.get_json()["parameter"] == "date"


@pytest.mark.parametrize(
    "url",
    ["/alliances/atlantis/timeline", "/states/atlantis/network", "/alliances/usa/timeline", "/states/nato/network"],
)
def test_unknown_resources_are_404(client, url: str) -> None:
    assert client.get(url, headers=JSON).status_code == 404


def test_documented_network_output_is_what_the_service_answers(client) -> None:
    from docs.test_readme import _output_after

    http_api = (ROOT / "docs" / "http-api.md").read_text(encoding="utf-8")

    shown = _output_after("/network.json?date=1990-01-01' |", http_api).strip()
    data = client.get("/network.json?date=1990-01-01").get_json()
    assert shown == f"{len(data['nodes'])} states, {len(data['edges'])} links"
    paged = _output_after("/network.json?date=1990-01-01&limit=100'", http_api).strip()
    assert paged == str(client.get("/network.json?date=1990-01-01&limit=100").get_json()["links"])


def test_a_write_shows_in_the_network_and_its_range(site) -> None:
    """A contribution's memberships link its states from the next request on; the slider's range
    (kept per version of the store) reaches the latest date written."""
    from conftest import TEST_DATA

    turtle = (TEST_DATA / "valid" / "bilateral-alliance-two-members.ttl").read_text(encoding="utf-8")
    turtle = turtle.replace(
        "membership:test-duo-xtb a org:Membership ; org:member state:xtb ; org:organization alliance:test-duo ;\n"
        '    org:role ald:FoundingMember ; ald:startDate "2000-01-01"^^xsd:date ;',
        "membership:test-duo-xtb a org:Membership ; org:member state:xtb ; org:organization alliance:test-duo ;\n"
        '    org:role ald:FoundingMember ; ald:startDate "2000-01-01"^^xsd:date ; ald:endDate "2090-01-01"^^xsd:date ;',
    )
    assert "2090-01-01" in turtle
    before = site.client.get("/network.json?date=2001-01-01").get_json()
    assert "xta" not in {n["id"] for n in before["nodes"]} and before["range"]["last"] < "2090-01-01"
    resp = site.client.post("/contributions", data=turtle.encode(), headers=site.auth())
    assert resp.status_code == 201, resp.get_json()
    after = site.client.get("/network.json?date=2001-01-01&obligation=any").get_json()
    assert {"source": "xta", "target": "xtb", "alliances": ["test-duo"]} in after["edges"]
    assert after["range"]["last"] == "2090-01-01"
    duo = site.client.get("/alliances/test-duo/timeline").get_json()
    assert [(i["state"]["id"], i["end"]) for i in duo["items"]] == [("xta", None), ("xtb", "2090-01-01")]


def test_network_page_table_stops_at_its_limit(client, monkeypatch) -> None:
    from allianceld.web.views import pictures

    monkeypatch.setattr(pictures, "TABLE_LIMIT", 10)
    page = client.get("/network?date=1990-01-01", headers=HTML).get_data(as_text=True)
    table = page.split('id="network-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 10
    assert "The first 10 of 136 links" in page


def test_chart_axes_stay_readable_with_hundreds_of_alliances() -> None:
    """21 decades and 130 alliances in the busiest: a handful of counts on the axis, decades
    labelled far enough apart not to run into each other (before: 131 counts, 21 decades)."""
    from itertools import pairwise

    from allianceld.web.views.pictures import LABEL_ROOM_X, LABEL_ROOM_Y, chart_bars

    types = [{"id": f"T{i}", "label": f"type {i}"} for i in range(6)]
    decades = [
        {"decade": 1810 + 10 * i, "counts": {t["id"]: 5 + (i * 7 + j) % 130 for j, t in enumerate(types)}}
        for i in range(21)
    ]
    decades[10]["counts"]["T0"] = 130
    chart = chart_bars({"types": types, "decades": decades, "undated": 0})
    ticks = chart["ticks"]
    assert 3 <= len(ticks) <= 13 and ticks[0]["value"] == 0 and ticks[-1]["value"] >= 100
    assert all(a["y"] - b["y"] >= LABEL_ROOM_Y for a, b in pairwise(ticks))
    xs = [g["x"] for g in chart["groups"]]
    assert 5 <= len(xs) < 21 and all(b - a >= LABEL_ROOM_X for a, b in pairwise(xs))
    assert len(chart["bars"]) == 21 * 6  # every bar is still drawn


def test_networks_name_each_state_as_it_was_named_that_day(client) -> None:
    """Turkey, a NATO member since 1952, is "Turkey" in the network of 2000 and "Türkiye" (its
    label) in that of 2023, in the full network and around a state alike."""
    for day, name in (("2000-01-01", "Turkey"), ("2023-01-01", "Türkiye")):
        full = client.get(f"/network.json?date={day}", headers=JSON).get_json()
        around = client.get(f"/states/usa/network?date={day}", headers=JSON).get_json()
        for data in (full, around):
            (turkey,) = [n for n in data["nodes"] if n["id"] == "tur"]
            assert turkey["label"] == name, (day, turkey)


def test_a_timeline_names_each_member_as_it_was_named_when_it_joined(client) -> None:
    data = client.get("/alliances/nato/timeline", headers=JSON).get_json()
    turkey = [i["state"]["label"] for i in data["items"] if i["state"]["id"] == "tur"]
    assert turkey and set(turkey) == {"Turkey"}  # joined in 1952; "Türkiye" only from 2022


def test_a_network_of_one_alliance_or_one_region(client) -> None:
    """?alliance= keeps one alliance's members, ?region= the states of a region (their
    ald:region); the page keeps the filter, names it, and its drawing reads the same filter."""
    day = "2000-01-01"
    nato = client.get(f"/network.json?date={day}&alliance=nato", headers=JSON).get_json()
    assert {a["id"] for a in nato["alliances"]} == {"nato"} and len(nato["nodes"]) == 19
    assert nato["alliance"]["id"] == "nato" and nato["region"] is None
    everything = client.get(f"/network.json?date={day}", headers=JSON).get_json()
    europe = client.get(f"/network.json?date={day}&region=europe", headers=JSON).get_json()
    regions = {
        n["id"]: client.get(f"/id/state/{n['id']}?format=json").get_json().get("region") for n in europe["nodes"]
    }
    assert europe["nodes"] and len(europe["nodes"]) < len(everything["nodes"])
    assert "usa" not in regions and "can" not in regions
    page = client.get(f"/network?date={day}&region=europe&alliance=nato", headers=HTML).get_data(as_text=True)
    assert 'id="network-filter"' in page and 'name="region" value="europe"' in page
    assert 'data-src="/network.json?alliance=nato&amp;region=europe"' in page
    for bad in ("alliance=atlantis", "region=atlantis"):
        assert client.get(f"/network.json?date={day}&{bad}").status_code == 400


def test_the_alliances_listing_filters_by_obligation(client) -> None:
    """``/alliances?obligation=`` keeps the alliances one of whose treaties has that kind of
    provision (the networks' filter): NATO's treaty has a defence article, the Quad has no treaty."""
    everything = {a["id"] for a in client.get("/alliances?limit=100", headers=JSON).get_json()["items"]}
    defence = {a["id"] for a in client.get("/alliances?obligation=defence&limit=100", headers=JSON).get_json()["items"]}
    assert "nato" in defence and "quad" not in defence and defence < everything
    assert {a["id"] for a in client.get("/alliances?obligation=any&limit=100", headers=JSON).get_json()["items"]} == (
        everything
    )
    page = client.get("/alliances?obligation=defence", headers=HTML).get_data(as_text=True)
    assert "<option selected>defence</option>" in page
    bad = client.get("/alliances?obligation=friendship", headers=JSON)
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "obligation"
