"""States through time: the dated names of data/state-names.ttl, a state's name on a day
(browse.names), the pages and listings of a day that use them, and reconciliation by former names."""

from __future__ import annotations

import datetime as dt

import pyoxigraph as ox
import pytest

from allianceld.browse import names
from allianceld.linking.reconciliation import Index, Query
from allianceld.store import KnowledgeBase
from allianceld.vocab import ID_BASE
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

RUS, THA, TUR, DEU, YUG = (f"{ID_BASE}state/{s}" for s in ("rus", "tha", "tur", "deu", "cow-yug"))
D = dt.date.fromisoformat
HTML = {"Accept": "text/html"}

# A state as the importers bring in one the curated data lacks (COW 630, Iran), for reconciliation
IRAN = """
@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/allianceld/id/state/irn> a ald:State ; rdfs:label "Iran"@en ; ald:cowCode 630 ;
    ald:iso3166Alpha2 "IR" ; ald:iso3166Alpha3 "IRN" ; owl:sameAs <http://www.wikidata.org/entity/Q794> ;
    prov:wasDerivedFrom <http://correlatesofwar.org/> .
"""


@pytest.mark.parametrize(
    ("state", "day", "name"),
    [
        (RUS, "1914-08-01", "Russian Empire"),
        (RUS, "1917-03-14", "Russian Empire"),  # the Empire's last day, before the abdication
        (RUS, "1917-06-01", "Russia"),  # between the abdication and the Republic: the state's label
        (RUS, "1917-10-01", "Russian Republic"),
        (RUS, "1922-12-29", "Russian SFSR"),  # before the Union
        (RUS, "1922-12-30", "Soviet Union"),  # its first day
        (RUS, "1956-10-23", "Soviet Union"),
        (RUS, "1991-12-25", "Soviet Union"),  # its last day
        (RUS, "1991-12-26", "Russia"),
        (THA, "1930-01-01", "Siam"),
        (THA, "1939-06-24", "Thailand"),
        (THA, "1946-01-01", "Siam"),  # the name again from September 1945 ...
        (THA, "1949-05-11", "Thailand"),  # ... to 10 May 1949
        (TUR, "1914-08-02", "Ottoman Empire"),
        (TUR, "1952-02-18", "Turkey"),
        (TUR, "2022-06-01", "Türkiye"),  # the state's label, no dated name after 31 May 2022
        (DEU, "1866-06-14", "Prussia"),
        (DEU, "1914-08-01", "Germany"),
    ],
)
def test_a_state_has_the_name_of_the_day(shared_kb: KnowledgeBase, state: str, day: str, name: str):
    assert names.name_on(shared_kb, [state], D(day))[state] == name


def test_one_call_names_many_states_on_a_day(shared_kb: KnowledgeBase):
    usa = f"{ID_BASE}state/usa"
    assert names.name_on(shared_kb, [RUS, THA, TUR, DEU, usa], D("1935-01-01")) == {
        RUS: "Soviet Union",
        THA: "Siam",
        TUR: "Turkey",
        DEU: "Germany",
        usa: "United States",
    }


def test_names_of_a_state_an_import_brings_in_are_ready_before_it(shared_kb: KnowledgeBase):
    """COW 345 (state/cow-yug) is not curated: its names apply by day all the same."""
    days = ["1914-07-28", "1920-01-01", "1941-04-06", "2003-02-04", "2008-02-17"]
    got = names.names_on(shared_kb, [(YUG, D(d)) for d in days])
    assert [got[(YUG, D(d))] for d in days] == [
        "Serbia",
        "Kingdom of Serbs, Croats and Slovenes",
        "Yugoslavia",
        "Serbia and Montenegro",
        "Serbia",
    ]
    assert not names.dated_names(shared_kb, [f"{ID_BASE}state/usa"])  # a state never renamed has none


@pytest.mark.parametrize(
    ("state", "day", "name"),
    [
        ("cow-yug", "1992-04-26", "Yugoslavia"),
        ("cow-yug", "1992-04-27", "Federal Republic of Yugoslavia"),
        ("cow-yug", "2003-02-03", "Federal Republic of Yugoslavia"),
        ("egy", "1958-02-21", None),  # Egypt: the state's label, from the import
        ("egy", "1958-02-22", "United Arab Republic"),
        ("egy", "1965-01-01", "United Arab Republic"),  # Egypt kept the name after Syria left
        ("egy", "1971-09-01", "United Arab Republic"),  # known to the month: September 1971
        ("egy", "1971-09-02", None),
        ("syr", "1960-01-01", "United Arab Republic"),
        ("syr", "1961-09-28", None),
        ("ben", "1975-11-29", "Dahomey"),
        ("ben", "1975-11-30", None),
        ("bfa", "1984-08-03", "Upper Volta"),
        ("bfa", "1984-08-04", None),
        ("zwe", "1970-01-01", "Rhodesia"),
        ("khm", "1972-01-01", "Khmer Republic"),
        ("khm", "1975-06-01", "Cambodia"),  # between the fall of Phnom Penh and the 1976 constitution
        ("khm", "1977-01-01", "Democratic Kampuchea"),
        ("khm", "1979-01-08", "People's Republic of Kampuchea"),
        ("khm", "1990-01-01", "State of Cambodia"),
        ("khm", "1993-09-24", "Cambodia"),
    ],
)
def test_the_renames_of_the_record_apply_by_day(shared_kb: KnowledgeBase, state: str, day: str, name: str | None):
    """Curated (Cambodia) or brought in by an import (the others, whose label is then theirs): the
    dated name in use that day, or none."""
    iri = f"{ID_BASE}state/{state}"
    if state == "khm":
        assert names.name_on(shared_kb, [iri], D(day))[iri] == name
    else:
        assert names.in_use(names.dated_names(shared_kb, [iri]).get(iri, []), D(day)) == name


def test_a_month_precise_date_is_kept_as_such(shared_kb: KnowledgeBase):
    siam = [n for n in names.dated_names(shared_kb, [THA])[THA] if n.start]
    assert [(n.label, n.start, n.start_precision) for n in siam] == [
        ("Siam", "1945-09-01", "https://w3id.org/allianceld/ontology#MonthPrecision")
    ]


def test_the_states_of_a_day_carry_that_days_names(client):
    body = client.get("/states?active_on=2000-01-01&alliance=nato&limit=100&format=json").get_json()
    turkey = next(s for s in body["items"] if s["id"] == "tur")
    assert (turkey["label"], turkey["todayLabel"]) == ("Turkey", "Türkiye")
    body = client.get("/states?active_on=2023-01-01&alliance=nato&limit=100&format=json").get_json()
    turkey = next(s for s in body["items"] if s["id"] == "tur")
    assert turkey["label"] == "Türkiye" and "todayLabel" not in turkey
    html = client.get("/states?active_on=2000-01-01&alliance=nato&limit=100", headers=HTML).get_data(as_text=True)
    assert ">Turkey</a>" in html


def test_an_alliance_lists_its_members_by_the_name_they_joined_under(client):
    body = client.get("/id/alliance/nato?format=json").get_json()
    tur = [m["other"] for m in body["memberships"] if m["other"]["iri"] == TUR]
    assert tur and all((o["label"], o["todayLabel"]) == ("Turkey", "Türkiye") for o in tur)
    usa = [m["other"] for m in body["memberships"] if m["other"]["iri"].endswith("/usa")]
    assert usa and all("todayLabel" not in o for o in usa)


def test_a_state_page_lists_its_names_through_time(client):
    body = client.get("/id/state/rus?format=json").get_json()
    assert [(n["label"], n["startDate"], n["endDate"]) for n in body["names"]] == [
        ("Russian Empire", None, "1917-03-14"),
        ("Russian Republic", "1917-09-14", "1917-11-06"),
        ("Russian SFSR", "1917-11-07", "1922-12-29"),
        ("Soviet Union", "1922-12-30", "1991-12-25"),
    ]
    html = client.get("/id/state/tha", headers=HTML).get_data(as_text=True)
    assert "Names through time" in html and "(known to the month)" in html


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Soviet Union", "rus"),
        ("USSR", "rus"),
        ("Siam", "tha"),
        ("Ottoman Empire", "tur"),
        ("Burma", "mmr"),
        ("Prussia", "deu"),
        ("Russian Empire", "rus"),
        ("Soviet Russia", "rus"),
        ("Khmer Republic", "khm"),
        ("Democratic Kampuchea", "khm"),
    ],  # "Prussia" is not a sure match: "Russia" scores 92
)
def test_reconciliation_finds_a_state_by_a_former_name(shared_kb: KnowledgeBase, text: str, state: str):
    found = Index.build(shared_kb).reconcile(Query(text))
    assert found and found[0].entity.id == f"state/{state}" and found[0].score == 100


def test_reconciliation_finds_an_imported_state_by_its_former_name(loaded_kb: KnowledgeBase, write_policy: WritePolicy):
    triples = [q.triple for q in ox.parse(IRAN.encode(), format=ox.RdfFormat.TURTLE)]
    gate.commit(loaded_kb, write_policy, [gate.Source("https://w3id.org/allianceld/graph/data/test-iran", triples, "")])
    found = Index.build(loaded_kb).reconcile(Query("Persia"))
    assert found[0].entity.id == "state/irn" and found[0].match
