"""``Idempotency-Key`` on POST: the same key gets the same response for 12 hours (Svix semantics).

The key is scoped by credentials, method and path. Only 2xx answers are kept, so a request that
failed can be retried with the same key. A request arriving while the first with its key is still
running waits for it (up to 5 s) and then gets its answer.

Message creates, the hot route, only get their scoped key here (``scope[CREATE_KEY]``): the
create's own transaction claims and answers it (``services/create_keys.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.engine import Row
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookd.api.auth import ApiKeys
from hookd.services.context import Context
from hookd.store import idempotency as store
from hookd.store.codec import to_ms
from hookd.store.group_commit import PerDatabase

STILL_RUNNING = "a request with this Idempotency-Key is still running"
# Where a message create finds its scoped key; its route claims it in the create transaction.
CREATE_KEY = "hookd.idempotency_key"
_CREATE_PATH = re.compile(r"/api/v1/app/[^/]+/msg")
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.2


def _scoped_key(scope: Scope, key: bytes) -> str:
    auth = dict(scope["headers"]).get(b"authorization", b"")
    digest = hashlib.sha256()
    for part in (
        auth,
        scope["method"].encode(),
        scope["path"].encode(),
        scope.get("query_string", b""),
        key,
    ):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


class Idempotency:
    """ASGI middleware replaying the stored response of a repeated ``Idempotency-Key``."""

    def __init__(self, app: ASGIApp, ctx: Context, api_keys: ApiKeys) -> None:
        self.app = app
        self.ctx = ctx
        self.api_keys = api_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = None
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = dict(scope["headers"])
            # Unauthenticated requests never reach the key store; the route answers them 401.
            if self.api_keys.authorization(headers.get(b"authorization", b"")) is not None:
                key = headers.get(b"idempotency-key")
        if not key:
            await self.app(scope, receive, send)
            return
        scoped = _scoped_key(scope, key)
        if _CREATE_PATH.fullmatch(scope["path"]):
            await self.app({**scope, CREATE_KEY: scoped}, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            now_ms = to_ms(self.ctx.clock())
            claim = store.KeyClaim(scoped, now_ms, now_ms + store.KEY_TTL_MS)
            existing = await _claims.submit(self.ctx.db, claim, sole_process=False)
            if existing is None:
                await self._run_and_keep(scoped, scope, receive, send)
                return
            row = existing._mapping
            if row["state"] == "done":
                answer = replayed(
                    row["status_code"], row["content_type"], store.answer_body(row["body"])
                )
                await answer(scope, receive, send)
                return
            if asyncio.get_running_loop().time() > deadline:
                body = orjson.dumps({"code": "conflict", "detail": STILL_RUNNING})
                await Response(body, 409, media_type="application/json")(scope, receive, send)
                return
            await asyncio.sleep(POLL_SECONDS)

    async def _run_and_keep(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        content_type = "application/json"
        chunks: list[bytes] = []

        async def capturing_send(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capturing_send)
        finally:
            answer = (
                (status, content_type, store.sealed_answer(b"".join(chunks)))
                if 200 <= status < 300
                else None
            )
            await _outcomes.submit(self.ctx.db, store.KeyOutcome(key, answer), sole_process=False)


def _claim_group(
    conn: Connection, claims: Sequence[store.KeyClaim], _cache: object
) -> list[Row[Any] | Exception | None]:
    return list(store.claim_keys(conn, claims))


def _settle_group(
    conn: Connection, outcomes: Sequence[store.KeyOutcome], _cache: object
) -> list[Exception | None]:
    store.settle_keys(conn, outcomes)
    return [None] * len(outcomes)


# The claims and the outcomes of concurrent requests are each written in one transaction
# (``store.group_commit``): two transactions of their own per request took the write turn from
# the creates' group commit, and a create with a key cost about ten times one without.
_claims: PerDatabase[store.KeyClaim, Row[Any] | None] = PerDatabase(_claim_group)
_outcomes: PerDatabase[store.KeyOutcome, None] = PerDatabase(_settle_group)


def replayed(status: int, content_type: str, body: bytes) -> Response:
    """The kept answer of a key, sent again and marked as such."""
    return Response(bytes(body), status, {"idempotent-replayed": "true"}, media_type=content_type)
