"""The documented questions over time (docs/queries/*.rq), sent to /sparql and checked against
known answers from the shipped data."""

from __future__ import annotations

from browse.docs_queries import QUERIES, bindings, query_text

NATO_FOUNDERS = {"bel", "can", "dnk", "fra", "gbr", "isl", "ita", "lux", "nld", "nor", "prt", "usa"}


def _rows(client, name: str, replace: tuple[str, str] | None = None) -> list[dict[str, str]]:
    return [{k: v.rsplit("/", 1)[-1] for k, v in row.items()} for row in bindings(client, query_text(name, replace))]


def test_each_query_opens_with_a_title_comment() -> None:
    for name in (
        "members-of-an-alliance-on-a-date",
        "alliances-of-a-state-in-a-year",
        "alliances-founded-per-decade-by-type",
        "longest-standing-memberships",
        "portfolios-of-two-states-compared",
    ):
        first = (QUERIES / f"{name}.rq").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and len(first) > 20, name


def test_members_of_nato_on_1990_01_01(client) -> None:
    rows = _rows(client, "members-of-an-alliance-on-a-date")
    assert len(rows) == 16
    assert {r["state"] for r in rows[:12]} == NATO_FOUNDERS
    assert [r["name"] for r in rows[12:]] == ["Greece", "Türkiye", "Germany", "Spain"]


def test_parties_of_the_1992_treaty_on_the_last_day_of_its_first_term_and_the_next(client) -> None:
    def members(alliance: str, day: str) -> set[str]:
        replace = (
            '(<https://w3id.org/allianceld/id/alliance/nato> "1990-01-01"',
            f'(<https://w3id.org/allianceld/id/alliance/{alliance}> "{day}"',
        )
        rows = _rows(client, "members-of-an-alliance-on-a-date", replace)
        return {r["state"] for r in rows}

    assert {"aze", "geo", "uzb"} <= members("collective-security-treaty", "1999-04-20")
    assert len(members("collective-security-treaty", "1999-04-20")) == 9
    assert members("collective-security-treaty", "1999-04-21") == {"arm", "blr", "kaz", "kgz", "rus", "tjk"}
    # Uzbekistan's CSTO membership was suspended on 2012-12-19, not ended: a membership of that role follows
    assert "uzb" in members("csto", "2012-12-18") and "uzb" in members("csto", "2012-12-20")


def test_alliances_of_uzbekistan_in_2012_and_2013(client) -> None:
    # 2012: a member, then suspended (two memberships); 2013: suspended
    assert [r["alliance"] for r in _rows(client, "alliances-of-a-state-in-a-year")] == ["csto", "csto"]
    rows = _rows(client, "alliances-of-a-state-in-a-year", ("state/uzb> 2012", "state/uzb> 2013"))
    assert [(r["alliance"], r["start"]) for r in rows] == [("csto", "2012-12-19")]


def test_alliances_of_india_in_2008_count_the_first_quad(client) -> None:
    rows = _rows(client, "alliances-of-a-state-in-a-year", ("state/uzb> 2012", "state/ind> 2008"))
    assert [r["alliance"] for r in rows] == ["us-india-partnership", "quad"]


def test_alliances_founded_per_decade_by_type(client, app) -> None:
    rows = _rows(client, "alliances-founded-per-decade-by-type")
    counts = {(int(r["decade"]), r["type"]): int(r["alliances"]) for r in rows}
    assert counts[(1940, "multilateral alliance")] == 1  # NATO
    assert counts[(1950, "bilateral alliance")] == 1  # the United States-Japan alliance
    assert counts[(2000, "multilateral alliance")] == 3  # the CSTO, the AU Peace and Security Council, the Quad
    assert counts[(1990, "multilateral alliance")] == 1  # the Collective Security Treaty
    # the same counts as the chart
    chart = client.get("/charts/data").get_json()
    assert len(rows) == sum(len(d["counts"]) for d in chart["decades"]) == 17


def test_longest_standing_memberships(client) -> None:
    rows = _rows(client, "longest-standing-memberships")
    assert len(rows) == 25
    assert {r["state"] for r in rows[:12]} == NATO_FOUNDERS and {r["alliance"] for r in rows[:12]} == {"nato"}
    assert len({r["held"] for r in rows[:12]}) == 1  # all twelve since 24 August 1949
    assert [(r["state"], r["alliance"]) for r in rows[12:17]] == [
        ("grc", "nato"),
        ("tur", "nato"),
        ("jpn", "us-japan-alliance"),
        ("usa", "us-japan-alliance"),
        ("deu", "nato"),
    ]
    days = [int(r["held"].strip("PD")) for r in rows]
    assert days == sorted(days, reverse=True)


def test_portfolios_of_the_united_states_and_india(client) -> None:
    rows = _rows(client, "portfolios-of-two-states-compared")
    held = {r["alliance"]: r["heldBy"] for r in rows}
    assert held == {
        "admm-plus": "both",
        "quad": "both",
        "us-india-partnership": "both",
        "nato": "United States only",
        "us-japan-alliance": "United States only",
    }
    assert [r["heldBy"] for r in rows][:3] == ["both"] * 3
    nato = next(r for r in rows if r["alliance"] == "nato")
    assert nato["firstSince"] == "1949-08-24" and "secondSince" not in nato


def test_portfolios_of_russia_and_uzbekistan(client) -> None:
    replace = (
        "state/usa> <https://w3id.org/allianceld/id/state/ind>",
        "state/rus> <https://w3id.org/allianceld/id/state/uzb>",
    )
    held = {r["alliance"]: r["heldBy"] for r in _rows(client, "portfolios-of-two-states-compared", replace)}
    assert held == {"csto": "both", "collective-security-treaty": "both", "admm-plus": "Russia only"}
