"""COW Formal Alliances v4.1: the member-level file (``alliance_v4.1_by_member.csv``) or a directed-dyad
file (``alliance_v4.1_by_directed.csv``), into alliances, treaties, provisions and memberships."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from allianceld.importers.common import (
    IMPORT_GRAPH_BASE,
    Import,
    ImportFailed,
    LeftOut,
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

# COW v4.1 ids of curated alliances, from the cow4id column of their ATOP records (atop.CURATED)
CURATED = {227: "nato", 233: "us-japan-alliance", 350: "csto"}
# COW's type flags and the provision classes: defence pact, neutrality, non-aggression, entente
# (an entente obliges the parties to consult in a crisis)
TYPES = {
    "defense": "DefenceProvision",
    "neutrality": "NeutralityProvision",
    "nonaggression": "NonAggressionProvision",
    "entente": "ConsultationProvision",
}
HOMEPAGE = "https://correlatesofwar.org/data-sets/formal-alliances/"


def _date(row: dict[str, str], prefix: str, where: str) -> tuple[str, str] | None:
    return row_date(row, f"{prefix}_year", f"{prefix}_month", f"{prefix}_day", where)


def build(kb: KnowledgeBase, paths: list[Path], *, tick: Tick | None = None) -> Import:
    """The RDF of a COW import, matched against the states and alliances curated in ``kb``."""
    data: list[tuple[Path, bool]] = []  # (file, directed dyads?)
    crosswalk = {}
    for path in paths:
        columns = set(header(path))
        if "version4id" in columns and "ccode1" in columns:
            data.append((path, True))
        elif "version4id" in columns and "ccode" in columns:
            data.append((path, False))
        elif is_state_list(path):
            crosswalk.update(read_crosswalk(path))
        else:
            raise ImportFailed(f"{path}: not a COW alliance member-level or directed-dyad file, nor a COW state list")
    if not data:
        raise ImportFailed("COW import needs the member-level or the directed-dyad file")
    spells: dict[int, dict[int, list[Spell]]] = defaultdict(lambda: defaultdict(list))
    begun: dict[int, list[tuple[str, str]]] = defaultdict(list)
    ended: dict[int, list[tuple[str, str] | None]] = defaultdict(list)
    kinds: dict[int, set[str]] = defaultdict(set)
    first: dict[int, str] = {}
    version = ""
    skipped: list[LeftOut] = []
    for path, dyads in data:
        for line, row in read_rows(path):
            where = f"{path}:{line}"
            if tick:
                tick()
            try:
                cid = integer(row, "version4id", where)
                member = integer(row, "ccode1" if dyads else "ccode", where)
                assert cid is not None and member is not None
                start = _date(row, "dyad_st" if dyads else "mem_st", where)
                end = _date(row, "dyad_end" if dyads else "mem_end", where)
                if start is None:
                    raise ImportFailed(f"{where}: no start year")
                if dyads and end is not None and end[0] < start[0]:  # a dyad that ends before it starts
                    raise ImportFailed(f"{where}: dyad ends ({end[0]}) before it starts ({start[0]})")
                alliance_start = start if dyads else _date(row, "all_st", where) or start
                alliance_end = end if dyads else _date(row, "all_end", where)
                row_kinds = {kind for column, kind in TYPES.items() if integer(row, column, where, required=False) == 1}
            except ImportFailed as exc:
                skipped.append(LeftOut(where, row_problem(exc, where)))
                continue
            version = version or (row.get("version") or "").strip()
            first.setdefault(cid, where)
            spells[cid][member].append(Spell(start, end, where))
            begun[cid].append(alliance_start)
            ended[cid].append(alliance_end)
            kinds[cid] |= row_kinds
    version = version or "4.1"
    imp = Import(IMPORT_GRAPH_BASE + f"cow-{version}")
    source = dataset_provenance(imp, f"cow-{version}", "Correlates of War Formal Alliances", HOMEPAGE, version, paths)
    imp.skipped.extend(skipped)
    states = States(kb, crosswalk, source)
    present = curated_alliances(kb)
    for cid in sorted(spells):
        curated = CURATED.get(cid)
        if curated and f"{ID_BASE}alliance/{curated}" in present:
            link_curated(imp, curated, {"cowAllianceId": cid}, first[cid])
            continue
        founded = min(begun[cid])
        # the alliance ends when its last member (or dyad) leaves; open while any is still in it
        ends = ended[cid]
        last = None if any(e is None for e in ends) else max(ends, key=lambda e: e[0] if e else "")
        alliance_with_members(
            imp,
            states,
            slug=f"cow-{cid}",
            label=f"COW alliance {cid} ({founded[0][:4]})",
            spells=spells[cid],
            founded=founded,
            ended=last,
            provisions=sorted(kinds[cid]),
            ids={"cowAllianceId": cid},
            source=source,
            where=first[cid],
        )
    imp.counts["members"] = len({m for by_member in spells.values() for m in by_member})
    return imp
