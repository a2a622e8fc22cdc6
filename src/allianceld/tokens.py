"""Bearer tokens with roles, stored hashed (SHA-256) in a JSON file and/or given in the environment
(``ALLIANCELD_TOKEN_HASHES="name:role:sha256hex,…"``, hashes only); compared in constant time.
A token itself is shown once, when it is created, and never stored or logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from allianceld.config import Settings

ROLES = ("contributor", "admin")  # each role may do what the ones before it may
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to."""

    name: str
    role: str

    def has(self, role: str) -> bool:
        """True when this principal's role includes ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(name: str, role: str) -> tuple[str, dict[str, str]]:
    """A fresh random token for ``name`` with ``role`` and the entry that stores its hash."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    token = secrets.token_urlsafe(32)
    return token, {"name": name, "role": role, "sha256": _digest(token)}


def env_entry(entry: dict[str, str]) -> str:
    """The entry as one item of ``ALLIANCELD_TOKEN_HASHES`` (``name:role:sha256hex``)."""
    if not entry["name"] or any(c in entry["name"] for c in ":,"):
        raise ValueError(f"a token name in ALLIANCELD_TOKEN_HASHES cannot hold ':' or ',': {entry['name']!r}")
    return f"{entry['name']}:{entry['role']}:{entry['sha256']}"


def parse_token_hashes(text: str) -> list[dict[str, str]]:
    """The entries of an ``ALLIANCELD_TOKEN_HASHES`` value: ``name:role:sha256hex`` items separated
    by commas. Raises ValueError naming the item that is malformed (never echoing its hash).

    >>> [(e["name"], e["role"]) for e in parse_token_hashes("alice:contributor:" + "0" * 64)]
    [('alice', 'contributor')]
    """
    entries = []
    for n, item in enumerate(i.strip() for i in text.split(",")):
        if not item:
            continue
        name, _, rest = item.partition(":")
        role, _, digest = rest.partition(":")
        if not name or role not in ROLES or not _SHA256.fullmatch(digest.lower()):
            raise ValueError(
                f"ALLIANCELD_TOKEN_HASHES item {n + 1} ({name or '?'}) is not name:role:sha256hex "
                f"with a role among {', '.join(ROLES)} and 64 hex digits"
            )
        entries.append({"name": name, "role": role, "sha256": digest.lower()})
    return entries


class TokenStore:
    """The tokens of one deployment: a JSON file ``[{"name", "role", "sha256"}]`` plus ``extra``
    entries (from the environment), which are read-only."""

    def __init__(self, path: Path, *, extra: Sequence[dict[str, str]] = ()) -> None:
        self.path = path
        self.extra = list(extra)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenStore:
        """The tokens file of ``settings`` with the hashes of ``ALLIANCELD_TOKEN_HASHES``."""
        return cls(settings.tokens_file, extra=parse_token_hashes(settings.token_hashes))

    def _entries(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        return json.loads(self.path.read_text(encoding="utf-8"))

    def create(self, name: str, role: str) -> str:
        """Make a new token for ``name`` with ``role``; only its hash is kept. Returns the token."""
        token, entry = new_token(name, role)
        entries = [e for e in self._entries() if e["name"] != name]
        entries.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)
        return token

    def authenticate(self, token: str) -> Principal | None:
        """The principal holding ``token``, or None. Every stored hash is compared, in constant time.

        The token's SHA-256 digest is compared with each stored digest by :func:`hmac.compare_digest`,
        without stopping at a match: a guess that shares a prefix with a token takes no longer (its
        digest shares nothing), and neither the number of entries compared nor the match's place
        shows in the time. A dict keyed by digest would also hide the token, but its lookup time
        depends on hash buckets and string comparison of the digests; this loop is the simpler claim."""
        presented = _digest(token)
        found = None
        for entry in [*self._entries(), *self.extra]:
            if hmac.compare_digest(presented, entry["sha256"]):
                found = Principal(entry["name"], entry["role"])
        return found
