"""Synthetic alliance data in the allianceld ontology's terms, of a requested approximate size.

Deterministic: the same ``triples`` and ``seed`` always give the same triples in the same order.
The records are shaped like ``data/*.ttl`` and meant to pass ``shapes/`` when loaded with the
ontology (and beside the shipped data: no IRI is shared with it except the ten regions, whose
two triples are repeated identically):

* the ten geographical regions of ``data/regions.ttl``;
* states ``id/state/<xyz>`` (three-letter codes no shipped state uses), with label, ISO codes,
  Correlates of War code, region, one ``owl:sameAs`` to a Wikidata-shaped IRI outside Wikidata's
  current range (Q900000000 and up) and a source;
* alliances ``id/alliance/syn-<n>`` of the ontology's types (``ald:BilateralAlliance``,
  ``ald:MultilateralAlliance``, some also ``ald:RegionalPartnership``), with label, founding date,
  sometimes a dissolution date, region, headquarters, benefits, founding treaty and a source;
* their founding treaties ``id/treaty/syn-<n>`` (signing and entry-into-force dates, the founders
  as signatories) and provisions ``id/provision/syn-<n>-article-<k>`` typed by the ATOP kinds;
* ``org:Membership`` nodes ``id/membership/syn-<n>-<xyz>``: member, alliance, role, start date
  (never before the founding, always before a dissolution), sometimes an end date and a date
  precision; bilateral alliances have exactly their two founders;
* ``prov:Entity`` sources with a title, cited by every record.

About 9 triples per state, ~60 per bilateral and ~150 per multilateral alliance with its treaty,
provisions and memberships (seven triples each, 16 per alliance on average). States number
``triples // 400`` (at least 30, at most what three letters allow); alliances are added until the
requested count is reached, so the result is within one alliance of it.

    >>> from generate import generate   # with benchmarks/ on sys.path
    >>> triples = generate(20_000, seed=0)
    >>> 20_000 <= len(triples) < 21_000
    True

Command line (N-Triples on stdout or to a file)::

    .venv/bin/python benchmarks/generate.py 200000 --seed 0 -o /tmp/alliances-200k.nt
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import re
import string
import sys
from itertools import product
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
WD = "http://www.wikidata.org/entity/"
SOURCE_BASE = "https://example.org/allianceld-synthetic/source/"

#: The geographical regions of data/regions.ttl (slug, English label).
REGIONS: list[tuple[str, str]] = [
    ("europe", "Europe"),
    ("north-america", "North America"),
    ("eurasia", "Eurasia"),
    ("middle-east", "Middle East"),
    ("east-asia", "East Asia"),
    ("south-asia", "South Asia"),
    ("southeast-asia", "Southeast Asia"),
    ("oceania", "Oceania"),
    ("africa", "Africa"),
    ("south-america", "South America"),
]
BENEFITS = [
    "ResourcePooling",
    "IntelligenceSharing",
    "Interoperability",
    "Deterrence",
    "TechnologySharing",
    "CollectiveDefence",
    "CrisisManagement",
    "ConflictPrevention",
]
PROVISION_KINDS = [
    "DefenceProvision",
    "OffenceProvision",
    "NeutralityProvision",
    "NonAggressionProvision",
    "ConsultationProvision",
]
NAME_WORDS = ["Mutual Defence", "Security", "Cooperation", "Friendship", "Collective", "Strategic", "Regional"]
NAME_KINDS = ["Pact", "Alliance", "Treaty Organization", "Partnership", "Council", "Entente"]
LAST_DAY = dt.date(2024, 12, 31)
FIRST_YEAR, LAST_YEAR = 1945, 2020


def alliance_iri(index: int) -> str:
    """The IRI of the synthetic alliance number ``index`` (numbered from 1 in generation order;
    every output of at least ~1,000 triples has alliance 1)."""
    return f"{ID}alliance/syn-{index}"


def region_iri(slug: str) -> str:
    return f"{ID}region/{slug}"


def shipped_state_codes() -> set[str]:
    """The ISO alpha-3 codes of the shipped states (data/states.ttl), which the generator avoids."""
    path = ROOT / "data" / "states.ttl"
    if not path.is_file():
        return set()
    return set(re.findall(r"^state:([a-z]{3}) a ald:State", path.read_text(encoding="utf-8"), re.MULTILINE))


class _Writer:
    """Collects triples, reusing the NamedNode objects of IRIs that recur."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []
        self._nodes: dict[str, ox.NamedNode] = {}
        self.date_type = self.iri(XSD + "date")

    def iri(self, value: str) -> ox.NamedNode:
        node = self._nodes.get(value)
        if node is None:
            node = self._nodes[value] = ox.NamedNode(value)
        return node

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        self.triples.append(ox.Triple(s, self.iri(p), o))

    def en(self, s: ox.NamedNode, p: str, text: str) -> None:
        self.add(s, p, ox.Literal(text, language="en"))

    def date(self, s: ox.NamedNode, p: str, day: dt.date) -> None:
        self.add(s, p, ox.Literal(day.isoformat(), datatype=self.date_type))


def _random_day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A day in [start, end] (start when end is not after it)."""
    span = (end - start).days
    return start + dt.timedelta(days=rng.randint(0, span)) if span > 0 else start


def _member_count(rng: random.Random, n_states: int) -> int:
    """Members of a multilateral alliance: 3 or more, skewed towards small (mean ~16)."""
    return min(n_states, 3 + int(rng.expovariate(1 / 13)), 150)


def generate(triples: int, seed: int = 0) -> list[ox.Triple]:
    """About ``triples`` triples (never fewer; at most one alliance's worth more) of synthetic
    states, alliances, treaties, provisions, memberships and sources, the same for the same seed."""
    collecting = gc.isenabled()
    gc.disable()  # millions of small objects, none cyclic: the collector would only slow this down
    try:
        return _generate(triples, random.Random(seed))
    finally:
        if collecting:
            gc.enable()


def _generate(triples: int, rng: random.Random) -> list[ox.Triple]:
    w = _Writer()

    # -- regions (identical to the shipped ones) and the sources cited by states ----------------
    regions = [w.iri(region_iri(slug)) for slug, _ in REGIONS]
    for node, (_, label) in zip(regions, REGIONS, strict=True):
        w.add(node, RDF + "type", w.iri(ALD + "Region"))
        w.en(node, RDFS + "label", label)

    def source(slug: str, title: str) -> ox.NamedNode:
        node = w.iri(SOURCE_BASE + slug)
        w.add(node, RDF + "type", w.iri(PROV + "Entity"))
        w.en(node, DCTERMS + "title", title)
        w.add(node, DCTERMS + "publisher", ox.Literal("allianceld synthetic data generator"))
        return node

    state_source = source("state-register", "Synthetic register of states (allianceld benchmarks)")

    # -- states --------------------------------------------------------------------------------
    taken = shipped_state_codes()
    codes = ["".join(c) for c in product(string.ascii_lowercase, repeat=3)]
    rng.shuffle(codes)
    codes = [c for c in codes if c not in taken]
    n_states = max(30, min(len(codes), triples // 400))
    states: list[tuple[ox.NamedNode, str]] = []
    by_region: list[list[int]] = [[] for _ in REGIONS]
    for i, code in enumerate(codes[:n_states]):
        node = w.iri(f"{ID}state/{code}")
        region = i % len(REGIONS)
        states.append((node, code))
        by_region[region].append(i)
        w.add(node, RDF + "type", w.iri(ALD + "State"))
        w.en(node, RDFS + "label", f"Synthetic State {code.upper()}")
        w.add(node, ALD + "iso3166Alpha2", ox.Literal(code[:2].upper()))
        w.add(node, ALD + "iso3166Alpha3", ox.Literal(code.upper()))
        w.add(node, ALD + "cowCode", ox.Literal(2 + i % 998))
        w.add(node, ALD + "region", regions[region])
        w.add(node, OWL + "sameAs", w.iri(f"{WD}Q{900_000_000 + i}"))
        w.add(node, PROV + "wasDerivedFrom", state_source)

    # -- alliances, their treaties, provisions and memberships -----------------------------------
    roles = {r: w.iri(ALD + r) for r in ("FoundingMember", "Member", "Partner", "Observer", "Suspended")}
    n = 0
    while len(w.triples) < triples:
        n += 1
        region = rng.randrange(len(REGIONS))
        bilateral = rng.random() < 0.25
        founded = _random_day(rng, dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31))
        dissolved = None
        if rng.random() < 0.15:
            dissolved = min(LAST_DAY, founded + dt.timedelta(days=rng.randint(5 * 365, 40 * 365)))
        until = dissolved or LAST_DAY  # memberships start before this day

        alliance = w.iri(alliance_iri(n))
        treaty = w.iri(f"{ID}treaty/syn-{n}")
        src = source(f"alliance-{n}", f"Synthetic record {n} of an alliance and its treaty")
        name = f"{REGIONS[region][1]} {rng.choice(NAME_WORDS)} {rng.choice(NAME_KINDS)} {n}"

        if bilateral:
            w.add(alliance, RDF + "type", w.iri(ALD + "BilateralAlliance"))
        else:
            w.add(alliance, RDF + "type", w.iri(ALD + "MultilateralAlliance"))
            if rng.random() < 0.3:
                w.add(alliance, RDF + "type", w.iri(ALD + "RegionalPartnership"))
        w.en(alliance, RDFS + "label", name)
        w.en(
            alliance,
            DCTERMS + "description",
            f"A synthetic alliance of {REGIONS[region][1]}, founded in {founded.year}.",
        )
        w.date(alliance, ALD + "foundingDate", founded)
        if dissolved is not None:
            w.date(alliance, ALD + "dissolutionDate", dissolved)
        w.add(alliance, ALD + "foundingTreaty", treaty)
        w.add(alliance, ALD + "region", regions[region])
        if not bilateral:
            w.add(alliance, ALD + "headquarters", ox.Literal(f"City {rng.randrange(1, 500)}"))
        for benefit in rng.sample(BENEFITS, rng.randint(1, 3)):
            w.add(alliance, ALD + "benefit", w.iri(ALD + benefit))
        if rng.random() < 0.8:
            w.add(alliance, OWL + "sameAs", w.iri(f"{WD}Q{950_000_000 + n}"))
        w.add(alliance, PROV + "wasDerivedFrom", src)

        # members: 70 % from the alliance's region, the others from anywhere
        wanted = 2 if bilateral else _member_count(rng, n_states)
        chosen: list[int] = []
        seen: set[int] = set()
        local = by_region[region]
        while len(chosen) < wanted:
            i = rng.choice(local) if rng.random() < 0.7 else rng.randrange(n_states)
            if i not in seen:
                seen.add(i)
                chosen.append(i)
        founders = chosen if bilateral else chosen[: max(2, len(chosen) // 3)]

        signed = _random_day(rng, founded - dt.timedelta(days=365), founded)
        w.add(treaty, RDF + "type", w.iri(ALD + "Treaty"))
        w.en(treaty, RDFS + "label", f"Founding Treaty of the {name}")
        w.date(treaty, ALD + "signingDate", signed)
        w.date(treaty, ALD + "entryIntoForceDate", _random_day(rng, signed, signed + dt.timedelta(days=400)))
        for i in founders:
            w.add(treaty, ALD + "signatory", states[i][0])
        for k, kind in enumerate(rng.sample(PROVISION_KINDS, rng.randint(1, 3)), start=1):
            article = 2 * k + rng.randrange(2)
            provision = w.iri(f"{ID}provision/syn-{n}-article-{article}")
            w.add(treaty, ALD + "hasProvision", provision)
            w.add(provision, RDF + "type", w.iri(ALD + kind))
            w.en(provision, RDFS + "label", f"Founding Treaty of the {name}, Article {article}")
            w.add(provision, ALD + "article", ox.Literal(f"Article {article}"))
            w.en(provision, RDFS + "comment", f"A synthetic {kind[: -len('Provision')].lower()} obligation.")
        w.add(treaty, PROV + "wasDerivedFrom", src)

        for j, i in enumerate(chosen):
            state, code = states[i]
            membership = w.iri(f"{ID}membership/syn-{n}-{code}")
            founder = bilateral or j < len(founders)
            if founder:
                start, role = founded, roles["FoundingMember"]
            else:
                start = _random_day(rng, founded + dt.timedelta(days=1), until - dt.timedelta(days=1))
                r = rng.random()
                role = roles["Partner"] if r < 0.05 else roles["Observer"] if r < 0.08 else roles["Member"]
            w.add(membership, RDF + "type", w.iri(ORG + "Membership"))
            w.add(membership, ORG + "member", state)
            w.add(membership, ORG + "organization", alliance)
            end = None
            if dissolved is not None:
                end = dissolved
            elif not bilateral and rng.random() < 0.2 and start < LAST_DAY - dt.timedelta(days=2):
                end = _random_day(rng, start + dt.timedelta(days=1), LAST_DAY)
                if rng.random() < 0.1:
                    role = roles["Suspended"]
            w.add(membership, ORG + "role", role)
            if not founder and rng.random() < 0.1 and start.day != 1 and start.replace(day=1) > founded:
                start = start.replace(day=1)  # known to the month: the first day, and the precision
                w.add(membership, ALD + "startDatePrecision", w.iri(ALD + "MonthPrecision"))
            w.date(membership, ALD + "startDate", start)
            if end is not None:
                w.date(membership, ALD + "endDate", end)
            w.add(membership, PROV + "wasDerivedFrom", src)
    return w.triples


def write_ntriples(triples: list[ox.Triple], output: str | Path | None = None) -> None:
    """Write ``triples`` as N-Triples to the file ``output`` (stdout when None)."""
    if output is None:
        ox.serialize(triples, sys.stdout.buffer, format=ox.RdfFormat.N_TRIPLES)
        sys.stdout.buffer.flush()
    else:
        ox.serialize(triples, str(output), format=ox.RdfFormat.N_TRIPLES)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("triples", type=int, help="approximate number of triples (the result has at least this many)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("-o", "--output", help="N-Triples file to write (default: stdout)")
    args = parser.parse_args(argv)
    triples = generate(args.triples, args.seed)
    write_ntriples(triples, args.output)
    if args.output:
        print(f"{len(triples)} triples written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
