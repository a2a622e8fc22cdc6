"""What the ATOP and COW importers share: CSV rows with their line numbers, partial dates, states
matched to the curated ones, the import's named graph and provenance, and the write through the gate."""

from __future__ import annotations

import csv
import datetime
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from allianceld.errors import AllianceldError, ValidationFailed
from allianceld.store import KnowledgeBase
from allianceld.validation.report import Report
from allianceld.vocab import ALD, DCTERMS, GRAPH_BASE, ID_BASE, ORG, PROV
from allianceld.write import gate
from allianceld.write.graph_policy import LOCAL, Writer
from allianceld.write.write_policy import WritePolicy

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
OWL_SAME_AS = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
XSD = "http://www.w3.org/2001/XMLSchema#"
IMPORT_GRAPH_BASE = GRAPH_BASE + "import/"
STATE_BASE = ID_BASE + "state/"
# Namibia has no wikidata_id in datasets/country-codes (see the crosswalk's PROVENANCE.txt)
WIKIDATA_GAPS = {565: "Q1030"}

Tick = Callable[[], None]


class ImportFailed(AllianceldError):
    """A data file that cannot be imported: names the file, the line and the problem."""

    status = 400
    kind = "import-failed"


class ImportIncomplete(ImportFailed):
    """Rows that cannot be placed (a state code no state list knows, an alliance the alliance-level
    file lacks, a cell that is not a date): nothing is written unless a partial import is asked for."""

    kind = "import-incomplete"

    def __init__(self, left_out: list[LeftOut]) -> None:
        super().__init__(f"{len(left_out)} row(s) cannot be placed", rows=len(left_out))
        self.left_out = left_out


class ImportRejected(ValidationFailed):
    """The imported records violate the shapes; each result names the file and line it came from."""

    def __init__(self, report: Report, origins: dict[str, str]) -> None:
        super().__init__(report)
        self.origins = origins

    def to_text(self) -> str:
        """The report with each result's source row (``file:line``) in front of it."""
        lines = [self.report.to_text().splitlines()[0]]
        for r in sorted(self.report.results, key=lambda r: (r.severity, r.focus_node)):
            lines.append(f"{self.origins.get(r.focus_node, '(store)')}: {r}")
        return "\n".join(lines)


def nn(iri: str) -> ox.NamedNode:
    """An IRI term."""
    return ox.NamedNode(iri)


def ald(term: str) -> ox.NamedNode:
    """A term of the allianceld ontology."""
    return ox.NamedNode(str(ALD) + term)


def typed(value: object, datatype: str) -> ox.Literal:
    """A literal of an XSD datatype (``typed(1949, "integer")``)."""
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def english(text: str) -> ox.Literal:
    """A literal in English."""
    return ox.Literal(text, language="en")


@dataclass(frozen=True)
class LeftOut:
    """A row an import cannot place: where it is (``file:line``) and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def row_problem(error: ImportFailed, where: str) -> str:
    """An :class:`ImportFailed` message about one row, without the ``file:line:`` it starts with."""
    return error.message.removeprefix(f"{where}: ")


@dataclass
class Import:
    """The triples of one import, the graph they go to, where each record came from, and counts."""

    graph: str
    triples: list[ox.Triple] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # subject IRI -> "file:line"
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[LeftOut] = field(default_factory=list)  # rows that cannot be placed, each with why

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal, origin: str | None = None) -> None:
        self.triples.append(ox.Triple(s, p, o))
        if origin is not None:
            self.origins.setdefault(s.value, origin)

    def leave_out(self, where: str, reason: str) -> None:
        """Note a row that cannot be placed (it is written only by a partial import, as left out)."""
        self.skipped.append(LeftOut(where, reason))


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file as dicts, each with its line number (the header is line 1)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, row


def header(path: Path) -> list[str]:
    """The column names of a CSV file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def count_rows(paths: list[Path]) -> int:
    """Data rows in some CSV files (for a progress bar)."""
    return sum(sum(1 for _ in read_rows(p)) for p in paths)


def integer(row: dict[str, str], column: str, where: str, *, required: bool = True) -> int | None:
    """A column's integer value; empty cells (and the codebooks' -9) are None."""
    text = (row.get(column) or "").strip()
    if text in ("", "-9", "NA", "."):
        if required:
            raise ImportFailed(f"{where}: column {column!r} is empty")
        return None
    try:
        return int(float(text)) if text.endswith(".0") else int(text)
    except ValueError:
        raise ImportFailed(f"{where}: column {column!r} is not an integer: {text!r}") from None


PRECISIONS = {"day": ald("DayPrecision"), "month": ald("MonthPrecision"), "year": ald("YearPrecision")}


def partial_date(year: int | None, month: int | None, day: int | None, where: str) -> tuple[str, str] | None:
    """A date known to the day, month or year: the first possible day and the precision
    (never an invented day). None when the year is unknown or 0 (still in force)."""
    if not year:
        return None
    given = "-".join(str(part) for part in (year, month, day) if part)
    if not month:
        precision, month, day = "year", 1, 1
    elif not day:
        precision, day = "month", 1
    else:
        precision = "day"
    try:
        return datetime.date(year, month, day).isoformat(), precision
    except ValueError:
        raise ImportFailed(f"{where}: {given} is not a date") from None


def row_date(
    row: dict[str, str], year: str, month: str, day: str, where: str, *, required: bool = False
) -> tuple[str, str] | None:
    """The :func:`partial_date` of a row's year, month and day columns (the year column must be
    filled when ``required``)."""
    return partial_date(
        integer(row, year, where, required=required),
        integer(row, month, where, required=False),
        integer(row, day, where, required=False),
        where,
    )


def add_date(imp: Import, subject: ox.NamedNode, prop: str, precision_prop: str, value: tuple[str, str] | None) -> None:
    """The date and, when not known to the day, its precision (as the curated data records it)."""
    if value is None:
        return
    imp.add(subject, ald(prop), typed(value[0], "date"))
    if value[1] != "day":
        imp.add(subject, ald(precision_prop), PRECISIONS[value[1]])


def sha256(path: Path) -> str:
    """The SHA-256 digest of a file, in hexadecimal."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_provenance(
    imp: Import, slug: str, label: str, homepage: str, version: str, files: list[Path]
) -> ox.NamedNode:
    """PROV-O in the import graph: the data set (a prov:Entity with its version), the files read
    (with their checksums), the import activity that used them and generated the graph. No time
    stamp, so that importing the same files again writes the same triples."""
    dataset = nn(f"{ID_BASE}dataset/{slug}")
    activity = nn(f"{ID_BASE}import/{slug}")
    graph = nn(imp.graph)
    imp.add(dataset, RDF_TYPE, nn(str(PROV) + "Entity"))
    imp.add(dataset, RDFS_LABEL, english(f"{label}, version {version}"))
    imp.add(dataset, nn(str(DCTERMS) + "title"), english(f"{label}, version {version}"))
    imp.add(dataset, nn(str(DCTERMS) + "hasVersion"), ox.Literal(version))
    imp.add(dataset, nn(str(DCTERMS) + "source"), nn(homepage))
    imp.add(activity, RDF_TYPE, nn(str(PROV) + "Activity"))
    imp.add(activity, RDFS_LABEL, english(f"import of {label} {version}"))
    imp.add(graph, nn(str(PROV) + "wasGeneratedBy"), activity)
    imp.add(graph, nn(str(PROV) + "wasDerivedFrom"), dataset)
    for path in sorted(files, key=lambda p: p.name):
        entity = nn(f"{ID_BASE}dataset/{slug}/{path.name}")
        imp.add(entity, RDF_TYPE, nn(str(PROV) + "Entity"))
        imp.add(entity, RDFS_LABEL, ox.Literal(path.name))
        imp.add(entity, nn(str(DCTERMS) + "isPartOf"), dataset)
        imp.add(entity, ald("sha256"), ox.Literal(sha256(path)))
        imp.add(activity, nn(str(PROV) + "used"), entity)
    return dataset


@dataclass(frozen=True)
class CowState:
    ccode: int
    abbrev: str
    name: str
    iso2: str | None
    iso3: str | None
    qid: str | None


def read_crosswalk(path: Path) -> dict[int, CowState]:
    """COW state code -> letter code, name, ISO codes and Wikidata QID, from the crosswalk file
    (``cow_iso_wikidata_geonames_crosswalk.csv``) or the COW list (``cow_country_codes.csv``)."""
    states: dict[int, CowState] = {}
    for line, row in read_rows(path):
        where = f"{path}:{line}"
        code = integer(row, "ccode" if "ccode" in row else "CCode", where)
        assert code is not None
        abbrev = (row.get("stateabb") or row.get("StateAbb") or "").strip()
        name = (row.get("cow_statenme") or row.get("StateNme") or "").strip()
        states[code] = CowState(
            code,
            abbrev,
            name,
            (row.get("iso2c") or "").strip() or None,
            (row.get("iso3c") or "").strip() or None,
            (row.get("wikidata_qid") or "").strip() or WIKIDATA_GAPS.get(code),
        )
    return states


def is_state_list(path: Path) -> bool:
    """True for a COW state list (crosswalk or cow_country_codes.csv), by its columns."""
    names = {c.lower() for c in header(path)}
    return "ccode" in names and "stateabb" in names


class States:
    """COW state codes resolved to state IRIs: the curated state with that COW code (or with the
    ISO code the crosswalk gives), else a new state record, with ISO codes and the Wikidata link
    where the crosswalk knows them (``state/<iso3>``), or ``state/cow-<COW letter code>`` for a
    historical state without an ISO code (Bavaria, Austria-Hungary)."""

    def __init__(self, kb: KnowledgeBase, crosswalk: dict[int, CowState], source: ox.NamedNode) -> None:
        rows = kb.select(
            "SELECT ?s ?code WHERE { GRAPH ?g { ?s a ald:State ; ald:cowCode ?code } " + NOT_IMPORTED + " }",
            inference=False,
        )
        self.curated = {int(r["code"]): r["s"] for r in rows}
        self.curated_iris = set(kb_state_iris(kb))
        self.crosswalk = crosswalk
        self.source = source
        self.made: dict[int, str] = {}

    def iri(self, ccode: int, imp: Import, where: str) -> ox.NamedNode | None:
        """The state with COW code ``ccode``; a new state's record is added to ``imp`` once.
        None for a code no state list knows (the caller leaves its rows out)."""
        if ccode in self.curated:
            return nn(self.curated[ccode])
        if ccode in self.made:
            return nn(self.made[ccode])
        known = self.crosswalk.get(ccode)
        if known is None:  # e.g. ATOP's 8152, in no COW state list and not in the codebook
            return None
        iri = STATE_BASE + (known.iso3.lower() if known.iso3 else "cow-" + known.abbrev.lower())
        self.made[ccode] = iri
        if iri in self.curated_iris:  # curated under its ISO code, with another COW code
            return nn(iri)
        state = nn(iri)
        imp.add(state, RDF_TYPE, ald("State"), where)
        imp.add(state, RDFS_LABEL, english(known.name))
        imp.add(state, ald("cowCode"), typed(ccode, "integer"))
        imp.add(state, nn(str(PROV) + "wasDerivedFrom"), self.source)
        if known.iso3 and known.iso2:
            imp.add(state, ald("iso3166Alpha2"), ox.Literal(known.iso2))
            imp.add(state, ald("iso3166Alpha3"), ox.Literal(known.iso3))
        if known.qid:
            imp.add(state, OWL_SAME_AS, nn("http://www.wikidata.org/entity/" + known.qid))
        imp.counts["new states"] = imp.counts.get("new states", 0) + 1
        return state


# each import is self-contained: a state or alliance counts as curated only outside the import graphs
NOT_IMPORTED = f'FILTER (!STRSTARTS(STR(?g), "{IMPORT_GRAPH_BASE}"))'


def kb_state_iris(kb: KnowledgeBase) -> list[str]:
    """The states recorded outside the import graphs."""
    query = "SELECT ?s WHERE { GRAPH ?g { ?s a ald:State } " + NOT_IMPORTED + " }"
    return [r["s"] for r in kb.select(query, inference=False)]


def curated_alliances(kb: KnowledgeBase) -> set[str]:
    """The alliances recorded outside the import graphs (curated or contributed)."""
    query = "SELECT ?a WHERE { GRAPH ?g { ?a a ?c } ?c rdfs:subClassOf* ald:Alliance " + NOT_IMPORTED + " }"
    return {r["a"] for r in kb.select(query, inference=False)}


def membership(
    imp: Import,
    slug: str,
    alliance: ox.NamedNode,
    state: ox.NamedNode,
    start: tuple[str, str],
    end: tuple[str, str] | None,
    founding: bool,
    source: ox.NamedNode,
    where: str,
) -> None:
    """An org:Membership with its dated period, as the curated records have them."""
    m = nn(f"{ID_BASE}membership/{slug}")
    imp.add(m, RDF_TYPE, nn(str(ORG) + "Membership"), where)
    imp.add(m, nn(str(ORG) + "member"), state)
    imp.add(m, nn(str(ORG) + "organization"), alliance)
    imp.add(m, nn(str(ORG) + "role"), ald("FoundingMember" if founding else "Member"))
    add_date(imp, m, "startDate", "startDatePrecision", start)
    add_date(imp, m, "endDate", "endDatePrecision", end)
    imp.add(m, nn(str(PROV) + "wasDerivedFrom"), source)
    imp.counts["memberships"] = imp.counts.get("memberships", 0) + 1


def commit_import(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    imp: Import,
    *,
    partial: bool = False,
    writer: Writer = LOCAL,
    provenance: Mapping[str, list[ox.Triple]] | None = None,
) -> gate.CommitResult:
    """Write the import's graph through the gate (validated with the store's data, reasoned over),
    replacing what an earlier import of the same data set wrote. Raises :class:`ImportIncomplete`,
    writing nothing, when rows cannot be placed, unless ``partial`` (then the others are written);
    :class:`ImportRejected`, naming the rows behind each violation, when the records violate the shapes.
    ``writer``: who writes (a token's holder when the server imports for it; default this process);
    ``provenance``: records written in the same transaction (``gate.commit``)."""
    if imp.skipped and not partial:
        raise ImportIncomplete(imp.skipped)
    triples = sorted(set(imp.triples), key=str)
    try:
        return gate.commit(
            kb, write_policy, [gate.Source(imp.graph, triples, imp.graph)], writer=writer, provenance=provenance
        )
    except ValidationFailed as exc:
        raise ImportRejected(exc.report, imp.origins) from None


@dataclass
class Spell:
    """A member's continuous period in an alliance, from one or more rows (ATOP: one per phase)."""

    start: tuple[str, str]
    end: tuple[str, str] | None
    where: str


def merge_spells(spells: list[Spell]) -> list[Spell]:
    """Join periods that touch or overlap (a new phase that starts the day the last one ended)."""
    merged: list[Spell] = []
    for spell in sorted(spells, key=lambda s: s.start[0]):
        last = merged[-1] if merged else None
        if last is not None and (last.end is None or spell.start[0] <= last.end[0]):
            if last.end is not None and (spell.end is None or spell.end[0] > last.end[0]):
                last.end = spell.end
            continue
        merged.append(Spell(spell.start, spell.end, spell.where))
    return merged


def alliance_record(
    imp: Import,
    *,
    slug: str,
    label: str,
    members: int,
    founded: tuple[str, str],
    ended: tuple[str, str] | None,
    provisions: list[str],
    ids: dict[str, int | None],
    source: ox.NamedNode,
    where: str,
    named: bool = True,
) -> ox.NamedNode:
    """An alliance, its founding treaty (signed on the founding date when known to the day) and the
    treaty's provisions, one per obligation kind (``DefenceProvision`` …). Without ``named`` the
    alliance's own rdfs:label is left to the curated data (the treaty's and provisions' still use ``label``)."""
    alliance = nn(f"{ID_BASE}alliance/{slug}")
    treaty = nn(f"{ID_BASE}treaty/{slug}")
    derived = nn(str(PROV) + "wasDerivedFrom")
    # by the members the data names: two -> bilateral, three or more -> multilateral; an alliance
    # with fewer known members (one left out for an unknown state code) is typed ald:Alliance only
    kind = "BilateralAlliance" if members == 2 else "MultilateralAlliance" if members > 2 else "Alliance"
    imp.add(alliance, RDF_TYPE, ald(kind), where)
    if named:
        imp.add(alliance, RDFS_LABEL, english(label))
    add_date(imp, alliance, "foundingDate", "foundingDatePrecision", founded)
    add_date(imp, alliance, "dissolutionDate", "dissolutionDatePrecision", ended)
    imp.add(alliance, ald("foundingTreaty"), treaty)
    imp.add(alliance, derived, source)
    for prop, value in ids.items():
        if value is not None:
            imp.add(alliance, ald(prop), typed(value, "integer"))
    imp.add(treaty, RDF_TYPE, ald("Treaty"), where)
    imp.add(treaty, RDFS_LABEL, english(f"Agreement of {label}"))
    if founded[1] == "day":
        imp.add(treaty, ald("signingDate"), typed(founded[0], "date"))
    imp.add(treaty, derived, source)
    for kind in provisions:
        provision = nn(f"{ID_BASE}provision/{slug}-{kind.removesuffix('Provision').lower()}")
        imp.add(provision, RDF_TYPE, ald(kind), where)
        imp.add(provision, RDFS_LABEL, english(f"{kind.removesuffix('Provision')} obligation of {label}"))
        imp.add(treaty, ald("hasProvision"), provision)
    imp.counts["alliances"] = imp.counts.get("alliances", 0) + 1
    return alliance


def alliance_with_members(
    imp: Import,
    states: States,
    *,
    slug: str,
    label: str,
    spells: dict[int, list[Spell]],
    founded: tuple[str, str],
    ended: tuple[str, str] | None,
    provisions: list[str],
    ids: dict[str, int | None],
    source: ox.NamedNode,
    where: str,
    named: bool = True,
) -> None:
    """An alliance (:func:`alliance_record`) and the memberships of its members, from each member
    code's spells (merged); every row of a member whose code names no state is left out (``States.iri``)."""
    known = {m: states.iri(m, imp, ms[0].where) for m, ms in sorted(spells.items())}
    for member, member_spells in sorted(spells.items()):
        if known[member] is None:
            for spell in member_spells:
                imp.leave_out(spell.where, f"state code {member} is neither curated nor in the state list")
    alliance = alliance_record(
        imp,
        slug=slug,
        label=label,
        members=sum(1 for state in known.values() if state is not None),
        founded=founded,
        ended=ended,
        provisions=provisions,
        ids=ids,
        source=source,
        where=where,
        named=named,
    )
    for member, member_spells in sorted(spells.items()):
        state = known[member]
        if state is None:
            continue
        for n, spell in enumerate(merge_spells(member_spells), start=1):
            membership(
                imp,
                f"{slug}-{member}" + (f"-{n}" if n > 1 else ""),
                alliance,
                state,
                spell.start,
                spell.end,
                spell.start == founded,
                source,
                spell.where,
            )


def link_curated(imp: Import, curated_slug: str, ids: dict[str, int | None], where: str) -> None:
    """A curated alliance that is also in the data set gains the data set's identifier (in the
    import graph): linked, not duplicated; its curated memberships stay the only ones."""
    alliance = nn(f"{ID_BASE}alliance/{curated_slug}")
    for prop, value in ids.items():
        if value is not None:
            imp.add(alliance, ald(prop), typed(value, "integer"), where)
    imp.counts["linked to curated"] = imp.counts.get("linked to curated", 0) + 1
