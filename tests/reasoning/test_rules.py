"""Domain rules (ontology/rules/): each rule on small hand-written data, positive and negative;
incremental recomputation of the affected focus nodes equals a full recomputation; premises;
rule files that load_rules refuses; the rules on the shipped data; the files as SHACL-AF."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from allianceld import vocab
from allianceld.reasoning import domain_rules
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, data_graph_iri
from conftest import ROOT

RULES_DIR = ROOT / "ontology" / "rules"
RULES = {rule.name: rule for rule in domain_rules.load_rules(RULES_DIR)}
ONTOLOGY = [q.triple for q in ox.parse(path=str(ROOT / "ontology" / "allianceld.ttl"))]
DATA = data_graph_iri("test")
USING = [ONTOLOGY_GRAPH, DATA]

ALD = "https://w3id.org/allianceld/ontology#"
ORG = "http://www.w3.org/ns/org#"
ID = "https://w3id.org/allianceld/id/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
ALLIED = ox.NamedNode(ALD + "alliedWith")

PREFIXES = f"""
@prefix ald: <{ALD}> . @prefix org: <{ORG}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix s: <{ID}state/> . @prefix al: <{ID}alliance/> . @prefix m: <{ID}membership/> .
@prefix t: <{ID}treaty/> . @prefix p: <{ID}provision/> . @prefix r: <{ID}region/> .
"""


def state(code: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}state/{code}")


def alliance(name: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}alliance/{name}")


def membership(name: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}membership/{name}")


def typed(node: ox.NamedNode, cls: str) -> ox.Triple:
    return ox.Triple(node, RDF_TYPE, ox.NamedNode(ALD + cls))


def allied(*pairs: str) -> set[ox.Triple]:
    """Both directions of each pair "a-b" of state codes."""
    out = set()
    for pair in pairs:
        a, b = pair.split("-")
        out |= {ox.Triple(state(a), ALLIED, state(b)), ox.Triple(state(b), ALLIED, state(a))}
    return out


def make_kb(turtle: str) -> KnowledgeBase:
    """An in-memory store with the ontology and ``turtle`` (RL inferences the rules need, such
    as subclass types, written out as asserted triples)."""
    kb = KnowledgeBase()
    kb.replace_graphs({ONTOLOGY_GRAPH: ONTOLOGY, DATA: data_triples(turtle)})
    return kb


def derive(kb: KnowledgeBase, name: str) -> set[ox.Triple]:
    """Recompute one rule fully; the content of its graph."""
    rule = RULES[name]
    kb.backend.update(domain_rules.full_update(rule, USING))
    return set(kb.triples(rule.graph))


def changed_nodes(*triples: ox.Triple) -> list[ox.NamedNode]:
    """The IRIs that are subject or object of the given triples (what a write path passes)."""
    nodes = {t.subject for t in triples} | {t.object for t in triples}
    return sorted((n for n in nodes if isinstance(n, ox.NamedNode)), key=str)


def data_triples(turtle: str) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(PREFIXES + turtle, format=ox.RdfFormat.TURTLE)]


def data_block(triples: list[ox.Triple]) -> str:
    return f"GRAPH {ox.NamedNode(DATA)} {{ {' . '.join(str(t) for t in triples)} }}"


# -- allied-states -------------------------------------------------------------------------------

ALLIANCES = """
s:a a ald:State . s:b a ald:State . s:c a ald:State . s:d a ald:State .
s:e a ald:State . s:f a ald:State . s:g a ald:State . s:h a ald:State .
<https://w3id.org/allianceld/id/organisation/o> a ald:InternationalOrganisation .

# the pact: its defence provision is in a later treaty (ald:treaty), not the founding one
al:pact a ald:Alliance ; ald:foundingDate "1950-01-01"^^xsd:date ;
    ald:foundingTreaty t:pact-1950 ; ald:treaty t:pact-1960 .
t:pact-1950 a ald:Treaty ; ald:hasProvision p:pact-1950-4 .
p:pact-1950-4 a ald:ConsultationProvision .
t:pact-1960 a ald:Treaty ; ald:hasProvision p:pact-1960-5 .
p:pact-1960-5 a ald:DefenceProvision .
m:pact-a org:member s:a ; org:organization al:pact ; ald:startDate "1950-01-01"^^xsd:date .
m:pact-b org:member s:b ; org:organization al:pact ; ald:startDate "1955-01-01"^^xsd:date ;
    ald:endDate "1960-06-30"^^xsd:date .
m:pact-c org:member s:c ; org:organization al:pact ; ald:startDate "1961-01-01"^^xsd:date .
m:pact-g org:member s:g ; org:organization al:pact ; ald:startDate "1960-06-30"^^xsd:date .
m:pact-o org:member <https://w3id.org/allianceld/id/organisation/o> ; org:organization al:pact ;
    ald:startDate "1950-01-01"^^xsd:date .

# the forum: no defence provision
al:forum a ald:Alliance ; ald:foundingDate "1950-01-01"^^xsd:date ; ald:foundingTreaty t:forum .
t:forum a ald:Treaty ; ald:hasProvision p:forum-2 .
p:forum-2 a ald:ConsultationProvision .
m:forum-a org:member s:a ; org:organization al:forum ; ald:startDate "1950-01-01"^^xsd:date .
m:forum-d org:member s:d ; org:organization al:forum ; ald:startDate "1950-01-01"^^xsd:date .

# gone: dissolved on 1 January 1970
al:gone a ald:Alliance ; ald:foundingDate "1960-01-01"^^xsd:date ; ald:dissolutionDate "1970-01-01"^^xsd:date ;
    ald:foundingTreaty t:gone .
t:gone a ald:Treaty ; ald:hasProvision p:gone-5 .
p:gone-5 a ald:DefenceProvision .
m:gone-e org:member s:e ; org:organization al:gone ; ald:startDate "1960-01-01"^^xsd:date .
m:gone-f org:member s:f ; org:organization al:gone ; ald:startDate "1975-01-01"^^xsd:date .
m:gone-h org:member s:h ; org:organization al:gone ; ald:startDate "1965-01-01"^^xsd:date .
"""

# b ends on the day g starts (a shared day), c starts after b ended; o is not a state; f joined
# gone after its dissolution; the forum has no defence provision
PACT_AND_GONE = allied("a-b", "a-c", "a-g", "b-g", "c-g", "e-h")


def test_allied_states_derives_exactly_the_overlapping_pairs() -> None:
    assert derive(make_kb(ALLIANCES), "allied-states") == PACT_AND_GONE


def test_allied_states_needs_a_defence_provision_and_overlapping_periods() -> None:
    kb = make_kb("""
        s:a a ald:State . s:b a ald:State . s:c a ald:State .
        al:forum a ald:Alliance ; ald:foundingTreaty t:forum .
        t:forum ald:hasProvision p:forum-2 . p:forum-2 a ald:ConsultationProvision .
        m:forum-a org:member s:a ; org:organization al:forum ; ald:startDate "1950-01-01"^^xsd:date .
        m:forum-b org:member s:b ; org:organization al:forum ; ald:startDate "1950-01-01"^^xsd:date .
        al:pact a ald:Alliance ; ald:foundingTreaty t:pact .
        t:pact ald:hasProvision p:pact-5 . p:pact-5 a ald:DefenceProvision .
        m:pact-a org:member s:a ; org:organization al:pact ; ald:startDate "1950-01-01"^^xsd:date ;
            ald:endDate "1959-12-31"^^xsd:date .
        m:pact-c org:member s:c ; org:organization al:pact ; ald:startDate "1960-01-01"^^xsd:date .
    """)
    assert derive(kb, "allied-states") == set()


SUSPENSIONS = """
s:a a ald:State . s:b a ald:State . s:c a ald:State . s:d a ald:State .
al:pact a ald:Alliance ; ald:foundingTreaty t:pact .
t:pact ald:hasProvision p:pact-5 . p:pact-5 a ald:DefenceProvision .
m:pact-a org:member s:a ; org:organization al:pact ; org:role ald:FoundingMember ;
    ald:startDate "1950-01-01"^^xsd:date .
# b a member to 1959, suspended from 1960 (not gone); c joins in 1965; d only ever suspended
m:pact-b org:member s:b ; org:organization al:pact ; org:role ald:FoundingMember ;
    ald:startDate "1950-01-01"^^xsd:date ; ald:endDate "1959-12-31"^^xsd:date .
m:pact-b2 org:member s:b ; org:organization al:pact ; org:role ald:Suspended ; ald:startDate "1960-01-01"^^xsd:date .
m:pact-c org:member s:c ; org:organization al:pact ; org:role ald:Member ; ald:startDate "1965-01-01"^^xsd:date .
m:pact-d org:member s:d ; org:organization al:pact ; org:role ald:Suspended ; ald:startDate "1950-01-01"^^xsd:date .
"""


def test_allied_states_leaves_out_suspended_memberships() -> None:
    """A suspended member is not allied while suspended: b and c are members together only
    while b is suspended, d only ever is suspended."""
    kb = make_kb(SUSPENSIONS)
    assert derive(kb, "allied-states") == allied("a-b", "a-c")
    for t in derive(kb, "allied-states"):  # an explanation names no suspended membership
        premises = domain_rules.premises(kb, RULES["allied-states"], t.subject, t.object)
        assert not {membership("pact-b2"), membership("pact-d")} & {p.subject for p in premises}


@pytest.mark.parametrize(
    "change",
    [
        "m:pact-b2 org:role ald:Member .",  # b's suspension lifted: b and c allied
        "m:pact-e org:member s:a ; org:organization al:pact ; org:role ald:Suspended ; "
        'ald:startDate "1940-01-01"^^xsd:date .',  # a suspension of a before the others joined
    ],
)
def test_a_suspension_changed_gives_what_a_full_recomputation_gives(change: str) -> None:
    kb = make_kb(SUSPENSIONS)
    recompute_all(kb)
    suspended = ox.Triple(membership("pact-b2"), ox.NamedNode(ORG + "role"), ox.NamedNode(ALD + "Suspended"))
    removed = [suspended] if "pact-b2" in change else []
    write_then_recompute(kb, removed, data_triples(change), ["allied-states"])
    incremental = set(kb.triples(RULES["allied-states"].graph))
    assert incremental == recompute_all(kb, ["allied-states"])["allied-states"]
    assert (allied("b-c") <= incremental) == bool(removed)


# -- alliance-type-by-founding-members ---------------------------------------------------------

FOUNDINGS = """
al:duo a ald:Alliance ; ald:foundingDate "2000-01-01"^^xsd:date .
m:duo-x org:member s:x ; org:organization al:duo ; ald:startDate "2000-01-01"^^xsd:date .
m:duo-y org:member s:y ; org:organization al:duo ; ald:startDate "1999-06-01"^^xsd:date .
m:duo-z org:member s:z ; org:organization al:duo ; ald:startDate "2005-01-01"^^xsd:date .
m:duo-w org:member s:w ; org:organization al:duo ; ald:startDate "1999-01-01"^^xsd:date ;
    ald:endDate "1999-12-31"^^xsd:date .

al:trio a ald:Alliance ; ald:foundingDate "2000-01-01"^^xsd:date .
m:trio-x org:member s:x ; org:organization al:trio ; ald:startDate "2000-01-01"^^xsd:date ;
    ald:endDate "2000-01-01"^^xsd:date .
m:trio-y org:member s:y ; org:organization al:trio ; ald:startDate "2000-01-01"^^xsd:date .
m:trio-z org:member s:z ; org:organization al:trio ; ald:startDate "2000-01-01"^^xsd:date .

# one state with two memberships on the founding day counts once
al:twice a ald:Alliance ; ald:foundingDate "2000-01-01"^^xsd:date .
m:twice-x1 org:member s:x ; org:organization al:twice ; ald:startDate "2000-01-01"^^xsd:date .
m:twice-x2 org:member s:x ; org:organization al:twice ; ald:startDate "1999-01-01"^^xsd:date .
m:twice-y org:member s:y ; org:organization al:twice ; ald:startDate "2000-01-01"^^xsd:date .

al:solo a ald:Alliance ; ald:foundingDate "2000-01-01"^^xsd:date .
m:solo-x org:member s:x ; org:organization al:solo ; ald:startDate "2000-01-01"^^xsd:date .
m:solo-y org:member s:y ; org:organization al:solo ; ald:startDate "2001-01-01"^^xsd:date .

al:undated a ald:Alliance .
m:undated-x org:member s:x ; org:organization al:undated ; ald:startDate "2000-01-01"^^xsd:date .
m:undated-y org:member s:y ; org:organization al:undated ; ald:startDate "2000-01-01"^^xsd:date .
m:undated-z org:member s:z ; org:organization al:undated ; ald:startDate "2000-01-01"^^xsd:date .
"""


def test_alliance_type_counts_the_members_on_the_founding_day() -> None:
    assert derive(make_kb(FOUNDINGS), "alliance-type-by-founding-members") == {
        typed(alliance("duo"), "BilateralAlliance"),  # z joined later, w had left
        typed(alliance("trio"), "MultilateralAlliance"),  # an end date on the founding day still counts
        typed(alliance("twice"), "BilateralAlliance"),
    }


def test_alliance_type_needs_two_members_on_the_founding_day() -> None:
    # memberships from the treaty's entry into force, after the founding (signing) date: NATO's case
    kb = make_kb("""
        al:late a ald:Alliance ; ald:foundingDate "1949-04-04"^^xsd:date .
        m:late-x org:member s:x ; org:organization al:late ; ald:startDate "1949-08-24"^^xsd:date .
        m:late-y org:member s:y ; org:organization al:late ; ald:startDate "1949-08-24"^^xsd:date .
        m:late-z org:member s:z ; org:organization al:late ; ald:startDate "1949-08-24"^^xsd:date .
    """)
    assert derive(kb, "alliance-type-by-founding-members") == set()


# -- regional-partnership --------------------------------------------------------------------------

REGIONS = """
s:x ald:region r:middle-east . s:y ald:region r:middle-east .
s:z ald:region r:europe . s:t ald:region r:europe , r:middle-east .

al:gulf a ald:Alliance .
m:gulf-x org:member s:x ; org:organization al:gulf . m:gulf-y org:member s:y ; org:organization al:gulf .
al:bridge a ald:Alliance .
m:bridge-t org:member s:t ; org:organization al:bridge . m:bridge-z org:member s:z ; org:organization al:bridge .
m:bridge-x org:member s:x ; org:organization al:bridge .
al:mixed a ald:Alliance .
m:mixed-x org:member s:x ; org:organization al:mixed . m:mixed-z org:member s:z ; org:organization al:mixed .
al:single a ald:Alliance .
m:single-x1 org:member s:x ; org:organization al:single . m:single-x2 org:member s:x ; org:organization al:single .
al:unplaced a ald:Alliance .
m:unplaced-x org:member s:x ; org:organization al:unplaced .
m:unplaced-n org:member s:n ; org:organization al:unplaced .
"""


def test_regional_partnership_when_every_member_shares_a_region() -> None:
    assert derive(make_kb(REGIONS), "regional-partnership") == {
        typed(alliance("gulf"), "RegionalPartnership"),
    }


def test_regional_partnership_with_a_member_of_two_regions() -> None:
    kb = make_kb(
        REGIONS + "al:turk a ald:Alliance . "
        "m:turk-t org:member s:t ; org:organization al:turk . "
        "m:turk-z org:member s:z ; org:organization al:turk ."
    )
    assert typed(alliance("turk"), "RegionalPartnership") in derive(kb, "regional-partnership")


def test_regional_partnership_not_for_mixed_regions() -> None:
    kb = make_kb("""
        s:x ald:region r:middle-east . s:z ald:region r:europe .
        al:mixed a ald:Alliance .
        m:mixed-x org:member s:x ; org:organization al:mixed . m:mixed-z org:member s:z ; org:organization al:mixed .
    """)
    assert derive(kb, "regional-partnership") == set()


# -- dissolved-alliance --------------------------------------------------------------------------


def test_dissolved_alliance() -> None:
    assert derive(make_kb(ALLIANCES), "dissolved-alliance") == {typed(alliance("gone"), "DissolvedAlliance")}


def test_no_dissolved_alliance_without_a_dissolution_date() -> None:
    kb = make_kb('al:pact a ald:Alliance ; ald:foundingDate "1950-01-01"^^xsd:date .')
    assert derive(kb, "dissolved-alliance") == set()


# -- emerging-established-partnership --------------------------------------------------------------

POWERS = """
s:ind a ald:State , ald:EmergingPower . s:bra a ald:State , ald:EmergingPower .
s:usa a ald:State , ald:EstablishedPower . s:fra a ald:State , ald:EstablishedPower .
s:x a ald:State .
al:mix a ald:Alliance .
m:mix-ind org:member s:ind ; org:organization al:mix . m:mix-usa org:member s:usa ; org:organization al:mix .
m:mix-x org:member s:x ; org:organization al:mix .
al:rising a ald:Alliance .
m:rising-ind org:member s:ind ; org:organization al:rising .
m:rising-bra org:member s:bra ; org:organization al:rising .
al:old a ald:Alliance .
s:y a ald:State . m:old-y org:member s:y ; org:organization al:old .
m:old-usa org:member s:usa ; org:organization al:old . m:old-fra org:member s:fra ; org:organization al:old .
"""


def test_emerging_established_partnership() -> None:
    assert derive(make_kb(POWERS), "emerging-established-partnership") == {
        typed(alliance("mix"), "EmergingEstablishedPartnership"),
    }


def test_no_emerging_established_partnership_among_powers_of_one_kind() -> None:
    kb = make_kb(POWERS.split("al:mix a")[0] + POWERS[POWERS.index("al:rising") :])
    assert derive(kb, "emerging-established-partnership") == set()


# -- incremental recomputation ---------------------------------------------------------------------


def write_then_recompute(
    kb: KnowledgeBase, remove: list[ox.Triple], add: list[ox.Triple], names: list[str] | None = None
) -> dict[str, list[ox.NamedNode]]:
    """Write a change and recompute the affected focus nodes of the rules, in one update (as the
    write path does): the foci are found on the store before the write, and for the nodes the
    change touches on the store after it. Returns the foci found before."""
    changed = changed_nodes(*remove, *add)
    chosen = [RULES[n] for n in names] if names else list(RULES.values())
    foci = {rule.name: sorted(domain_rules.affected_foci(kb, rule, changed), key=str) for rule in chosen}
    parts = []
    if remove:
        parts.append(f"DELETE DATA {{ {data_block(remove)} }}")
    if add:
        parts.append(f"INSERT DATA {{ {data_block(add)} }}")
    using = list(USING)
    for rule in chosen:
        parts.append(domain_rules.focus_update(rule, using, foci[rule.name], changed))
        using.append(rule.graph)
    kb.backend.update(" ;\n".join(p for p in parts if p))
    return foci


def recompute_all(kb: KnowledgeBase, names: list[str] | None = None) -> dict[str, set[ox.Triple]]:
    using = list(USING)
    out = {}
    for rule in [RULES[n] for n in names] if names else RULES.values():
        kb.backend.update(domain_rules.full_update(rule, using))
        using.append(rule.graph)
        out[rule.name] = set(kb.triples(rule.graph))
    return out


def graphs_of(kb: KnowledgeBase) -> dict[str, set[ox.Triple]]:
    return {rule.name: set(kb.triples(rule.graph)) for rule in RULES.values()}


def test_moved_end_date_recomputes_only_the_pairs_of_its_member() -> None:
    kb = make_kb(ALLIANCES)
    recompute_all(kb)
    # stale triples about e (a member of another alliance) and about a (a member of the pact, but
    # not with b): recomputing only b's pairs with the pact's members keeps them
    stale = {ox.Triple(state("e"), ALLIED, state("zz")), ox.Triple(state("a"), ALLIED, state("zz"))}
    rows = " ".join(str(t) + " ." for t in stale)
    kb.backend.update(f"INSERT DATA {{ GRAPH {ox.NamedNode(RULES['allied-states'].graph)} {{ {rows} }} }}")

    end = ox.NamedNode(ALD + "endDate")
    old = ox.Triple(membership("pact-b"), end, ox.Literal("1960-06-30", datatype=ox.NamedNode(XSD_DATE)))
    new = ox.Triple(membership("pact-b"), end, ox.Literal("1960-06-29", datatype=ox.NamedNode(XSD_DATE)))
    foci = write_then_recompute(kb, [old], [new], ["allied-states"])

    # the pact's members (o, an organisation, is no focus of the rule's class: nothing is derived for it)
    organisation = ox.NamedNode(ID + "organisation/o")
    members = [organisation, *(state(c) for c in "abcg")]
    assert set(foci["allied-states"]) == {(state("b"), m) for m in members} | {(m, state("b")) for m in members}
    result = set(kb.triples(RULES["allied-states"].graph))
    assert result == (PACT_AND_GONE - allied("b-g")) | stale
    assert recompute_all(kb, ["allied-states"])["allied-states"] == result - stale


XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"


def test_dissolution_recomputes_every_rule_as_a_full_recomputation_would() -> None:
    kb = make_kb(ALLIANCES)
    recompute_all(kb)
    dissolved = ox.Triple(
        alliance("pact"),
        ox.NamedNode(ALD + "dissolutionDate"),
        ox.Literal("1958-01-01", datatype=ox.NamedNode(XSD_DATE)),
    )
    foci = write_then_recompute(kb, [], [dissolved])
    assert foci["dissolved-alliance"] == [alliance("pact")]
    incremental = graphs_of(kb)
    assert incremental["allied-states"] == allied("a-b", "e-h")  # c and g joined after 1958
    assert typed(alliance("pact"), "DissolvedAlliance") in incremental["dissolved-alliance"]
    assert recompute_all(kb) == incremental


def test_a_new_membership_is_found_on_the_store_after_the_write() -> None:
    kb = make_kb(ALLIANCES)
    recompute_all(kb)
    joined = data_triples('m:pact-d org:member s:d ; org:organization al:pact ; ald:startDate "1990-01-01"^^xsd:date .')
    # no foci from before the write: the membership does not exist yet, ald:affectedBy finds them after
    changed = [membership("pact-d")]
    rule = RULES["allied-states"]
    assert domain_rules.affected_foci(kb, rule, changed) == set()
    kb.backend.update(
        f"INSERT DATA {{ {data_block(joined)} }} ;\n" + domain_rules.focus_update(rule, USING, [], changed)
    )
    assert set(kb.triples(rule.graph)) == PACT_AND_GONE | allied("a-d", "c-d", "d-g")
    assert recompute_all(kb, ["allied-states"])["allied-states"] == PACT_AND_GONE | allied("a-d", "c-d", "d-g")


def test_a_removed_state_record_needs_the_foci_found_before_the_write() -> None:
    """Once a's type and memberships are gone, nothing links the changed nodes to a on the store
    after the write: only the evaluation before it finds a, whose outputs must go."""
    rule = RULES["allied-states"]
    record = [t for t in data_triples(ALLIANCES) if state("a") in (t.subject, t.object)]
    assert len(record) == 3  # its type and its two memberships' org:member
    removed = [
        t for t in data_triples(ALLIANCES) if t.subject in (state("a"), membership("pact-a"), membership("forum-a"))
    ]
    late = make_kb(ALLIANCES)
    recompute_all(late)
    late.backend.update(
        f"DELETE DATA {{ {data_block(removed)} }} ;\n"
        + domain_rules.focus_update(rule, USING, [], changed_nodes(*removed))
    )
    left = set(late.triples(rule.graph))
    # stale both ways: with a's memberships gone, no (a, b) pair is found after the write
    assert {ox.Triple(state("a"), ALLIED, state("b")), ox.Triple(state("b"), ALLIED, state("a"))} <= left

    kb = make_kb(ALLIANCES)
    recompute_all(kb)
    foci = write_then_recompute(kb, removed, [])
    assert (state("a"), state("b")) in foci["allied-states"]
    assert set(kb.triples(rule.graph)) == allied("b-g", "c-g", "e-h")
    assert recompute_all(kb) == graphs_of(kb)


def test_a_removed_alliance_record_needs_the_foci_found_before_the_write() -> None:
    kb = make_kb(FOUNDINGS)
    recompute_all(kb)
    record = [t for t in data_triples(FOUNDINGS) if t.subject == alliance("duo")]
    foci = write_then_recompute(kb, record, [])
    assert foci["alliance-type-by-founding-members"] == [alliance("duo")]
    assert typed(alliance("duo"), "BilateralAlliance") not in graphs_of(kb)["alliance-type-by-founding-members"]
    assert recompute_all(kb) == graphs_of(kb)


@pytest.mark.parametrize(
    ("turtle", "change"),
    [
        (REGIONS, "s:x ald:region r:europe ."),  # a member gets a second region
        (REGIONS, "m:gulf-z org:member s:z ; org:organization al:gulf ."),  # a member from elsewhere joins
        (POWERS, "s:y a ald:EmergingPower ."),  # a member becomes an emerging power
        (POWERS, "m:rising-usa org:member s:usa ; org:organization al:rising ."),
        (FOUNDINGS, 'm:solo-w org:member s:w ; org:organization al:solo ; ald:startDate "1999-01-01"^^xsd:date .'),
        (FOUNDINGS, 'al:undated ald:foundingDate "2000-01-01"^^xsd:date .'),
    ],
)
def test_additions_give_what_a_full_recomputation_gives(turtle: str, change: str) -> None:
    kb = make_kb(turtle)
    before = recompute_all(kb)
    write_then_recompute(kb, [], data_triples(change))
    incremental = graphs_of(kb)
    assert incremental != before
    assert recompute_all(kb) == incremental


@pytest.mark.parametrize(
    ("turtle", "removed_subject"),
    [
        (REGIONS, "membership/bridge-x"),  # bridge is left with members in Europe
        (POWERS, "state/usa"),  # the established power's records go
        (FOUNDINGS, "membership/trio-z"),  # trio has two founders left
        (ALLIANCES, "alliance/gone"),  # the alliance record goes (its memberships stay)
    ],
)
def test_removals_give_what_a_full_recomputation_gives(turtle: str, removed_subject: str) -> None:
    kb = make_kb(turtle)
    before = recompute_all(kb)
    gone = [t for t in data_triples(turtle) if t.subject == ox.NamedNode(ID + removed_subject)]
    write_then_recompute(kb, gone, [])
    incremental = graphs_of(kb)
    assert incremental != before
    assert recompute_all(kb) == incremental


def test_focus_update_with_nothing_to_do_is_empty() -> None:
    assert domain_rules.focus_update(RULES["allied-states"], USING, [], []) == ""


def test_terms_enter_update_texts_only_as_iris() -> None:
    with pytest.raises(TypeError):
        domain_rules.focus_update(RULES["dissolved-alliance"], USING, [ox.Literal("} ; DROP ALL ; {")], [])  # type: ignore[list-item]
    with pytest.raises(TypeError):  # a rule that recomputes pairs takes pairs of terms
        domain_rules.focus_update(RULES["allied-states"], USING, [state("a")], [])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        domain_rules.focus_update(RULES["allied-states"], USING, [(state("a"), "} ; DROP ALL ; {")], [])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        domain_rules.affected_foci(KnowledgeBase(), RULES["allied-states"], ["} ; DROP ALL ; {"])  # type: ignore[list-item]
    with pytest.raises(ValueError):  # pyoxigraph refuses what is not an IRI
        ox.NamedNode("http://x/> } ; DROP ALL ; {")


# -- premises ----------------------------------------------------------------------------------------


def store_triples(kb: KnowledgeBase) -> set[ox.Triple]:
    return {q.triple for q in kb.quads(kb.graphs())}


def test_premises_of_an_alliance_between_states() -> None:
    kb = make_kb(ALLIANCES)
    derive(kb, "allied-states")
    found = set(domain_rules.premises(kb, RULES["allied-states"], state("b"), state("g")))
    assert found <= store_triples(kb)
    expected = data_triples("""
        s:b a ald:State . s:g a ald:State .
        m:pact-b org:member s:b ; org:organization al:pact ; ald:startDate "1955-01-01"^^xsd:date ;
            ald:endDate "1960-06-30"^^xsd:date .
        m:pact-g org:member s:g ; org:organization al:pact ; ald:startDate "1960-06-30"^^xsd:date .
        al:pact ald:treaty t:pact-1960 . t:pact-1960 ald:hasProvision p:pact-1960-5 .
        p:pact-1960-5 a ald:DefenceProvision .
    """)
    assert found == set(expected)
    assert domain_rules.premises(kb, RULES["allied-states"], state("b"), state("c")) == []  # not allied


def test_premises_of_an_alliance_type() -> None:
    kb = make_kb(FOUNDINGS)
    found = set(
        domain_rules.premises(
            kb, RULES["alliance-type-by-founding-members"], alliance("duo"), ox.NamedNode(ALD + "BilateralAlliance")
        )
    )
    assert found == set(
        data_triples("""
        al:duo ald:foundingDate "2000-01-01"^^xsd:date .
        m:duo-x org:member s:x ; org:organization al:duo ; ald:startDate "2000-01-01"^^xsd:date .
        m:duo-y org:member s:y ; org:organization al:duo ; ald:startDate "1999-06-01"^^xsd:date .
    """)
    )


def test_premises_of_a_regional_partnership() -> None:
    kb = make_kb(REGIONS)
    found = set(
        domain_rules.premises(
            kb, RULES["regional-partnership"], alliance("gulf"), ox.NamedNode(ALD + "RegionalPartnership")
        )
    )
    assert found == set(
        data_triples("""
        m:gulf-x org:member s:x ; org:organization al:gulf . m:gulf-y org:member s:y ; org:organization al:gulf .
        s:x ald:region r:middle-east . s:y ald:region r:middle-east .
    """)
    )


def test_premises_of_a_dissolved_alliance() -> None:
    kb = make_kb(ALLIANCES)
    found = domain_rules.premises(
        kb, RULES["dissolved-alliance"], alliance("gone"), ox.NamedNode(ALD + "DissolvedAlliance")
    )
    assert found == data_triples('al:gone ald:dissolutionDate "1970-01-01"^^xsd:date .')


def test_premises_of_an_emerging_established_partnership() -> None:
    kb = make_kb(POWERS)
    found = set(
        domain_rules.premises(
            kb,
            RULES["emerging-established-partnership"],
            alliance("mix"),
            ox.NamedNode(ALD + "EmergingEstablishedPartnership"),
        )
    )
    assert found == set(
        data_triples("""
        m:mix-ind org:member s:ind ; org:organization al:mix . s:ind a ald:EmergingPower .
        m:mix-usa org:member s:usa ; org:organization al:mix . s:usa a ald:EstablishedPower .
    """)
    )


# -- the rule files ------------------------------------------------------------------------------------


def test_every_rule_is_loaded_in_order_with_label_comment_and_graph() -> None:
    loaded = domain_rules.load_rules(RULES_DIR)
    assert [r.name for r in loaded] == [
        "alliance-type-by-founding-members",
        "regional-partnership",
        "dissolved-alliance",
        "emerging-established-partnership",
        "allied-states",  # last: its large graph is not read by the others
    ]
    assert [r.order for r in loaded] == sorted(r.order for r in loaded)
    for rule in loaded:
        assert rule.iri == vocab.RULES_BASE + rule.name
        assert rule.label and len(rule.comment) > 80
        assert rule.graph == vocab.rule_graph_iri(rule.name) == INFERRED_GRAPH + "/rule/" + rule.name
        assert vocab.is_inferred_graph(rule.graph)
        assert rule.where.startswith("{") and rule.where.endswith("}")
        assert "PREFIX" not in rule.template + rule.where
    assert vocab.is_inferred_graph(INFERRED_GRAPH)
    assert not vocab.is_inferred_graph(ONTOLOGY_GRAPH)
    assert not vocab.is_inferred_graph(INFERRED_GRAPH + "-not")


def test_every_rule_term_is_in_the_ontology() -> None:
    onto = rdflib.Graph().parse(ROOT / "ontology" / "allianceld.ttl")
    declared = set(onto.subjects())
    for rule in RULES.values():
        texts = [rule.template, rule.where, *(domain_rules._prefix_free(q) for q in (rule.premises, rule.affected_by))]
        for iri in re.findall(r"<(https://w3id.org/allianceld/ontology#[^>]+)>", " ".join(texts)):
            assert rdflib.URIRef(iri) in declared, (rule.name, iri)


DISSOLVED = (RULES_DIR / "dissolved-alliance.ttl").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "$this a ald:DissolvedAlliance .\n}\nWHERE",
            "?other a ald:DissolvedAlliance .\n}\nWHERE {?other ?p ?o}\nWHERE",
            "does not parse",
        ),
        (
            "CONSTRUCT {\n  $this a ald:DissolvedAlliance .",
            "CONSTRUCT {\n  ?dissolved a ald:DissolvedAlliance .",
            "does not have $this as subject",
        ),
        (
            "CONSTRUCT {\n  $this a ald:DissolvedAlliance .",
            "CONSTRUCT {\n  $this a ald:DissolvedAlliance . _:b a ald:Alliance .",
            "does not have $this as subject",
        ),
        ('rdfs:label "dissolved alliance"@en ;', "", "no rdfs:label"),
        ("rdfs:comment", "rdfs:seeAlso", "no rdfs:comment"),
        ("ald:order 30 ;", "", "integer ald:order"),
        (
            '$this ald:dissolutionDate ?dissolved .\n}""" ;\n    ald:premises',
            '$this ald:dissolutionDate ?dissolved \n}""" ;\n    ald:premises',
            None,
        ),
        (
            'WHERE {\n  $this ald:dissolutionDate ?dissolved .\n}""" ;\n    ald:premises',
            'WHERE {\n  $this ald:dissolutionDate ?dissolved FILTER(\n}""" ;\n    ald:premises',
            "sh:construct does not parse",
        ),
        ("SELECT DISTINCT ?this", "SELECT DISTINCT ?this ?type", "select ?this, or ?this ?object, and nothing else"),
        # pairs: the template's object must then be ?object
        ("SELECT DISTINCT ?this", "SELECT DISTINCT ?this ?object", "every template triple's object must be ?object"),
        (
            "?changed a ald:Alliance .\n  BIND (?changed AS ?this)",
            "?node a ald:Alliance .\n  BIND (?node AS ?this)",
            "does not use ?changed",
        ),
        ("rule:dissolved-alliance a sh:SPARQLRule", "rule:other a sh:SPARQLRule", "must be <"),
    ],
)
def test_load_rules_refuses_a_bad_rule(tmp_path: Path, old: str, new: str, message: str | None) -> None:
    assert old in DISSOLVED
    (tmp_path / "dissolved-alliance.ttl").write_text(DISSOLVED.replace(old, new, 1), encoding="utf-8")
    if message is None:  # a variant that is still fine
        assert [r.name for r in domain_rules.load_rules(tmp_path)] == ["dissolved-alliance"]
        return
    with pytest.raises(ValueError, match=r"dissolved-alliance\.ttl") as raised:
        domain_rules.load_rules(tmp_path)
    assert message in str(raised.value)


def test_load_rules_refuses_a_template_about_another_node(tmp_path: Path) -> None:
    text = (RULES_DIR / "allied-states.ttl").read_text(encoding="utf-8")
    bad = text.replace("$this ald:alliedWith ?object .\n}", "?object ald:alliedWith $this .\n}", 1)
    assert bad != text
    (tmp_path / "allied-states.ttl").write_text(bad, encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"allied-states\.ttl: sh:construct: the template triple .* does not have \$this as subject"
    ):
        domain_rules.load_rules(tmp_path)


@pytest.mark.parametrize("turtle", [ALLIANCES, FOUNDINGS, REGIONS, POWERS])
def test_pyshacl_runs_the_rule_files_as_shacl_af_rules_with_the_same_result(turtle: str) -> None:
    """The files are standard SHACL-AF: pySHACL's rule engine derives what full_update does."""
    from pyshacl import shacl_rules

    kb = make_kb(turtle)
    ours = set().union(*recompute_all(kb).values())
    data = rdflib.Graph().parse(data=PREFIXES + turtle, format="turtle")
    shapes = rdflib.Graph()
    for path in sorted(RULES_DIR.glob("*.ttl")):
        shapes.parse(path)
    expanded = shacl_rules(data, shacl_graph=shapes, advanced=True, inplace=False)
    derived = {(s, p, o) for s, p, o, *_graph in expanded} - set(data)
    theirs = {ox.Triple(*(ox.NamedNode(str(x)) for x in t)) for t in derived}
    assert theirs == ours


# -- the shipped data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    """Ontology and shipped data, each in its graph; in the inferred graph the types implied by
    rdfs:subClassOf (NATO is recorded as an ald:MultilateralAlliance, not as an ald:Alliance);
    then every rule, in order."""
    graphs = {ONTOLOGY_GRAPH: ONTOLOGY}
    for path in sorted((ROOT / "data").glob("*.ttl")):
        graphs[data_graph_iri(path.stem)] = [q.triple for q in ox.parse(path=str(path))]
    kb = KnowledgeBase()
    kb.replace_graphs(graphs)
    using = "".join(f"USING {ox.NamedNode(g)} " for g in graphs)
    kb.backend.update(
        f"INSERT {{ GRAPH {ox.NamedNode(INFERRED_GRAPH)} {{ ?x a ?super }} }} {using}"
        "WHERE { ?x a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>+ ?super . FILTER (isIRI(?super)) }"
    )
    reads = [*graphs, INFERRED_GRAPH]
    for rule in RULES.values():
        kb.backend.update(domain_rules.full_update(rule, reads))
        reads.append(rule.graph)
    return kb


def allies_of(kb: KnowledgeBase, code: str) -> set[str]:
    graph = RULES["allied-states"].graph
    return {t.object.value.rsplit("/", 1)[1] for t in kb.triples(graph) if t.subject == state(code)}


def test_shipped_allies(shipped: KnowledgeBase) -> None:
    graph = set(shipped.triples(RULES["allied-states"].graph))
    # NATO, the 1992 Collective Security Treaty (its nine parties include the CSTO's seven), GCC, US-Japan
    assert len(graph) == 32 * 31 + 9 * 8 + 6 * 5 + 2
    assert allied("bel-usa", "fra-gbr", "esp-prt", "swe-tur", "rus-uzb", "kwt-sau", "jpn-usa") <= graph
    assert allies_of(shipped, "jpn") == {"usa"}
    assert allies_of(shipped, "ind") == set()  # the Quad, ADMM-Plus and the US partnership have no defence provision
    assert "uzb" in allies_of(shipped, "rus") and "usa" not in allies_of(shipped, "uzb")


def test_shipped_alliance_types(shipped: KnowledgeBase) -> None:
    assert set(shipped.triples(RULES["alliance-type-by-founding-members"].graph)) == {
        typed(alliance("us-japan-alliance"), "BilateralAlliance"),
        typed(alliance("us-india-partnership"), "BilateralAlliance"),
        typed(alliance("gcc"), "MultilateralAlliance"),
        typed(alliance("admm-plus"), "MultilateralAlliance"),
        typed(alliance("quad"), "MultilateralAlliance"),  # four founding members in 2007
        # not NATO, the CSTO or the 1992 treaty: founded (signed) before their memberships start (entry into force)
    }
    assert set(shipped.triples(RULES["regional-partnership"].graph)) == {typed(alliance("gcc"), "RegionalPartnership")}
    assert set(shipped.triples(RULES["dissolved-alliance"].graph)) == set()
    assert set(shipped.triples(RULES["emerging-established-partnership"].graph)) == {
        typed(alliance(a), "EmergingEstablishedPartnership") for a in ("quad", "us-india-partnership", "admm-plus")
    }


def test_every_shipped_inference_has_premises_in_the_store(shipped: KnowledgeBase) -> None:
    present = store_triples(shipped)
    for rule in RULES.values():
        for t in shipped.triples(rule.graph):
            found = domain_rules.premises(shipped, rule, t.subject, t.object)
            assert found and set(found) <= present, (rule.name, t)


def test_allies_on_a_date_leave_out_a_suspended_member(shipped: KnowledgeBase) -> None:
    """Uzbekistan, suspended from the CSTO since 19 December 2012, has no ally on a day after it."""
    query = (ROOT / "docs" / "queries" / "allies-on-a-date.rq").read_text(encoding="utf-8")
    for day, uzbekistan_allied in (("2012-12-18", True), ("2015-01-01", False)):
        rows = shipped.select(query.replace('"1990-01-01"', f'"{day}"'))
        pairs = {(r["state"], r["ally"]) for r in rows}
        assert (str(ID + "state/kaz"), str(ID + "state/rus")) in pairs
        assert any(str(ID + "state/uzb") in p for p in pairs) == uzbekistan_allied, day


def test_allies_on_a_date_query_agrees_with_the_rule(shipped: KnowledgeBase) -> None:
    query = (ROOT / "docs" / "queries" / "allies-on-a-date.rq").read_text(encoding="utf-8")
    rows = shipped.select(query)
    pairs = {(r["state"], r["ally"]) for r in rows}
    assert len(pairs) == 16 * 15 // 2 + 6 * 5 // 2 + 1  # NATO's sixteen, the GCC's six, US-Japan
    graph = set(shipped.triples(RULES["allied-states"].graph))
    for a, b in pairs:
        assert ox.Triple(ox.NamedNode(a), ALLIED, ox.NamedNode(b)) in graph
    assert (str(ID + "state/deu"), str(ID + "state/esp")) in pairs
    assert not any(ID + "state/pol" in p for p in pairs)  # Poland joined NATO in 1999
