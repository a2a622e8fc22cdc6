"""ATOP (Alliance Treaty Obligations and Provisions) 5.x: the alliance-level and member-level CSV
files, read as their codebook describes them, into alliances, treaties, provisions and memberships."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from allianceld.importers.atop_labels import AllianceNames
from allianceld.importers.common import (
    IMPORT_GRAPH_BASE,
    Import,
    ImportFailed,
    Spell,
    States,
    Tick,
    alliance_with_members,
    curated_alliances,
    dataset_provenance,
    header,
    integer,
    is_state_list,
    link_curated,
    read_crosswalk,
    read_rows,
    row_date,
    row_problem,
)
from allianceld.store import KnowledgeBase
from allianceld.vocab import ID_BASE

# Curated alliances that are ATOP alliances, checked against the member-level file: 3180 begins
# 1949-04-04 with the twelve signatories of the North Atlantic Treaty; 3220 (1951-09-08) and 3375
# (1960-01-19) are the two US-Japan security treaties (COW codes 2 and 740); 4220 is the Collective
# Security Treaty signed at Tashkent on 1992-05-15 by Russia, Armenia, Kazakhstan, Kyrgyzstan,
# Tajikistan and Uzbekistan, the treaty the CSTO rests on.
CURATED = {3180: "nato", 3220: "us-japan-alliance", 3375: "us-japan-alliance", 4220: "csto"}
# the codebook's obligation variables and the ontology's provision classes
OBLIGATIONS = {
    "defense": "DefenceProvision",
    "offense": "OffenceProvision",
    "neutral": "NeutralityProvision",
    "nonagg": "NonAggressionProvision",
    "consul": "ConsultationProvision",
}
HOMEPAGE = "http://www.atopdata.org/"


def classify(paths: list[Path]) -> tuple[Path, Path, list[Path]]:
    """The alliance-level file, the member-level file and any state lists, told apart by their columns."""
    alliance_file = member_file = None
    states: list[Path] = []
    for path in paths:
        columns = set(header(path))
        if "atopid" in columns and "member" in columns:
            member_file = path
        elif "atopid" in columns and "begyr" in columns:
            alliance_file = path
        elif is_state_list(path):
            states.append(path)
        else:
            raise ImportFailed(f"{path}: not an ATOP alliance-level or member-level file, nor a COW state list")
    if alliance_file is None or member_file is None:
        raise ImportFailed("ATOP import needs both the alliance-level (atop*a.csv) and member-level (atop*m.csv) files")
    return alliance_file, member_file, states


def version_of(path: Path) -> str:
    """The release, from the published file name (atop5_0a.csv -> 5.0)."""
    found = re.search(r"atop(\d+)_(\d+)", path.name.lower())
    return f"{found.group(1)}.{found.group(2)}" if found else "unknown"


def build(kb: KnowledgeBase, paths: list[Path], *, tick: Tick | None = None) -> Import:
    """The RDF of an ATOP import, matched against the states and alliances curated in ``kb``."""
    alliance_file, member_file, state_files = classify(paths)
    version = version_of(alliance_file)
    imp = Import(IMPORT_GRAPH_BASE + f"atop-{version}")
    source = dataset_provenance(
        imp, f"atop-{version}", "Alliance Treaty Obligations and Provisions (ATOP)", HOMEPAGE, version, paths
    )
    crosswalk = {}
    for path in state_files:
        crosswalk.update(read_crosswalk(path))
    states = States(kb, crosswalk, source)
    names = AllianceNames(kb, states.curated, crosswalk)
    present = curated_alliances(kb)

    spells: dict[int, dict[int, list[Spell]]] = defaultdict(lambda: defaultdict(list))
    for line, row in read_rows(member_file):
        where = f"{member_file}:{line}"
        if tick:
            tick()
        try:
            atopid, member = integer(row, "atopid", where), integer(row, "member", where)
            start = row_date(row, "yrent", "moent", "dayent", where, required=True)
            end = row_date(row, "yrexit", "moexit", "dayexit", where)
        except ImportFailed as exc:
            imp.leave_out(where, row_problem(exc, where))
            continue
        if start is None:
            imp.leave_out(where, "no entry year (yrent)")
            continue
        spells[atopid][member].append(Spell(start, end, where))  # type: ignore[index]

    seen: set[int] = set()
    for line, row in read_rows(alliance_file):
        where = f"{alliance_file}:{line}"
        if tick:
            tick()
        atopid = None
        try:
            atopid = integer(row, "atopid", where)
            assert atopid is not None
            seen.add(atopid)
            ids = {"atopId": atopid, "cowAllianceId": integer(row, "cow4id", where, required=False)}
            founded = row_date(row, "begyr", "begmo", "begday", where, required=True)
            if founded is None:
                raise ImportFailed(f"{where}: no founding year (begyr)")
            ended = row_date(row, "endyr", "endmo", "endday", where)
            provisions = [k for column, k in OBLIGATIONS.items() if integer(row, column, where, required=False) == 1]
        except ImportFailed as exc:
            imp.leave_out(where, row_problem(exc, where))
            if atopid is not None:  # its members' rows go with it
                for member_spells in spells.pop(atopid, {}).values():
                    for spell in member_spells:
                        imp.leave_out(spell.where, f"the row of alliance {atopid} ({where}) cannot be placed")
            continue
        curated = CURATED.get(atopid)
        if curated and f"{ID_BASE}alliance/{curated}" in present:
            link_curated(imp, curated, ids, where)
            continue
        if atopid not in spells:
            imp.leave_out(where, f"ATOP alliance {atopid} has no members in {member_file.name}")
            continue
        generated = names.generated(provisions, spells[atopid], founded[0])
        names.add(imp, atopid, generated)
        alliance_with_members(
            imp,
            states,
            slug=f"atop-{atopid}",
            label=names.curated_name(atopid) or generated,
            named=names.curated_name(atopid) is None,
            spells=spells[atopid],
            founded=founded,
            ended=ended,
            provisions=provisions,
            ids=ids,
            source=source,
            where=where,
        )
    for atopid in sorted(set(spells) - seen):
        for member_spells in spells[atopid].values():
            for spell in member_spells:
                imp.leave_out(spell.where, f"ATOP alliance {atopid} is not in {alliance_file.name}")
    imp.counts["members"] = len({m for by_member in spells.values() for m in by_member})
    return imp
