"""The shapes of events, exercises and claims of alliances: a complete record of each passes, and one
without its source, its date, its alliance or its benefit-or-challenge is refused with a violation on
that record, alone and beside the shipped data."""

from __future__ import annotations

import pytest
import rdflib

from allianceld.validation.validator import Validator

PREFIXES = """
@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix alliance: <https://w3id.org/allianceld/id/alliance/> .
@prefix state: <https://w3id.org/allianceld/id/state/> .
@prefix event: <https://w3id.org/allianceld/id/event/> .
@prefix activity: <https://w3id.org/allianceld/id/activity/> .
@prefix claim: <https://w3id.org/allianceld/id/claim/> .
<https://example.org/test-source> a prov:Entity ; dcterms:title "Test source"@en .
alliance:test-pact a ald:MultilateralAlliance ; rdfs:label "Test Pact"@en ;
    ald:foundingDate "2001-01-01"^^xsd:date ; prov:wasDerivedFrom <https://example.org/test-source> .
"""

EVENT = """
event:test-summit a ald:AllianceEvent ; rdfs:label "Test summit"@en ;
    ald:eventType ald:Summit ; ald:alliance alliance:test-pact ;
    ald:startDate "2014-09-04"^^xsd:date ; ald:endDate "2014-09-05"^^xsd:date ;
    prov:wasDerivedFrom <https://example.org/test-source> .
"""

EXERCISE = """
alliance:test-pact ald:cooperationActivity activity:test-exercise .
activity:test-exercise a ald:MilitaryExercise ; rdfs:label "Test exercise"@en ;
    ald:activityType ald:JointExercises ; ald:participant alliance:test-pact ;
    ald:startDate "2018-10-25"^^xsd:date ; ald:startDatePrecision ald:MonthPrecision ;
    prov:wasDerivedFrom <https://example.org/test-source> .
"""

CLAIM = """
claim:test-claim a ald:Claim ; rdfs:label "Test claim"@en ;
    ald:alliance alliance:test-pact ; ald:claimsChallenge ald:CapabilityDisparity ;
    ald:startDate "2014-01-01"^^xsd:date ; ald:startDatePrecision ald:YearPrecision ;
    ald:evidence event:test-summit ; ald:evidenceText "Members spend very differently on defence."@en ;
    prov:wasDerivedFrom <https://example.org/test-source> .
"""

ALDS = "https://w3id.org/allianceld/shapes#"
ID = "https://w3id.org/allianceld/id/"


def _graph(*records: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=PREFIXES + "".join(records), format="turtle")


def _violations(report, focus: str) -> set[str]:
    return {r.source_shape for r in report.violations if r.focus_node == ID + focus}


def test_a_complete_event_exercise_and_claim_pass(validator: Validator) -> None:
    report = validator.validate(_graph(EVENT, EXERCISE, CLAIM))
    assert report.violations == [], report.to_text()


BROKEN = [
    # (which record, text removed from it, the shape that refuses it, the record's id)
    ("event", "prov:wasDerivedFrom <https://example.org/test-source> .", "Source", "event/test-summit"),
    ("event", 'ald:startDate "2014-09-04"^^xsd:date ; ', "Event-date", "event/test-summit"),
    ("event", "ald:alliance alliance:test-pact ;", "Event-alliance", "event/test-summit"),
    ("event", "ald:eventType ald:Summit ;", "Event-type", "event/test-summit"),
    ("exercise", "prov:wasDerivedFrom <https://example.org/test-source> .", "Source", "activity/test-exercise"),
    ("exercise", 'ald:startDate "2018-10-25"^^xsd:date ; ', "Event-date", "activity/test-exercise"),
    (
        "exercise",
        "alliance:test-pact ald:cooperationActivity activity:test-exercise .",
        "Exercise-alliance",
        "activity/test-exercise",
    ),
    ("exercise", "ald:participant alliance:test-pact ;", "Exercise-participant", "activity/test-exercise"),
    ("claim", "prov:wasDerivedFrom <https://example.org/test-source> .", "Source", "claim/test-claim"),
    ("claim", "ald:alliance alliance:test-pact ;", "Event-alliance", "claim/test-claim"),
    ("claim", "ald:claimsChallenge ald:CapabilityDisparity ;", "Claim-benefitOrChallenge", "claim/test-claim"),
    (
        "claim",
        'ald:evidence event:test-summit ; ald:evidenceText "Members spend very differently on defence."@en ;',
        "Claim-evidence",
        "claim/test-claim",
    ),
]


def _broken(record: str, removed: str) -> rdflib.Graph:
    texts = {"event": EVENT, "exercise": EXERCISE, "claim": CLAIM}
    assert removed in texts[record]
    # the source ends its record: the statement keeps its final "."
    texts[record] = texts[record].replace(removed, "." if removed.startswith("prov:") else "")
    return _graph(*texts.values())


@pytest.mark.parametrize(("record", "removed", "shape", "focus"), BROKEN, ids=[f"{b[0]}-{b[2]}" for b in BROKEN])
def test_an_incomplete_record_is_refused(
    validator: Validator, shared_kb, record: str, removed: str, shape: str, focus: str
) -> None:
    data = _broken(record, removed)
    for report in (validator.validate(data), validator.validate(data, shared_kb)):
        assert not report.accepted
        assert ALDS + shape in _violations(report, focus), report.to_text()


def test_a_claim_of_both_a_benefit_and_a_challenge_is_refused(validator: Validator) -> None:
    both = CLAIM.replace(
        "ald:claimsChallenge ald:CapabilityDisparity ;",
        "ald:claimsChallenge ald:CapabilityDisparity ; ald:claimsBenefit ald:Deterrence ;",
    )
    report = validator.validate(_graph(EVENT, both))
    assert ALDS + "Claim-benefitOrChallenge" in _violations(report, "claim/test-claim"), report.to_text()


def test_an_event_linked_to_a_non_membership_is_refused(validator: Validator) -> None:
    linked = EVENT.replace(
        "ald:eventType ald:Summit ;", "ald:eventType ald:Accession ; ald:startsMembership alliance:test-pact ;"
    )
    report = validator.validate(_graph(linked))
    assert ALDS + "Event-startsMembership" in _violations(report, "event/test-summit"), report.to_text()
