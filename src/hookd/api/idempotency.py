"""``Idempotency-Key`` on POST: the same key gets the same response for 12 hours (Svix semantics).

The key is scoped by the authenticated caller (``api.auth.ApiKeys.authorization``: every form of the
``Authorization`` header authentication accepts is the same caller), method and path. The key
keeps a fingerprint of its first request (:func:`fingerprint`: query string and body); a request
with the key and another fingerprint is refused with 422 ``idempotency_key_mismatch`` (as Stripe
does) instead of being answered with the first one's response. Only 2xx answers are kept, so a
request that failed can be retried with the same key. A request arriving while the first with its
key is still running waits for it (up to 5 s) and then gets its answer.

Message creates, the hot route, only get their scoped key here (``scope[CREATE_KEY]``): the
route fingerprints the body it reads anyway, and the create's own transaction claims and answers
the key (``services/create_keys.py``).
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
from hookd.api.errors import error
from hookd.services.context import Context
from hookd.services.create_keys import KeyMismatch
from hookd.store import idempotency as store
from hookd.store.codec import to_ms
from hookd.store.group_commit import PerDatabase

STILL_RUNNING = "a request with this Idempotency-Key is still running"
# Where a message create finds its scoped key; its route claims it in the create transaction.
CREATE_KEY = "hookd.idempotency_key"
_CREATE_PATH = re.compile(r"/api/v1/app/[^/]+/msg")
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.2


def _scoped_key(caller: str, scope: Scope, key: bytes) -> str:
    digest = hashlib.sha256()
    for part in (caller.encode(), scope["method"].encode(), scope["path"].encode(), key):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def fingerprint(query: bytes, body: bytes) -> str:
    """What a key's request is, to tell a repeat from another request: its query string and its
    exact body bytes (the body hashed once)."""
    digest = hashlib.sha256(query)
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def mismatch_response() -> Response:
    """The 422 of a key reused for another request, as the API's error handler renders it."""
    refused = KeyMismatch()
    detail = [{"loc": list(refused.loc), "msg": refused.detail, "type": "value_error"}]
    return error(422, detail, refused.code)


class Idempotency:
    """ASGI middleware replaying the stored response of a repeated ``Idempotency-Key``."""

    def __init__(self, app: ASGIApp, ctx: Context, api_keys: ApiKeys) -> None:
        self.app = app
        self.ctx = ctx
        self.api_keys = api_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = caller = None
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = dict(scope["headers"])
            key = headers.get(b"idempotency-key")
            auth = headers.get(b"authorization")
            # Unauthenticated requests never reach the key store; the route answers them 401.
            if key and auth:
                caller = self.api_keys.authorization(auth)
        if not key or caller is None:
            await self.app(scope, receive, send)
            return
        scoped = _scoped_key(caller, scope, key)
        if _CREATE_PATH.fullmatch(scope["path"]):
            await self.app({**scope, CREATE_KEY: scoped}, receive, send)
            return
        body, receive = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its body: nothing to answer
        request_fingerprint = fingerprint(scope.get("query_string", b""), body)
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            now_ms = to_ms(self.ctx.clock())
            claim = store.KeyClaim(scoped, now_ms, now_ms + store.KEY_TTL_MS, request_fingerprint)
            existing = await _claims.submit(self.ctx.db, claim, sole_process=False)
            if existing is None:
                await self._run_and_keep(scoped, scope, receive, send)
                return
            if store.fingerprint_differs(existing, request_fingerprint):
                await mismatch_response()(scope, receive, send)
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


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole request body (None when the client disconnected first) and a ``receive`` that
    hands it to the app again, then waits on the client as the original does."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed_body = False

    async def replay() -> Message:
        nonlocal replayed_body
        if replayed_body:
            return await receive()
        replayed_body = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


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
