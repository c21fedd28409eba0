"""Bearer-token authentication for the management API."""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.exceptions import HTTPException

CHALLENGE = {"WWW-Authenticate": "Bearer"}
# The one principal the management API knows: whoever holds the admin token.
ADMIN = "admin"


def principal(header: str, admin_token: str) -> str | None:
    """Who an ``Authorization`` header authenticates (:data:`ADMIN`), or None.

    ``Bearer <admin token>``, the scheme in any case and spaces around the token ignored: every
    form this accepts is the same caller (``api.idempotency`` keys its cache on the answer).
    """
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), admin_token.encode()
    ):
        return None
    return ADMIN


async def require_admin(request: Request) -> None:
    """Accept only ``Authorization: Bearer <admin token>``."""
    header = request.headers.get("authorization")
    if not header:
        raise HTTPException(401, "missing Authorization header (Bearer token)", headers=CHALLENGE)
    if principal(header, request.app.state.admin_token) is None:
        raise HTTPException(401, "invalid token", headers=CHALLENGE)
