"""The write policy: what every write through the gate is checked against and what follows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from allianceld.reasoning import hermit
from allianceld.reasoning.domain_rules import DomainRule, load_rules
from allianceld.validation.validator import Validator


@dataclass(frozen=True)
class WritePolicy:
    """The shapes a write must conform to (``validator``), the domain rules recomputed after it
    (``rules``), and whether HermiT checks its consistency (``dl_checks``, with the warm HermiT
    ``hermit``, started on the first check). Built once per process (the command line, an app) and
    given to :func:`allianceld.write.gate.commit`."""

    validator: Validator
    rules: tuple[DomainRule, ...] = ()
    dl_checks: bool = False
    hermit: hermit.Worker = field(default_factory=hermit.Worker, compare=False, repr=False)

    def warm(self, *, one_shot: bool = False) -> None:
        """With ``dl_checks``, start HermiT's worker now, in the background (a write is coming), and
        have it check the ontology once, so that the first write's check finds its code loaded and
        compiled. ``one_shot``: for a command that writes once (:meth:`hermit.Worker.warm`)."""
        if self.dl_checks:
            ontology = self.validator.ontology
            self.hermit.warm(lambda: ontology.serialize(format="nt", encoding="utf-8"), one_shot=one_shot)

    def close(self) -> None:
        """End the HermiT worker's process, if it runs."""
        self.hermit.close()

    @classmethod
    def from_settings(cls, settings: Any, *, validator: Validator | None = None) -> WritePolicy:
        """The policy the settings describe: their shapes and ontology (or ``validator``), the
        domain rules of ``settings.rules_dir`` (none when it is missing), ``settings.dl_checks``."""
        if validator is None:
            validator = Validator.from_settings(settings)
        rules = load_rules(settings.rules_dir) if settings.rules_dir.is_dir() else []
        return cls(validator, tuple(rules), bool(getattr(settings, "dl_checks", False)))


__all__ = ["WritePolicy"]
