"""Bearer-token authentication for the management API."""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.exceptions import HTTPException

CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def require_admin(request: Request) -> None:
    """Accept only ``Authorization: Bearer <admin token>``."""
    header = request.headers.get("authorization")
    if not header:
        raise HTTPException(401, "missing Authorization header (Bearer token)", headers=CHALLENGE)
    scheme, _, token = header.partition(" ")
    expected: str = request.app.state.admin_token
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise HTTPException(401, "invalid token", headers=CHALLENGE)
