"""`allianceld migrate` (issue 8, point 6): a release with a new class in the ontology, a tightened
shape and one rule fewer. Stored data (a contribution) that violates the new shape stops the
migration with the report and nothing written; once the data is fixed, the ontology graph is
replaced, the inferences and rule graphs are those of the new ontology, the removed rule's graph
is gone, all in one write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.config import Settings
from allianceld.errors import ValidationFailed
from allianceld.operations import migration
from allianceld.operations.backup import ontology_digest
from allianceld.rdf import formats
from allianceld.reasoning import domain_rules, materialise
from allianceld.store import KnowledgeBase
from allianceld.validation.validator import Validator
from allianceld.vocab import ALD, INFERRED_GRAPH, ONTOLOGY_GRAPH, RULE_GRAPH_BASE
from allianceld.write import contributions
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT
from write.test_contributions import VALID

NEW_CLASS = """
ald:UpgradeTestClass a owl:Class ;
    rdfs:label "Upgrade test class"@en ;
    skos:definition "A class added by the migration test."@en .
ald:MultilateralAlliance rdfs:subClassOf ald:UpgradeTestClass .
"""
TIGHTER = """
alds:UpgradeTest-headquartersRequired a sh:NodeShape ;
    sh:targetClass ald:MultilateralAlliance ;
    sh:property alds:UpgradeTest-headquarters .
alds:UpgradeTest-headquarters a sh:PropertyShape ;
    sh:path ald:headquarters ;
    sh:minCount 1 ;
    sh:message "A multilateral alliance names its headquarters."@en .
"""
SHAPE = "https://w3id.org/allianceld/shapes#UpgradeTest-headquarters"
REMOVED_RULE = "allied-states"  # the last rule: no other reads its graph
NATO = ox.NamedNode("https://w3id.org/allianceld/id/alliance/nato")
TEST_PACT = "https://w3id.org/allianceld/id/alliance/test-pact"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """A copy of the ontology, rules and shapes as a next release would change them."""
    home = tmp_path_factory.mktemp("release")
    shutil.copytree(ROOT / "ontology", home / "ontology")
    shutil.copytree(ROOT / "shapes", home / "shapes")
    (home / "data").mkdir()
    with (home / "ontology" / "allianceld.ttl").open("a", encoding="utf-8") as f:
        f.write(NEW_CLASS)
    with (home / "shapes" / "allianceld.shapes.ttl").open("a", encoding="utf-8") as f:
        f.write(TIGHTER)
    (home / "ontology" / "rules" / f"{REMOVED_RULE}.ttl").unlink()
    return home


@pytest.fixture(scope="module")
def new_validator(release: Path) -> Validator:
    return Validator.from_settings(Settings(store_path=None, home=release))


def test_migrate_refuses_invalid_stored_data_then_upgrades_in_one_write(
    tmp_path: Path,
    small_store: KnowledgeBase,
    write_policy: WritePolicy,
    new_validator: Validator,
    release: Path,
    runner: CliRunner,
    monkeypatch,
) -> None:
    store = tmp_path / "store"
    small_store.snapshot(store)
    kb = KnowledgeBase(store)
    triples = formats.parse(VALID, ox.RdfFormat.TURTLE, source="test")
    contribution, _ = contributions.contribute(kb, write_policy, triples, agent="alice")  # no headquarters
    before = kb.dump()
    kb.close()

    # the command reads the release's files; its shapes, compiled once for the module, are handed over
    monkeypatch.setattr(Validator, "from_settings", classmethod(lambda cls, settings: new_validator))
    refused = runner.invoke(main, ["--store", str(store), "migrate"], env={"ALLIANCELD_HOME": str(release)})
    assert refused.exit_code == 1
    assert SHAPE in refused.output and TEST_PACT in refused.output and "nothing was written" in refused.output
    kb = KnowledgeBase(store)
    try:
        assert kb.dump() == before
        contributions.retract(kb, write_policy, contribution.id, agent="root")  # the data is fixed

        new = WritePolicy.from_settings(Settings(store_path=None, home=release), validator=new_validator)
        ontology = formats.parse_file(release / "ontology" / "allianceld.ttl")
        fixed = kb.dump()
        dry = migration.migrate(kb, new, ontology, dry_run=True)
        assert dry.ontology_changed and dry.ontology_added == 4 and not dry.written
        assert kb.dump() == fixed

        assert RULE_GRAPH_BASE + REMOVED_RULE in kb.graphs()
        writes = []
        write = kb.write
        monkeypatch.setattr(kb, "write", lambda *a, **k: (writes.append(a), write(*a, **k))[1])
        done = migration.migrate(kb, new, ontology)
        assert len(writes) == 1 and done.written and done.report.accepted
        assert ontology_digest(kb.triples(ONTOLOGY_GRAPH)) == ontology_digest(ontology)
        nato_types = {t.object for t in kb.triples(INFERRED_GRAPH) if t.subject == NATO}
        assert ox.NamedNode(str(ALD.UpgradeTestClass)) in nato_types
        assert RULE_GRAPH_BASE + REMOVED_RULE in done.dropped and RULE_GRAPH_BASE + REMOVED_RULE not in kb.graphs()

        # the same as recomputing from scratch with the new release
        inferred = set(kb.triples(INFERRED_GRAPH))
        derived = {g: set(kb.triples(g)) for g in kb.graphs() if g.startswith(RULE_GRAPH_BASE)}
        materialise.materialise(kb, domain_rules.load_rules(release / "ontology" / "rules"))
        assert set(kb.triples(INFERRED_GRAPH)) == inferred
        assert {g: set(kb.triples(g)) for g in kb.graphs() if g.startswith(RULE_GRAPH_BASE)} == derived

        again = migration.migrate(kb, new, ontology, dry_run=True)  # nothing left to change
        assert not again.ontology_changed and again.ontology_added == again.ontology_removed == 0
    finally:
        kb.close()


def test_migrate_force_writes_despite_violations_and_says_so(
    tmp_path: Path, small_store: KnowledgeBase, write_policy: WritePolicy, new_validator: Validator, release: Path
) -> None:
    store = tmp_path / "store"
    small_store.snapshot(store)
    kb = KnowledgeBase(store)
    try:
        contributions.contribute(kb, write_policy, formats.parse(VALID, ox.RdfFormat.TURTLE, source="t"), agent="a")
        new = WritePolicy.from_settings(Settings(store_path=None, home=release), validator=new_validator)
        ontology = formats.parse_file(release / "ontology" / "allianceld.ttl")
        with pytest.raises(ValidationFailed):
            migration.migrate(kb, new, ontology)
        done = migration.migrate(kb, new, ontology, force=True)
        assert done.written and done.report.violation_count == 1
        assert ontology_digest(kb.triples(ONTOLOGY_GRAPH)) == ontology_digest(ontology)
    finally:
        kb.close()


def test_migrate_gives_contributions_stored_without_a_digest_their_digest(
    tmp_path: Path, small_store: KnowledgeBase, write_policy: WritePolicy, settings: Settings
) -> None:
    """A contribution stored before duplicates were looked for has no digest in its record, so the
    same data posted again was committed a second time; after the migration it is refused as a
    duplicate. A retracted contribution is left as it is; a second migration has nothing to add."""
    store = tmp_path / "store"
    small_store.snapshot(store)
    kb = KnowledgeBase(store)
    try:
        triples = formats.parse(VALID, ox.RdfFormat.TURTLE, source="test")
        old, _ = contributions.contribute(kb, write_policy, triples, agent="alice")
        other = formats.parse(VALID.replace(b"test-pact", b"other-pact"), ox.RdfFormat.TURTLE, source="test")
        gone, _ = contributions.contribute(kb, write_policy, other, agent="alice")
        contributions.retract(kb, write_policy, gone.id, agent="root")
        # as it was stored before: the records without their dcat:checksum
        unchecked = {c.record: [t for t in kb.triples(c.record) if "checksum" not in str(t)] for c in (old, gone)}
        kb.write(unchecked)
        assert contributions.duplicate_of(kb, contributions.digest(triples)) is None

        ontology = formats.parse_file(settings.ontology_file)
        dry = migration.migrate(kb, write_policy, ontology, dry_run=True)
        assert dry.digests == [old.record] and dry.to_json()["digestsAdded"] == 1
        assert contributions.duplicate_of(kb, contributions.digest(triples)) is None  # nothing written
        done = migration.migrate(kb, write_policy, ontology)
        assert done.written and done.digests == [old.record]
        assert set(kb.triples(gone.record)) == set(unchecked[gone.record])  # retracted: no data to digest
        with pytest.raises(contributions.DuplicateContribution) as refused:
            contributions.contribute(kb, write_policy, triples, agent="bob")
        assert refused.value.details["id"] == old.id
        assert migration.migrate(kb, write_policy, ontology, dry_run=True).digests == []
    finally:
        kb.close()
