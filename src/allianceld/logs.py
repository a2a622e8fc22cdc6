"""Structured logs: one JSON object per line (time, level, logger, message, and the request's
fields when there is one), with secrets scrubbed out, for ``allianceld serve`` (Werkzeug or gunicorn).

Nothing here runs at import time: :func:`configure` is called by the ``serve`` command only.

>>> import io
>>> stream, log = io.StringIO(), logging.getLogger("allianceld.demo")
>>> log.addHandler(json_handler(stream))
>>> log.warning("sent Authorization: Bearer abc.def")
>>> json.loads(stream.getvalue())["message"]
'sent Authorization: Bearer [redacted]'
>>> log.handlers.clear()
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
# query parameters whose values are never logged (compared in lower case)
SECRET_PARAMETERS = frozenset({"token", "access_token", "api_key", "apikey", "key", "password", "secret"})
# the fields a request's log line carries besides the standard ones (see web.request_log)
REQUEST_FIELDS = ("method", "path", "query", "status", "duration_ms", "bytes", "remote", "request_id", "agent")
MAX_QUERY_CHARS = 2000  # a GET /sparql query string is logged up to this length

_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s\"',;]+")
_SECRET_PARAMETER = re.compile(
    r"(?i)\b(" + "|".join(sorted(SECRET_PARAMETERS, key=len, reverse=True)) + r")=[^&\s\"']+"
)
_MARK = "_allianceld_json"  # set on the handlers configure() adds, so a second call replaces them


def scrub(text: str) -> str:
    """``text`` with credentials (``Bearer …``, ``Basic …``) and secret query parameters
    (``token=…``, ``access_token=…``, …) replaced by ``[redacted]``.

    >>> scrub("GET /sparql?query=ASK&access_token=s3cr3t HTTP/1.1, Authorization: Bearer s3cr3t")
    'GET /sparql?query=ASK&access_token=[redacted] HTTP/1.1, Authorization: Bearer [redacted]'
    """
    text = _CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _SECRET_PARAMETER.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def redact_query(query: str) -> str:
    """A URL query string with the values of :data:`SECRET_PARAMETERS` replaced, cut to
    :data:`MAX_QUERY_CHARS` characters.

    >>> redact_query("query=ASK%7B%7D&token=abc")
    'query=ASK%7B%7D&token=[redacted]'
    """
    pairs = parse_qsl(query, keep_blank_values=True)
    cleaned = urlencode([(k, "-" if k.lower() in SECRET_PARAMETERS else v) for k, v in pairs])
    cleaned = scrub(cleaned)  # the values left out above, and a secret inside another parameter's value
    return cleaned if len(cleaned) <= MAX_QUERY_CHARS else cleaned[:MAX_QUERY_CHARS] + "…"


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, the :data:`REQUEST_FIELDS` the record has, and ``exception`` (the traceback);
    messages and tracebacks are :func:`scrub` bed."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        line: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for field in REQUEST_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        elif record.stack_info:
            line["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler (stderr by default) writing :class:`JsonFormatter` lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _MARK, True)
    return handler


def configure(level: str | int = "INFO", *, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record at ``level`` or above, as JSON lines, to ``stream`` (stderr by
    default), replacing the handler an earlier call added; returns the handler.

    Werkzeug's own request lines (the whole request line, query string included) are turned off:
    the app logs each request itself (``web.request_log``), with the secrets left out."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    handler = json_handler(stream)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return handler
