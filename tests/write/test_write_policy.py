"""The write policy is one object: the shapes, the domain rules and the DL checks the gate is given."""

from __future__ import annotations

import dataclasses

import pyoxigraph as ox
import pytest
from flask import Flask

from allianceld.config import Settings
from allianceld.reasoning import domain_rules, materialise
from allianceld.store import KnowledgeBase
from allianceld.validation.validator import Validator
from allianceld.web.services import services
from allianceld.write import gate
from allianceld.write import write_policy as write_policy_module
from allianceld.write.write_policy import WritePolicy

THING = ox.Triple(ox.NamedNode("urn:test:a"), ox.NamedNode("urn:test:p"), ox.Literal("b"))


def test_the_validator_only_validates(validator: Validator) -> None:
    assert not hasattr(validator, "rules") and not hasattr(validator, "dl_checks")


def test_the_policy_holds_the_validator_and_the_settings_rules(
    write_policy: WritePolicy, validator: Validator, settings: Settings
) -> None:
    assert write_policy.validator is validator
    assert [r.name for r in write_policy.rules] == [r.name for r in domain_rules.load_rules(settings.rules_dir)]


def test_an_app_loads_the_domain_rules_once(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(domain_rules, "load_rules", lambda *a: calls.append(a) or [])
    monkeypatch.setattr(write_policy_module, "load_rules", lambda *a: calls.append(a) or [])
    with app.app_context():
        svc = services()
        svc._rules = None  # as a new app's services: the rules come from its write policy
        rules = svc.domain_rules()
        assert rules and all(a is b for a, b in zip(rules, svc.write_policy.rules, strict=True))
        assert svc.validator is svc.write_policy.validator
    assert calls == []


@pytest.mark.parametrize("dl_checks", [False, True])
def test_the_gate_runs_the_dl_check_when_the_policy_says_so(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch, dl_checks: bool
) -> None:
    checked: list[object] = []

    def verdict(check: object) -> materialise.Consistency:
        checked.append(check)
        return materialise.Consistency(True, "HermiT", "consistent")

    monkeypatch.setattr(gate.dl_check.WriteCheck, "verdict", verdict)
    policy = dataclasses.replace(write_policy, dl_checks=dl_checks)
    gate.commit(loaded_kb, policy, [gate.Source("urn:test:g", [THING], "test")], reason=False)
    assert len(checked) == (1 if dl_checks else 0)


def test_the_gate_recomputes_the_policys_rules_only(loaded_kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    seen: list[str] = []
    real = materialise.rule_updates

    def rule_updates(kb, rules, *args, **kwargs):
        seen.extend(r.name for r in rules)
        return real(kb, rules, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(materialise, "rule_updates", rule_updates)
        one = dataclasses.replace(write_policy, rules=write_policy.rules[:1])
        gate.commit(loaded_kb, one, [gate.Source("urn:test:g", [THING], "test")])
    assert seen == [write_policy.rules[0].name]
