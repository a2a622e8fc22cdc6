"""Which IRIs may become links on the pages: the one check every template's ``href`` goes through.

Only ``http``, ``https`` and ``mailto`` IRIs link out, and this site's own pages link by their
path (``/id/...``, ``/contributions/...``) or by a fragment (``#Term``). Anything else (``javascript:``,
``data:``, ``vbscript:``, ``file:``, a network-path ``//host``, a relative reference, a value with
spaces or control characters a browser would strip before reading the scheme) is shown as text."""

from __future__ import annotations

import re

_OUT = re.compile(r"(?i:https?)://[^\s\x00-\x1f\x7f\\]+|(?i:mailto):[^\s\x00-\x1f\x7f\\/]+@[^\s\x00-\x1f\x7f\\]+")
_HERE = re.compile(r"/(?![/\\])[^\s\x00-\x1f\x7f\\]*|#[^\s\x00-\x1f\x7f\\]*")


def safe_href(value: object) -> str | None:
    """``value`` when it may be a link target (see the module's docstring), else None.

    >>> safe_href("https://example.org/a"), safe_href("/id/alliance/nato"), safe_href("#Alliance")
    ('https://example.org/a', '/id/alliance/nato', '#Alliance')
    >>> [safe_href(v) for v in ("javascript:alert(1)", " https://x", "//evil.example/", "data:,x", "a/b")]
    [None, None, None, None, None]
    """
    if value is None:
        return None
    text = str(value)
    return text if _OUT.fullmatch(text) or _HERE.fullmatch(text) else None
