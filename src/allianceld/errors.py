"""Errors that carry their HTTP status and a message naming the problem."""

from __future__ import annotations

from typing import Any


class AllianceldError(Exception):
    """Base class: ``status`` is the HTTP status, ``kind`` a stable machine-readable name."""

    status = 500
    kind = "internal-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        """Errors cross from query worker processes to the app intact (class, message, details)."""
        return (_rebuild, (type(self), self.message, self.details))

    def to_json(self) -> dict[str, Any]:
        """The one JSON error shape used by every endpoint."""
        return {"error": self.kind, "status": self.status, "message": self.message, **self.details}


def _rebuild(cls: type[AllianceldError], message: str, details: dict[str, Any]) -> AllianceldError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.message, error.details = message, details
    return error


class RdfSyntaxError(AllianceldError):
    """Input that is not valid RDF in the declared syntax; names the source, line and column."""

    status = 400
    kind = "rdf-syntax-error"

    def __init__(self, message: str, *, source: str, line: int | None = None, column: int | None = None):
        where = source + (f":{line}" if line else "") + (f":{column}" if line and column else "")
        super().__init__(f"{where}: {message}", source=source, line=line, column=column)


class QuerySyntaxError(AllianceldError):
    status = 400
    kind = "query-syntax-error"


class BadRequest(AllianceldError):
    status = 400
    kind = "bad-request"


class UnsupportedMediaType(AllianceldError):
    status = 415
    kind = "unsupported-media-type"


class NotAcceptable(AllianceldError):
    status = 406
    kind = "not-acceptable"


class ValidationFailed(AllianceldError):
    """The data violates the shapes; carries the report. Nothing was written."""

    status = 422
    kind = "validation-failed"

    def __init__(self, report: Any) -> None:
        super().__init__(
            f"the data violates {report.violation_count} constraint(s); nothing was written",
            report=report.to_json(),
        )
        self.report = report


class InvalidShapes(AllianceldError):
    """The shapes graph is not well-formed SHACL (e.g. a SPARQL constraint the spec forbids, a
    malformed path or list): no data is validated against it."""

    kind = "invalid-shapes"


class Inconsistent(AllianceldError):
    """The write would make the knowledge base inconsistent (OWL 2 DL); carries the verdict
    (``reasoning.Consistency``, with its explanation when ``dl_check`` made one). Nothing was written."""

    status = 422
    kind = "inconsistent"
    consistency: Any = None  # not carried across processes (the JSON details are)

    def __init__(self, consistency: Any) -> None:
        explanation = getattr(consistency, "explanation", None)
        why = explanation.text if explanation is not None else consistency.message
        super().__init__(
            f"the write would make the knowledge base inconsistent (OWL 2 DL, {consistency.reasoner}); "
            f"nothing was written. {why}",
            individuals=explanation.individuals if explanation is not None else [],
            axioms=explanation.axioms if explanation is not None else [],
            consistency=consistency.to_json(),
        )
        self.consistency = consistency


class Unauthorized(AllianceldError):
    status = 401
    kind = "unauthorized"


class Forbidden(AllianceldError):
    status = 403
    kind = "forbidden"


class ResultTooLarge(AllianceldError):
    status = 400
    kind = "result-too-large"


class NotFound(AllianceldError):
    status = 404
    kind = "not-found"


class Conflict(AllianceldError):
    """The request contradicts the resource's state (e.g. retracting a retracted contribution)."""

    status = 409
    kind = "conflict"


class RemoteStoreError(AllianceldError):
    """The remote SPARQL endpoint failed or could not be reached."""

    status = 502
    kind = "remote-store-error"


class TooManyRequests(AllianceldError):
    """This client already has as much heavy work under way as one client may; ``retry_after_s``
    says when to try again (sent as ``Retry-After``)."""

    status = 429
    kind = "too-many-requests"


class ServerBusy(AllianceldError):
    """The server already does as much heavy work of this kind as it may at once; ``retry_after_s``
    says when to try again (sent as ``Retry-After``)."""

    status = 503
    kind = "server-busy"


class QueryTimeout(AllianceldError):
    """A query ran past the configured time limit and was stopped."""

    status = 503
    kind = "query-timeout"


class RemoteQueryTimeout(QueryTimeout):
    """The remote SPARQL endpoint did not answer within the time limit."""

    status = 504


class WriteOutcomeUnknown(AllianceldError):
    """A write was sent to the remote store, which did not answer in time (or dropped the connection):
    it may have been committed or not. Not a failure: the write's record tells, once it lands."""

    status = 202
    kind = "write-outcome-unknown"


class WriteConflict(Conflict):
    """Another allianceld service sharing the remote store wrote to it after this write had read it:
    nothing of this write was stored (``store.write_version``)."""

    kind = "write-conflict"
