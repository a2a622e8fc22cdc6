"""What a person reads on the pages: example queries by title, durations in years and days, result
and contribution links to this server's pages, ISO dates in the forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from allianceld.web.durations import readable_duration, years_and_days
from allianceld.web.examples import example_queries, read_example

QUERIES = Path(__file__).resolve().parents[2] / "docs" / "queries"
HTML = {"Accept": "text/html"}


# -- example queries' titles -----------------------------------------------------------------------


def test_a_title_line_names_the_query_and_the_other_comments_describe_it() -> None:
    text = "# Title: NATO's members in 1990\n# Begun by then,\n# not ended.\nSELECT"
    ex = read_example("nato-members-on-1990-01-01", text)
    assert ex.title == "NATO's members in 1990"
    assert ex.description == "Begun by then, not ended."
    assert read_example("x", "# title:   Spaced  \nASK {}").title == "Spaced"


def test_a_query_without_a_title_line_is_named_by_its_file_in_words() -> None:
    assert read_example("nato-members", "# Its members.\nSELECT").title == "Nato members"


def test_every_shipped_example_has_a_title_of_its_own() -> None:
    examples = example_queries(QUERIES)
    assert len(examples) >= 10
    for ex in examples:
        first = (QUERIES / f"{ex.name}.rq").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Title: "), ex.name
        assert ex.title.casefold() != ex.name.replace("-", " ").casefold(), ex.name
        assert ex.description, ex.name


def test_the_editor_lists_the_examples_by_title(site) -> None:
    page = site.client.get("/sparql", headers=HTML).get_data(as_text=True)
    if 'id="yasgui"' not in page:
        pytest.skip("YASGUI is not installed (make assets)")
    buttons = re.findall(r'<button type="button" class="example" data-name="([^"]+)"[^>]*>([^<]*)</button>', page)
    assert ("nato-members-on-1990-01-01", "NATO&#39;s members on 1 January 1990") in buttons
    assert all(not re.fullmatch(r"[a-z0-9 ]+", title) for _, title in buttons)


# -- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lexical", "words"),
    [
        ("P42238D", "115 years 236 days"),
        ("P365D", "1 year"),
        ("P366D", "1 year 1 day"),
        ("P1461D", "4 years"),
        ("P30D", "30 days"),
        ("P0D", "0 days"),
        ("P1Y2M", "1 year 2 months"),
        ("P2Y", "2 years"),
        ("-P3DT4H", "minus 3 days 4 hours"),
        ("PT1.50S", "1.5 seconds"),
        ("PT90M", "90 minutes"),
    ],
)
def test_a_duration_reads_as_years_and_days(lexical: str, words: str) -> None:
    assert readable_duration(lexical) == words


@pytest.mark.parametrize("text", ["P", "PT", "1Y", "P1.5D", "P1DT", "42 years", "", "P-1D"])
def test_what_is_not_a_duration_is_left_alone(text: str) -> None:
    assert readable_duration(text) is None


def test_years_and_days_follow_the_calendar_over_long_spans() -> None:
    import datetime as dt

    start = dt.date(1949, 8, 24)
    for end in (dt.date(2026, 12, 7), dt.date(1991, 12, 26), dt.date(1950, 8, 24), dt.date(2049, 8, 24)):
        years, days = years_and_days((end - start).days)
        calendar_years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
        assert years == calendar_years
        anniversary = start.replace(year=start.year + calendar_years)
        assert abs(days - (end - anniversary).days) <= 1


def test_the_plain_results_table_shows_durations_in_words_and_links_here(site) -> None:
    query = (QUERIES / "longest-standing-memberships.rq").read_text(encoding="utf-8")
    page = site.client.get("/sparql", query_string={"query": query}, headers=HTML).get_data(as_text=True)
    table = page[page.index('<table id="results">') :]
    cells = re.findall(r'<span class="literal duration" title="(P\d+D)">([^<]+)</span>', table)
    assert len(cells) == 25
    assert all(words == readable_duration(iso) for iso, words in cells)
    assert re.search(r">P\d+D<", table) is None  # no ISO duration as the shown text
    assert 'href="/id/alliance/nato"' in table and 'href="https://w3id.org/' not in table


# -- forms and the contribution page --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/alliances", "/states"])
def test_date_fields_take_and_show_iso_days(site, path: str) -> None:
    page = site.client.get(path, query_string={"active_on": "1990-01-01"}, headers=HTML).get_data(as_text=True)
    field = re.search(r'<input [^>]*name="active_on"[^>]*>', page)
    assert field is not None
    assert 'type="text"' in field[0] and 'value="1990-01-01"' in field[0] and 'placeholder="YYYY-MM-DD"' in field[0]


def test_the_contribution_page_lists_the_resources_it_wrote_linked_here(site) -> None:
    body = (
        b"@prefix ald: <https://w3id.org/allianceld/ontology#> .\n"
        b"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        b'<https://w3id.org/allianceld/id/region/readable-a> a ald:Region ; rdfs:label "Zeta region"@en .\n'
        b'<https://w3id.org/allianceld/id/region/readable-b> a ald:Region ; rdfs:label "Alpha region"@en .\n'
    )
    resp = site.client.post("/contributions", data=body, headers=site.auth())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    page = site.client.get(resp.headers["Location"], headers=HTML).get_data(as_text=True)
    written = page[page.index('<ul id="written">') : page.index("</ul>")]
    links = re.findall(r'<a class="term" href="([^"]+)"[^>]*>([^<]+)</a>', written)
    assert links == [("/id/region/readable-b", "Alpha region"), ("/id/region/readable-a", "Zeta region")]
    assert page.index('id="written"') < page.index('id="data"')
