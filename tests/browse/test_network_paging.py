"""A network's JSON gives at most ``limit`` links (default 1,000, at most 5,000) from ``offset``,
ordered by their two states, and says how many there are and where the next ones are."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from allianceld.web.views import pictures


def test_the_links_come_a_page_at_a_time_in_one_order(client) -> None:
    whole = client.get("/network.json?date=1990-01-01&limit=5000").get_json()
    total = len(whole["edges"])
    assert total > 100 and whole["links"] == {
        "total": total,
        "offset": 0,
        "limit": 5000,
        "truncated": False,
        "next": None,
    }
    assert whole["edges"] == sorted(whole["edges"], key=lambda e: (e["source"], e["target"]))
    first = client.get("/network.json?date=1990-01-01&limit=50").get_json()
    assert len(first["edges"]) == 50 and first["links"]["truncated"] and first["links"]["total"] == total
    assert first["nodes"] == whole["nodes"] and first["alliances"] == whole["alliances"]
    edges, data = list(first["edges"]), first
    while data["links"]["next"]:
        following = urlsplit(data["links"]["next"])
        assert following.path == "/network.json"
        assert parse_qs(following.query)["date"] == ["1990-01-01"]  # the day stays fixed
        data = client.get(data["links"]["next"]).get_json()
        edges += data["edges"]
    assert edges == whole["edges"]
    assert data["links"]["offset"] == 100 and data["links"]["truncated"]  # the last page, not the whole


def test_the_default_and_the_most_links(client, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (pictures.JSON_LIMIT, pictures.JSON_MAX_LIMIT) == (1000, 5000)
    monkeypatch.setattr(pictures, "JSON_LIMIT", 7)
    data = client.get("/network.json?date=1990-01-01").get_json()
    assert len(data["edges"]) == 7 and data["links"]["limit"] == 7
    assert "offset=7" in data["links"]["next"] and "limit=7" in data["links"]["next"]
    as_json = client.get("/network?date=1990-01-01", headers={"Accept": "application/json"}).get_json()
    assert as_json["links"] == data["links"] | {"next": as_json["links"]["next"]} and len(as_json["edges"]) == 7
    for bad in ("limit=0", "limit=5001", "limit=x", "offset=-1"):
        resp = client.get(f"/network.json?date=1990-01-01&{bad}")
        assert resp.status_code == 400 and resp.get_json()["parameter"] == bad.split("=")[0], bad
    beyond = client.get("/network.json?date=1990-01-01&offset=100000").get_json()
    assert beyond["edges"] == [] and beyond["links"]["next"] is None
