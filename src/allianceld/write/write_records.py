"""Write records: each write carries an id (an idempotency key) recorded in the write's own transaction.

The record of the write with key ``k`` is added to the provenance graph ``vocab.WRITE_RECORDS_GRAPH``
(read-only to clients): its subject :func:`record_node` (``k`` hashed, so any key makes a valid IRI)
with the key, the writer, the request and the outcome the client was answered with. So "did write
``k`` land?" is answered by the store alone (:func:`landed`), whatever happened to the answer of the
update that carried it, and a retry of a landed write is answered from its record instead of being
written again.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from allianceld.errors import BadRequest, Conflict
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, PROV, WRITE_RECORDS_GRAPH
from allianceld.write.provenance import timestamp

#: what a client's key may be: URL-safe characters, so that it names its record at /writes/<key>
KEY = re.compile(r"[A-Za-z0-9._~:=+-]{1,200}")
IDEMPOTENCY_KEY = ox.NamedNode(str(ALD.idempotencyKey))
OUTCOME = ox.NamedNode(str(ALD.writeOutcome))
GENERATED_AT = ox.NamedNode(str(PROV.generatedAtTime))


@dataclass(frozen=True)
class Outcome:
    """What a write answered: ``status``, the ``location`` it created or changed, the
    ``contribution`` it made or retracted, who wrote (``agent``) and what (``request``: method and path)."""

    status: int
    request: str
    agent: str | None = None
    location: str | None = None
    contribution: str | None = None


@dataclass(frozen=True)
class Landed:
    """A write found in the store by its key."""

    key: str
    outcome: Outcome
    at: str

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "state": "landed", "at": self.at, **asdict(self.outcome)}


def new_key() -> str:
    """A fresh key, for a write whose client sent none."""
    return uuid.uuid4().hex


def check_key(key: str) -> str:
    """``key`` when it is a valid key; :class:`BadRequest` naming the problem otherwise."""
    if not KEY.fullmatch(key):
        raise BadRequest(
            "an Idempotency-Key is 1 to 200 characters among letters, digits and . _ ~ : = + - "
            f"(a UUID is a good one), not {key[:60]!r}",
            parameter="Idempotency-Key",
        )
    return key


def record_node(key: str) -> ox.NamedNode:
    """The subject of the record of the write with ``key``."""
    return ox.NamedNode(WRITE_RECORDS_GRAPH + "/" + hashlib.sha256(key.encode()).hexdigest()[:40])


def record(key: str, outcome: Outcome, *, at: datetime | None = None) -> dict[str, list[ox.Triple]]:
    """The record of a write, as a ``provenance`` mapping for ``gate.commit`` (added in the write's transaction)."""
    node = record_node(key)
    return {
        WRITE_RECORDS_GRAPH: [
            ox.Triple(node, IDEMPOTENCY_KEY, ox.Literal(key)),
            ox.Triple(node, OUTCOME, ox.Literal(json.dumps(asdict(outcome), sort_keys=True))),
            ox.Triple(node, GENERATED_AT, timestamp(at or datetime.now(UTC))),
        ]
    }


class KeyLanded(Conflict):
    """A write's key landed with another write while this one was made (through another allianceld
    service over the same store): this one is not written."""

    kind = "idempotency-key-landed"


def check_not_landed(kb: KnowledgeBase, records: list[ox.Triple]) -> None:
    """:class:`KeyLanded` when the key of a record among ``records`` (a write's, from :func:`record`) is
    in the store already: another service wrote with it after this write's key was looked up."""
    nodes = {t.subject for t in records if isinstance(t.subject, ox.NamedNode)}
    for quad in kb.match(nodes, [IDEMPOTENCY_KEY], graphs=[WRITE_RECORDS_GRAPH], limit=1):
        key = quad.object.value
        raise KeyLanded(
            f"a write with the Idempotency-Key {key!r} landed through another service while this one was made; "
            f"nothing of this one was stored: ask GET /writes/{key}",
            key=key,
            check=f"/writes/{key}",
        )


def landed(kb: KnowledgeBase, key: str) -> Landed | None:
    """The write with ``key`` as its record stores it, or None when no such write is in the store (yet)."""
    quads = kb.match([record_node(key)], [IDEMPOTENCY_KEY, OUTCOME, GENERATED_AT], graphs=[WRITE_RECORDS_GRAPH])
    values = {q.predicate: q.object.value for q in quads}
    if values.get(IDEMPOTENCY_KEY) != key or OUTCOME not in values:
        return None
    return Landed(key, Outcome(**json.loads(values[OUTCOME])), values.get(GENERATED_AT, ""))
