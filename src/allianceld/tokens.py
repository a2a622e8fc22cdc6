"""Bearer tokens with roles, stored hashed (SHA-256) in a JSON file; compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROLES = ("contributor", "admin")  # each role may do what the ones before it may


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


class TokenStore:
    """The tokens of one deployment, in a JSON file ``[{"name", "role", "sha256"}]``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _entries(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        return json.loads(self.path.read_text(encoding="utf-8"))

    def create(self, name: str, role: str) -> str:
        """Make a new token for ``name`` with ``role``; only its hash is kept. Returns the token."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        entries = [e for e in self._entries() if e["name"] != name]
        entries.append({"name": name, "role": role, "sha256": _digest(token)})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)
        return token

    def authenticate(self, token: str) -> Principal | None:
        """The principal holding ``token``, or None. Every stored hash is compared, in constant time."""
        presented = _digest(token)
        found = None
        for entry in self._entries():
            if hmac.compare_digest(presented, entry["sha256"]):
                found = Principal(entry["name"], entry["role"])
        return found
