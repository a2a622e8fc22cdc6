"""The ontology parses, every term is labelled and defined, it is consistent, and its axioms work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS

from allianceld.reasoning import materialise
from allianceld.vocab import ALD, ONTOLOGY_IRI, ORG, SKOS
from conftest import ROOT, requires_java

ONTOLOGY = ROOT / "ontology" / "allianceld.ttl"


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY, format="turtle")


def test_exactly_one_versioned_ontology(onto: rdflib.Graph) -> None:
    ontologies = list(onto.subjects(RDF.type, OWL.Ontology))
    assert ontologies == [rdflib.URIRef(ONTOLOGY_IRI)]
    assert onto.value(ontologies[0], OWL.versionIRI) is not None


def _local_terms(onto: rdflib.Graph) -> set[rdflib.URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual)
    return {s for k in kinds for s in onto.subjects(RDF.type, k) if str(s).startswith(str(ALD))}


def test_every_term_has_label_and_definition(onto: rdflib.Graph) -> None:
    terms = _local_terms(onto)
    assert len(terms) > 100
    missing = [t for t in terms if (t, RDFS.label, None) not in onto or (t, SKOS.definition, None) not in onto]
    assert missing == []


# Every concept that PRODUCT.md's vocabulary section names has a term.
PRODUCT_TERMS = """
Alliance BilateralAlliance MultilateralAlliance RegionalPartnership CollectiveDefenceAlliance FlexibleCoalition
State EmergingPower InternationalOrganisation Treaty Provision DefenceProvision OffenceProvision NeutralityProvision
NonAggressionProvision ConsultationProvision Region foundingDate dissolutionDate foundingTreaty region headquarters
startDate endDate signingDate entryIntoForceDate hasProvision
FoundingMember Member Partner Observer Suspended
ResourcePooling IntelligenceSharing Interoperability Deterrence TechnologySharing CollectiveDefence CrisisManagement
ConflictPrevention DivergentNationalInterests CapabilityDisparity GeopoliticalTension ErosionOfTrust LogisticalBarriers
CommunicationBarriers JointExercises Training LogisticsSupport IntelligenceSharingActivity
DefenceTechnologyCollaboration PeaceSupport HumanitarianAndDisasterResponse CounterTerrorism
Transparency InterestMapping Backchannel MutualBenefit
DiplomaticNegotiation Mediation CommunicationChannels PartnershipAssessment Compatibility OperationalEfficiency
ResourceAllocation Cyber ArtificialIntelligence UnmannedSystems Space CooperationActivity NegotiationStrategy
ConflictResolutionMechanism TechnologyDomain Benefit Challenge
""".split()


@pytest.mark.parametrize("name", PRODUCT_TERMS)
def test_product_vocabulary_is_defined(onto: rdflib.Graph, name: str) -> None:
    term = ALD[name]
    assert (term, RDF.type, None) in onto, f"ald:{name} is not declared"
    assert (term, RDFS.label, None) in onto


def test_reuses_w3c_vocabularies(onto: rdflib.Graph) -> None:
    assert (ALD.Alliance, RDFS.subClassOf, ORG.FormalOrganization) in onto
    chain = onto.value(ORG.memberOf, OWL.propertyChainAxiom)
    assert list(rdflib.collection.Collection(onto, chain)) == [ORG.hasMembership, ORG.organization]
    assert (ORG.hasMember, OWL.inverseOf, ORG.memberOf) in onto
    assert (ALD.State, OWL.disjointWith, ALD.Alliance) in onto
    assert (ALD.MultilateralAlliance, OWL.disjointWith, ALD.BilateralAlliance) in onto


def test_no_shipped_data_asserts_derived_membership_shortcuts() -> None:
    for f in sorted((ROOT / "data").glob("*.ttl")):
        text = Path(f).read_text(encoding="utf-8")
        assert not re.search(r"\borg:(memberOf|hasMember)\b", text), f"{f.name} asserts a derived property"


@requires_java
def test_hermit_finds_the_ontology_consistent(onto: rdflib.Graph) -> None:
    verdict = materialise.ontology_consistency(onto)
    assert verdict.consistent is True, verdict.message
    assert verdict.message == "consistent"


A = "https://w3id.org/allianceld/id/"
ABOX = f"""
@prefix ald: <{ALD}> . @prefix org: <{ORG}> .
<{A}alliance/x> a ald:MultilateralAlliance ; ald:foundingTreaty <{A}treaty/x> .
<{A}treaty/x> a ald:Treaty ; ald:hasProvision <{A}provision/x-5> .
<{A}provision/x-5> a ald:DefenceProvision .
<{A}alliance/y> a ald:MultilateralAlliance ; ald:foundingTreaty <{A}treaty/y> .
<{A}treaty/y> a ald:Treaty ; ald:hasProvision <{A}provision/y-4> .
<{A}provision/y-4> a ald:ConsultationProvision .
"""


@requires_java
def test_hermit_classifies_collective_defence_alliances(onto: rdflib.Graph) -> None:
    data = rdflib.Graph().parse(data=ABOX, format="turtle")
    verdict = materialise.check_consistency([onto, data], watch=[str(ALD.CollectiveDefenceAlliance)])
    assert verdict.consistent is True
    assert verdict.classified[str(ALD.CollectiveDefenceAlliance)] == [f"{A}alliance/x"]


@requires_java
@pytest.mark.parametrize(
    "clash",
    [
        f"<{A}state/x> a ald:State, ald:Alliance .",
        f"<{A}alliance/z> a ald:BilateralAlliance, ald:MultilateralAlliance .",
        f"<{A}provision/z> a ald:DefenceProvision, ald:NeutralityProvision .",
    ],
)
def test_hermit_detects_disjointness_violations(onto: rdflib.Graph, clash: str) -> None:
    data = rdflib.Graph().parse(data=f"@prefix ald: <{ALD}> .\n{clash}", format="turtle")
    verdict = materialise.check_consistency([onto, data])
    assert verdict.consistent is False
    assert "inconsistent" in verdict.message


def test_rl_derives_membership_shortcuts_and_defined_class(onto: rdflib.Graph) -> None:
    data = rdflib.Graph().parse(
        data=ABOX
        + f"<{A}membership/m> a org:Membership ; org:member <{A}state/s> ; org:organization <{A}alliance/x> .",
        format="turtle",
    )
    inferred, _name = materialise.inferred_graph(onto + data)
    s, x = rdflib.URIRef(f"{A}state/s"), rdflib.URIRef(f"{A}alliance/x")
    assert (s, ORG.memberOf, x) in inferred  # the property chain
    assert (x, ORG.hasMember, s) in inferred  # its inverse
    assert (x, RDF.type, ALD.CollectiveDefenceAlliance) in inferred  # the defined class
    assert (rdflib.URIRef(f"{A}alliance/y"), RDF.type, ALD.CollectiveDefenceAlliance) not in inferred
    assert (x, RDF.type, ALD.Alliance) in inferred  # subclass tree
