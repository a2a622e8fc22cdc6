"""Bearer-token checks for write endpoints. Reads stay public."""

from __future__ import annotations

from flask import g, request

from allianceld.errors import Forbidden, Unauthorized
from allianceld.tokens import Principal
from allianceld.web.services import services


def require(role: str) -> Principal:
    """The principal of the request's bearer token; 401 without a valid token, 403 without ``role``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("this write needs a bearer token (Authorization: Bearer <token>)")
    principal = services().tokens.authenticate(token.strip())
    if principal is None:
        raise Unauthorized("the bearer token is not valid")
    g.agent = principal.name  # for the request log (web.request_log), whatever the answer
    if not principal.has(role):
        raise Forbidden(f"this write needs the {role} role; the token's role is {principal.role}")
    return principal
