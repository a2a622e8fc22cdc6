"""Names of imported ATOP alliances: the curated name (``data/alliance-names.ttl``) where there is one,
else a descriptive label generated from the alliance's obligations, members and year ("Defence pact of
the United Kingdom and Portugal, 1899"), kept under ``ald:generatedLabel`` so that a curated name wins.

>>> obligations_phrase(["DefenceProvision"])
'Defence'
>>> obligations_phrase(["NeutralityProvision", "NonAggressionProvision", "ConsultationProvision"])
'Neutrality, non-aggression and consultation'
>>> members_phrase(["United Kingdom", "Portugal"])
'the United Kingdom and Portugal'
>>> members_phrase(["France", "Italy", "Germany", "Spain"])
'four states'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pyoxigraph as ox

from allianceld.browse.names import dated_names, in_use
from allianceld.importers.common import NOT_IMPORTED, STATE_BASE, CowState, Import, ald, english
from allianceld.store import KnowledgeBase
from allianceld.vocab import ID_BASE

ALLIANCE_BASE = ID_BASE + "alliance/atop-"
GENERATED_LABEL = "generatedLabel"
WORDS = {
    "DefenceProvision": "defence",
    "OffenceProvision": "offence",
    "NeutralityProvision": "neutrality",
    "NonAggressionProvision": "non-aggression",
    "ConsultationProvision": "consultation",
}
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
NAMED_UP_TO = 3  # up to three members are named; more are counted
# names read with "the": the United Kingdom, the German Federal Republic, the Two Sicilies
THE_LAST_WORDS = {
    "Republic", "Kingdom", "Union", "Emirates", "Islands", "States", "Netherlands", "Philippines", "Bahamas",
    "Gambia", "Maldives", "Comoros", "Seychelles", "Sicilies", "Confederation", "See", "Empire",
}  # fmt: skip
THE_FIRST_WORDS = ("United ", "Republic of ", "Democratic Republic ", "Kingdom of ", "Federated States ")

CURATED_NAMES = (
    "SELECT ?a ?l WHERE { GRAPH ?g { ?a rdfs:label ?l } "
    f'FILTER(STRSTARTS(STR(?a), "{ALLIANCE_BASE}")) FILTER(langMatches(lang(?l), "en")) {NOT_IMPORTED} }}'
)
STATE_NAMES = (
    "SELECT ?s ?l WHERE { GRAPH ?g { ?s a ald:State ; rdfs:label ?l } "
    f'FILTER(langMatches(lang(?l), "en")) {NOT_IMPORTED} }}'
)


def with_article(name: str) -> str:
    """A state's name as it reads in running text: "the United Kingdom", "Portugal"."""
    words = name.split()
    if name.startswith(THE_FIRST_WORDS) or (words and words[-1] in THE_LAST_WORDS):
        return "the " + name
    return name


def obligations_phrase(provisions: Iterable[str]) -> str:
    """The obligations in the codebook's order, joined as English ("Defence and consultation")."""
    words = [WORDS[p] for p in WORDS if p in set(provisions)]
    if not words:
        return "Alliance"
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return text[0].upper() + text[1:]


def members_phrase(names: list[str]) -> str:
    """Up to three members by name ("the United Kingdom and Portugal"), more counted ("four states")."""
    if len(names) > NAMED_UP_TO:
        return f"{NUMBERS[len(names)] if len(names) < len(NUMBERS) else len(names)} states"
    shown = [with_article(n) for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def generated_label(provisions: Iterable[str], member_names: list[str], year: str) -> str:
    """ "Defence pact of the United Kingdom and Portugal, 1899"; an alliance without obligations is
    an "Alliance of …"."""
    kind = obligations_phrase(provisions)
    head = kind if kind == "Alliance" else f"{kind} pact"
    return f"{head} of {members_phrase(member_names)}, {year}"


class AllianceNames:
    """The names an ATOP import gives its alliances: the curated names the store holds (outside the
    import graphs) and the generated labels, from the states' curated or state-list names."""

    def __init__(self, kb: KnowledgeBase, curated_states: dict[int, str], crosswalk: dict[int, CowState]) -> None:
        self.curated = {r["a"]: r["l"] for r in kb.select(CURATED_NAMES, inference=False)}
        state_labels = {r["s"]: r["l"] for r in kb.select(STATE_NAMES, inference=False)}
        self.state_names: dict[int, str] = {}
        iris: dict[int, str] = {}
        for code, known in crosswalk.items():
            iri = STATE_BASE + known.iso3.lower() if known.iso3 else None
            self.state_names[code] = state_labels.get(iri or "", known.name)
            if iri:
                iris[code] = iri
        for code, iri in curated_states.items():
            self.state_names[code] = state_labels.get(iri, self.state_names.get(code, ""))
            iris[code] = iri
        names = dated_names(kb, iris.values())  # the curated names states bore through time
        self.dated = {code: names[iri] for code, iri in iris.items() if iri in names}

    def curated_name(self, atopid: int) -> str | None:
        """The curated English name of ATOP alliance ``atopid``, if the store holds one."""
        return self.curated.get(f"{ALLIANCE_BASE}{atopid}")

    def state_name(self, code: int, day: dt.date) -> str:
        """The name of the state with COW code ``code`` on ``day`` (its curated dated name then, else its
        label); a code no state list names reads "the state coded N"."""
        return in_use(self.dated.get(code, []), day) or self.state_names.get(code) or f"the state coded {code}"

    def generated(self, provisions: Iterable[str], members: Iterable[int], founded: str) -> str:
        """The descriptive label of an alliance founded on ``founded`` (an ISO date) by the states with
        COW codes ``members`` (in code order), each by the name it bore that day."""
        day = dt.date.fromisoformat(founded)
        names = [self.state_name(m, day) for m in sorted(members)]
        return generated_label(provisions, names, founded[:4])

    def add(self, imp: Import, atopid: int, generated: str) -> None:
        """Record the generated label of alliance ``atopid`` as such (``ald:generatedLabel``)."""
        imp.add(ox.NamedNode(f"{ALLIANCE_BASE}{atopid}"), ald(GENERATED_LABEL), english(generated))
