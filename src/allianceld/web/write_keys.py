"""Idempotency keys over HTTP: every writing request carries one (``Idempotency-Key``, or one the
server makes), recorded with the write (:mod:`allianceld.write.write_records`) and sent back in the
answer's ``Idempotency-Key`` header.

- A request whose key already landed is not written again: it is answered from the record, with
  ``Idempotency-Replayed: true``.
- A request whose key another request of this service is still writing is refused (409 ``write-in-flight``).
- A write the store did not answer in time is answered 202 ``write-outcome-unknown``, naming the key
  and ``GET /writes/<key>``, which tells from the store whether it landed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, g, jsonify, request

from allianceld.errors import AllianceldError, Conflict, NotFound, WriteOutcomeUnknown
from allianceld.store import KnowledgeBase
from allianceld.web.auth import require
from allianceld.web.http_errors import error_response
from allianceld.web.services import get_kb
from allianceld.write import write_records
from allianceld.write.write_records import Landed, Outcome

bp = Blueprint("writes", __name__)
HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
REMEMBERED = 10_000  # keys whose outcome this service lost, remembered (oldest forgotten first)

_lock = threading.Lock()
_in_flight: set[tuple[int, str]] = set()  # (id of the KnowledgeBase, key) of the writes under way here
_unknown: OrderedDict[tuple[int, str], None] = OrderedDict()  # writes whose answer this service lost


class WriteInFlight(Conflict):
    """Another request of this service is writing with the same key."""

    kind = "write-in-flight"


class WriteOutcomePending(Conflict):
    """This service lost the answer of the key's write, and the store does not show it (yet)."""

    kind = "write-outcome-pending"


class KeyReused(AllianceldError):
    """The key landed with another request (method and path) or another writer."""

    status = 422
    kind = "idempotency-key-reused"


class WriteNotLanded(NotFound):
    """No write with the key is in the store (yet)."""

    kind = "write-not-landed"


@dataclass(frozen=True)
class KeyedWrite:
    """One write's key, and the earlier write with that key when it already landed (``replay``)."""

    key: str
    request: str
    agent: str | None
    replay: Landed | None

    def record(
        self, status: int, *, location: str | None = None, contribution: str | None = None
    ) -> dict[str, list[ox.Triple]]:
        """The write's record, answering ``status`` (a ``provenance`` mapping for the gate)."""
        outcome = Outcome(status, self.request, self.agent, location=location, contribution=contribution)
        return write_records.record(self.key, outcome)


def request_key() -> str:
    """The request's key (checked; 400 when malformed), or a new one; kept for the answer's header."""
    sent = request.headers.get(HEADER)
    key = write_records.check_key(sent.strip()) if sent is not None else write_records.new_key()
    g.write_key = key
    return key


@contextmanager
def keyed(kb: KnowledgeBase, agent: str | None) -> Iterator[KeyedWrite]:
    """The request's :class:`KeyedWrite` while it is written: 409 ``write-in-flight`` when another request
    of this service is writing the same key, 409 ``write-outcome-unknown`` when this service lost the
    answer of its write and the store does not show it (yet), 422 when the key landed for another
    request or another writer."""
    key, what = request_key(), f"{request.method} {request.path}"
    slot = (id(kb), key)
    with _lock:
        if slot in _in_flight:
            raise WriteInFlight(
                f"a write with the Idempotency-Key {key!r} is under way; ask GET /writes/{key} for its outcome",
                key=key,
                check=f"/writes/{key}",
            )
        _in_flight.add(slot)
    try:
        found = write_records.landed(kb, key)
        if found is None and slot in _unknown:
            raise WriteOutcomePending(
                f"the outcome of the write with the Idempotency-Key {key!r} is still unknown: it may yet land. "
                f"Ask GET /writes/{key}; send the write again under a new key only once you decide it did not land",
                key=key,
                check=f"/writes/{key}",
            )
        if found is not None and (found.outcome.request != what or found.outcome.agent != agent):
            raise KeyReused(
                f"the Idempotency-Key {key!r} belongs to another write ({found.outcome.request}"
                + ("" if found.outcome.agent == agent else ", by another writer")
                + "): use a new key for a new write",
                parameter=HEADER,
            )
        yield KeyedWrite(key, what, agent, found)
    finally:
        with _lock:
            _in_flight.discard(slot)


def replayed(found: Landed, body: dict[str, object] | None = None) -> Response:
    """The answer to a retry of a landed write: its status and location, ``body`` (default: the record)."""
    outcome = found.outcome
    resp = jsonify({**(body if body is not None else found.to_json()), "replay": True})
    resp.status_code = outcome.status if outcome.status != 204 else 200  # 204 has no body: the record is one
    resp.headers[REPLAYED] = "true"
    if outcome.location:
        resp.headers["Location"] = outcome.location
    return resp


@bp.get("/writes/<key>")
def outcome(key: str) -> Response:
    """Whether the write with ``key`` landed (200 with its record) or not (yet): 404 ``write-not-landed``."""
    require("contributor")
    write_records.check_key(key)
    kb = get_kb()
    found = write_records.landed(kb, key)
    if found is not None:
        return jsonify(found.to_json())
    slot = (id(kb), key)
    state = "in-flight" if slot in _in_flight else "unknown" if slot in _unknown else "not-landed"
    raise WriteNotLanded(
        f"no write with the Idempotency-Key {key!r} has landed in the store"
        + {"in-flight": " yet: it is under way", "unknown": " yet: its outcome is unknown", "not-landed": ""}[state],
        key=key,
        state=state,
    )


def init_app(app: Flask) -> None:
    """The 202 answer of a write whose outcome is unknown, and the key in the answer to every keyed write."""

    @app.errorhandler(WriteOutcomeUnknown)
    def _unknown_outcome(exc: WriteOutcomeUnknown) -> Response:
        key = g.get("write_key")
        details = exc.to_json()
        message = details.pop("message")
        details.pop("error", None), details.pop("status", None)
        if key is None:  # a write without a key (none of the HTTP paths): a plain failure to answer
            return error_response(504, "write-outcome-unknown", message, **details)
        with _lock:
            _unknown[(id(get_kb()), key)] = None
            while len(_unknown) > REMEMBERED:
                _unknown.popitem(last=False)
        check = f"/writes/{key}"
        resp = error_response(
            202,
            "write-outcome-unknown",
            f"{message}; ask GET {check} whether it landed",
            key=key,
            check=check,
            **details,
        )
        resp.headers["Location"] = check
        return resp

    @app.after_request
    def _key_header(resp: Response) -> Response:
        key = g.get("write_key")
        if key is not None:
            resp.headers[HEADER] = key
        return resp

    app.register_blueprint(bp)
