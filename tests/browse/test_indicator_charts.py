"""The defence expenditure charts and their JSON through the Flask test client, on the shipped data:
all members in one year (sorted bars, the 2% line), one member over the years, and bad parameters."""

from __future__ import annotations

import re

import pytest

from allianceld.web.views.indicators import series_points, year_bars
from conftest import ROOT

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}
DATA = "/charts/defence-expenditure/data"
PAGE = "/charts/defence-expenditure"
REPORT_2024 = "https://www.nato.int/nato_static_fl2014/assets/pdf/2024/6/pdf/240617-def-exp-2024-en.pdf"


def _slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def test_the_series_of_every_member_and_year(client) -> None:
    data = client.get(DATA).get_json()
    assert data["label"] == "NATO defence expenditure as a share of GDP"
    assert data["guideline"] == 2 and data["unit"] == "percent of GDP"
    assert data["years"] == list(range(2014, 2025))
    # 31 Allies in 2014 and 2024, 30 in 2023 (before Sweden); from 2015 to 2022 the members of the year:
    # 27 in 2015-2016, 28 with Montenegro in 2017-2019, 29 with North Macedonia in 2020-2022
    assert len(data["observations"]) == 92 + 2 * 27 + 3 * 28 + 3 * 29 == 317
    assert client.get(PAGE, headers=JSON).get_json() == data


def test_one_year_highest_first_with_its_report(client) -> None:
    data = client.get(DATA + "?year=2024").get_json()
    rows = data["observations"]
    assert len(rows) == 31 and {r["year"] for r in rows} == {2024}
    assert [r["share"] for r in rows] == sorted((r["share"] for r in rows), reverse=True)
    first = rows[0]
    assert (_slug(first["state"]), first["share"], first["estimate"]) == ("pol", 4.12, True)
    assert first["meetsGuideline"] is True
    assert first["stateLabel"] == "Poland" and first["url"] == "/id/state/pol"
    assert first["report"] == REPORT_2024
    assert first["reportTitle"] == "Defence Expenditure of NATO Countries (2014-2024)"
    assert sum(r["meetsGuideline"] for r in rows) == 23
    assert data["years"] == list(range(2014, 2025))  # the years with figures, whatever is chosen


def test_one_member_over_the_years(client) -> None:
    rows = client.get(DATA + "?state=deu").get_json()["observations"]
    assert [(r["year"], r["share"], r["estimate"]) for r in rows] == [
        (2014, 1.19, False),
        (2015, 1.19, False),
        (2016, 1.20, False),
        (2017, 1.23, False),
        (2018, 1.25, False),
        (2019, 1.35, False),
        (2020, 1.51, False),
        (2021, 1.45, False),
        (2022, 1.51, False),
        (2023, 1.66, True),
        (2024, 2.12, True),
    ]
    # by IRI too; Finland's 2014 figure is there, but Finland joined in 2023
    by_iri = client.get(DATA + "?state=https://w3id.org/allianceld/id/state/fin").get_json()["observations"]
    assert [(r["year"], r["member"]) for r in by_iri] == [(2014, False), (2023, True), (2024, True)]


def test_a_state_without_figures_has_an_empty_series(client) -> None:
    data = client.get(DATA + "?state=isl").get_json()  # Iceland has no armed forces
    assert data["observations"] == []
    page = client.get(PAGE + "?state=isl", headers=HTML).get_data(as_text=True)
    assert 'id="series-empty"' in page and "Iceland" in page


def test_the_year_page_draws_sorted_bars_and_the_guideline(client) -> None:
    page = client.get(PAGE + "?year=2023", headers=HTML).get_data(as_text=True)
    bars = re.findall(r'<rect class="bar"[^>]*data-state="(\w+)" data-share="([\d.]+)" data-kind="([\w ]+)"', page)
    assert len(bars) == 30
    shares = [float(s) for _, s, _ in bars]
    assert shares == sorted(shares, reverse=True)
    assert bars[0][0] == "pol" and bars[-1] == ("lux", "1.01", "below")
    assert sum(kind == "meets" for _, _, kind in bars) == 11
    assert page.count('class="guideline"') == 1
    assert "Defence Expenditure of NATO Countries (2014-2023)" in page  # each figure's report
    assert "<script" not in page.split("<main>")[1]  # drawn here, no script (the CSP allows none inline)


def test_the_page_defaults_to_the_latest_year_and_marks_states_not_yet_members(client) -> None:
    page = client.get(PAGE, headers=HTML).get_data(as_text=True)
    assert "All members in 2024" in page and len(re.findall(r'<rect class="bar"', page)) == 31
    page_2014 = client.get(PAGE + "?year=2014", headers=HTML).get_data(as_text=True)
    assert 'data-state="swe" data-share="1.06" data-kind="not member"' in page_2014
    assert "Sweden</a> (not yet a member)" in page_2014


def test_a_members_page_draws_its_points_against_the_guideline(client) -> None:
    page = client.get(PAGE + "?state=pol&year=2014", headers=HTML).get_data(as_text=True)
    points = re.findall(r'<circle class="point"[^>]*data-year="(\d+)" data-share="([\d.]+)"', page)
    assert points[:2] == [("2014", "1.88"), ("2015", "2.23")]
    assert points[-2:] == [("2023", "3.92"), ("2024", "4.12")] and len(points) == 11
    assert page.count('class="guideline"') == 2  # the series' and the year's
    assert page.count('<polyline class="joined"') == 1  # every year from 2014 to 2024: one line
    montenegro = client.get(PAGE + "?state=mne", headers=HTML).get_data(as_text=True)
    years = re.findall(r'<circle class="point"[^>]*data-year="(\d+)"', montenegro)
    assert years == ["2014", *map(str, range(2017, 2025))]  # a member from 2017: no figure for 2015-2016
    assert montenegro.count('<polyline class="joined"') == 1  # 2017-2024; nothing drawn across 2015-2016
    assert "Poland over the years" in page and "All members in 2014" in page


def test_a_states_page_and_the_charts_page_link_to_the_charts(client) -> None:
    poland = client.get("/id/state/pol", headers=HTML).get_data(as_text=True)
    assert 'href="/charts/defence-expenditure?state=pol"' in poland
    iceland = client.get("/id/state/isl", headers=HTML).get_data(as_text=True)  # no figures
    japan = client.get("/id/state/jpn", headers=HTML).get_data(as_text=True)  # not in NATO
    assert "/charts/defence-expenditure" not in iceland and "/charts/defence-expenditure" not in japan
    charts = client.get("/charts", headers=HTML).get_data(as_text=True)
    assert 'href="/charts/defence-expenditure"' in charts


def test_documented_output_is_what_the_service_answers(client) -> None:
    from docs.test_readme import _output_after

    http_api = (ROOT / "docs" / "http-api.md").read_text(encoding="utf-8")
    shown = _output_after("/charts/defence-expenditure/data?state=deu", http_api).strip()
    rows = client.get(DATA + "?state=deu").get_json()["observations"]
    assert shown == str([(o["year"], o["share"]) for o in rows])


def test_geometry_puts_the_guideline_between_the_bars_that_meet_it_and_the_others() -> None:
    rows = [
        {"state": "a", "share": 3.0, "meetsGuideline": True, "member": True, "year": 2024},
        {"state": "b", "share": 1.0, "meetsGuideline": False, "member": True, "year": 2024},
    ]
    bars = year_bars({"observations": rows})
    line = bars["guideline"]["x"]
    assert bars["bars"][0]["x"] + bars["bars"][0]["width"] > line > bars["bars"][1]["x"] + bars["bars"][1]["width"]
    assert [b["kind"] for b in bars["bars"]] == ["meets", "below"]
    series = series_points({"observations": [{**rows[1], "year": 2014}, {**rows[0], "year": 2024}]}, 2014, 2024)
    low, high = series["points"]
    assert low["x"] < high["x"] and high["y"] < series["guideline"]["y"] < low["y"]  # SVG y grows downwards
    assert series["lines"] == []  # 2014 and 2024 are not consecutive: no line between them


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        (DATA + "?year=20x4", "year"),
        (DATA + "?state=atlantis", "state"),
        (DATA + "?state=nato", "state"),  # an alliance, not a state
        (PAGE + "?year=2013", "year"),  # no figures for 2013
    ],
)
def test_bad_parameters_are_named(client, url: str, parameter: str) -> None:
    resp = client.get(url, headers=HTML if url.startswith(PAGE + "?") else JSON)
    assert resp.status_code == 400
    assert parameter in resp.get_data(as_text=True)
