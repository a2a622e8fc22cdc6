"""Importers of the published alliance data sets (ATOP, COW Formal Alliances) into the ontology's terms."""

from allianceld.importers.common import Import, ImportFailed, ImportIncomplete, ImportRejected, LeftOut, commit_import

__all__ = ["Import", "ImportFailed", "ImportIncomplete", "ImportRejected", "LeftOut", "commit_import"]
