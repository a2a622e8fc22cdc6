"""A state's names through time where a state is shown: its alliances listed under the name it
bore when each membership began, and its page's heading with its former names and their years."""

from __future__ import annotations

import re

HTML = {"Accept": "text/html"}


def test_a_states_alliances_name_it_as_it_was_named_when_it_joined(client) -> None:
    body = client.get("/states/tur/alliances?format=json").get_json()
    nato = next(a for a in body["items"] if a["id"] == "nato")
    assert body["state"]["label"] == "Türkiye"
    assert nato["stateName"] == "Turkey" and {m["stateName"] for m in nato["memberships"]} == {"Turkey"}
    usa = client.get("/states/usa/alliances?format=json").get_json()
    assert {a["stateName"] for a in usa["items"]} == {"United States"}
    html = client.get("/states/tur/alliances", headers=HTML).get_data(as_text=True)
    row = next(r for r in html.split("<tr>") if "/id/alliance/nato" in r)
    assert 'as <span class="state-name">Turkey</span>' in row


def test_a_state_page_names_its_former_names_beside_the_heading(client) -> None:
    body = client.get("/id/state/rus?format=json").get_json()
    assert [(n["label"], n["period"]) for n in body["formerNames"]] == [
        ("Soviet Union", "1922\N{EN DASH}1991"),
        ("Russian SFSR", "1917\N{EN DASH}1922"),
        ("Russian Republic", "1917"),
        ("Russian Empire", "until 1917"),
    ]
    html = client.get("/id/state/rus", headers=HTML).get_data(as_text=True)
    heading = html.index('<h1 id="label">Russia</h1>')
    former = re.search(r'<p id="former-names">(.*?)</p>', html, re.S)
    assert former and former.start() > heading
    text = re.sub(r"<[^>]+>", "", former.group(1))
    assert text.startswith("formerly Soviet Union (1922\N{EN DASH}1991), Russian SFSR (1917\N{EN DASH}1922)")
    usa = client.get("/id/state/usa", headers=HTML).get_data(as_text=True)
    assert 'id="former-names"' not in usa
