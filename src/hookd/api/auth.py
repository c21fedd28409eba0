"""Bearer-token authentication for the management API."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from starlette.exceptions import HTTPException

from hookd.api.request_log import record_of

CHALLENGE = {"WWW-Authenticate": "Bearer"}
# The one principal the management API knows today: whoever holds the admin token.
ADMIN = "admin"


def token_digest(token: bytes) -> bytes:
    """What is kept of an API key: its SHA-256 (keys are random, 256 bits, so no salt or
    stretching is needed to make the digest useless to whoever reads it)."""
    return hashlib.sha256(token).digest()


class ApiKeys:
    """The keys the API accepts, kept only as digests: the plain admin token is dropped once
    hashed. Today one key, the admin token; scoped keys (stored hashed too, shown once at
    creation) will answer ``principal`` with their scope instead of ``"admin"``."""

    def __init__(self, admin_digest: bytes) -> None:
        self._admin = admin_digest

    @classmethod
    def admin(cls, token: str) -> ApiKeys:
        return cls(token_digest(token.encode()))

    def principal(self, token: bytes) -> str | None:
        """Who ``token`` is (:data:`ADMIN`), or ``None`` for a token the API does not know."""
        return ADMIN if hmac.compare_digest(token_digest(token), self._admin) else None

    def authorization(self, header: bytes) -> str | None:
        """The principal of an ``Authorization: Bearer <token>`` header's value: the scheme in
        any case and spaces around the token ignored, so every form this accepts is the same
        caller (``api.idempotency`` keys its cache on the answer)."""
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        return self.principal(token.strip())


async def require_admin(request: Request) -> None:
    """Accept only ``Authorization: Bearer <admin token>``."""
    header = request.headers.get("authorization")
    if not header:
        raise HTTPException(401, "missing Authorization header (Bearer token)", headers=CHALLENGE)
    keys: ApiKeys = request.app.state.api_keys
    principal = keys.authorization(header.encode("latin-1"))
    if principal != ADMIN:
        raise HTTPException(401, "invalid token", headers=CHALLENGE)
    record = record_of(request.scope)
    if record is not None:
        record.principal = principal  # for the request's log line
