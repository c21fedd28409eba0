"""``Fulfillment``: the ASGI app that chatbot platforms call, and its handler registry."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import orjson

from hookd.fulfillment import asgi
from hookd.fulfillment.deadline import DeadlineExceeded, DeadlineGuard, Handler
from hookd.fulfillment.detect import detect_platform
from hookd.fulfillment.idempotency import Clock, ReplyMemo, StoredAnswer, utc_now
from hookd.fulfillment.platforms import JsonObject, MalformedRequest, Platform, rasa
from hookd.fulfillment.platforms.dialogflow_cx import DialogflowCXRequest
from hookd.fulfillment.platforms.dialogflow_es import DialogflowESRequest
from hookd.fulfillment.platforms.lex import LexRequest
from hookd.fulfillment.platforms.rasa import RasaRequest
from hookd.fulfillment.reply import LexDialogAction, LexIntentState, Reply
from hookd.fulfillment.verification import VerificationFailed, Verifier

__all__ = ["DEFAULT_ERROR_REPLY", "DEFAULT_TIMEOUT_REPLY", "Fulfillment", "FulfillmentRequest"]

logger = logging.getLogger("hookd.fulfillment")

FulfillmentRequest = DialogflowESRequest | DialogflowCXRequest | LexRequest | RasaRequest

EsHandler = TypeVar("EsHandler", bound=Callable[[DialogflowESRequest], Reply | Awaitable[Reply]])
CxHandler = TypeVar("CxHandler", bound=Callable[[DialogflowCXRequest], Reply | Awaitable[Reply]])
LexHandler = TypeVar("LexHandler", bound=Callable[[LexRequest], Reply | Awaitable[Reply]])
RasaHandler = TypeVar("RasaHandler", bound=Callable[[RasaRequest], Reply | Awaitable[Reply]])
AnyHandler = TypeVar("AnyHandler", bound=Callable[[Any], Reply | Awaitable[Reply]])

DEFAULT_TIMEOUT_REPLY = Reply(
    text="Sorry, that is taking longer than expected. Please try again in a moment.",
    lex_dialog_action=LexDialogAction.CLOSE,
    lex_intent_state=LexIntentState.FAILED,
)
DEFAULT_ERROR_REPLY = Reply(
    text="Sorry, something went wrong on our side. Please try again later.",
    lex_dialog_action=LexDialogAction.CLOSE,
    lex_intent_state=LexIntentState.FAILED,
)
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _problem(status: int, code: str, detail: str) -> StoredAnswer:
    return StoredAnswer(status, orjson.dumps({"code": code, "detail": detail}))


def _answer(status: int, document: Any) -> StoredAnswer:
    return StoredAnswer(status, orjson.dumps(document))


class Fulfillment:
    """A fulfillment webhook for Dialogflow ES and CX, Lex V2 and Rasa; an ASGI app.

    ``deadline_seconds`` is the platform's budget; handlers are abandoned a little before it
    ends and ``timeout_reply`` is sent instead. A handler that raises gets ``error_reply``.
    """

    def __init__(
        self,
        *,
        verification: Verifier | None = None,
        deadline_seconds: float = 5.0,
        timeout_reply: Reply = DEFAULT_TIMEOUT_REPLY,
        error_reply: Reply = DEFAULT_ERROR_REPLY,
        idempotency_window: timedelta = timedelta(minutes=10),
        idempotency_max_entries: int = 10_000,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        self.verification = verification
        self.timeout_reply = timeout_reply
        self.error_reply = error_reply
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._deadline = DeadlineGuard(deadline_seconds)
        self._memo = ReplyMemo(
            window=idempotency_window, max_entries=idempotency_max_entries, clock=clock
        )
        self._handlers: dict[str, dict[str, Handler]] = {}
        self._fallback: Handler | None = None
        self._rasa_domains = rasa.DomainCache()

    # -- registration ------------------------------------------------------------------

    def _register(self, platform: str, key: str, handler: Handler) -> None:
        routes = self._handlers.setdefault(platform, {})
        if key in routes:
            raise ValueError(f"{platform} already has a handler for {key!r}")
        routes[key] = handler

    def intent(self, display_name: str) -> Callable[[EsHandler], EsHandler]:
        """Handle the Dialogflow ES intent with this display name."""

        def register(handler: EsHandler) -> EsHandler:
            self._register("dialogflow_es", display_name, handler)
            return handler

        return register

    def tag(self, tag: str) -> Callable[[CxHandler], CxHandler]:
        """Handle Dialogflow CX webhook calls with this ``fulfillmentInfo.tag``."""

        def register(handler: CxHandler) -> CxHandler:
            self._register("dialogflow_cx", tag, handler)
            return handler

        return register

    def lex_intent(self, name: str) -> Callable[[LexHandler], LexHandler]:
        """Handle Lex V2 code-hook events for this intent."""

        def register(handler: LexHandler) -> LexHandler:
            self._register("lex_v2", name, handler)
            return handler

        return register

    def action(self, name: str) -> Callable[[RasaHandler], RasaHandler]:
        """Handle the Rasa custom action with this name."""

        def register(handler: RasaHandler) -> RasaHandler:
            self._register("rasa", name, handler)
            return handler

        return register

    def fallback(self, handler: AnyHandler) -> AnyHandler:
        """Handle unknown ES intents, CX tags and Lex intents (not Rasa actions)."""
        if self._fallback is not None:
            raise ValueError("a fallback handler is already registered")
        self._fallback = handler
        return handler

    @property
    def actions(self) -> list[str]:
        """Names of the registered Rasa actions."""
        return sorted(self._handlers.get("rasa", {}))

    # -- HTTP --------------------------------------------------------------------------

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = asgi.request_headers(scope)
        method: str = scope["method"]
        path = asgi.route_path(scope)
        extra: list[tuple[bytes, bytes]] = []
        try:
            if method in ("GET", "HEAD") and path == "/health":
                answer = _answer(200, {"status": "ok"})
            elif method == "GET" and path == "/actions":
                answer = self._verify(headers, b"") or _answer(
                    200, [{"name": name} for name in self.actions]
                )
            elif method != "POST":
                extra = [(b"allow", b"POST")]
                answer = _problem(405, "method_not_allowed", f"{method} is not allowed; use POST")
            else:
                raw = await asgi.read_body(receive, headers, self.max_body_bytes)
                answer = await self.answer_call(headers, raw)
        except asgi.ClientGone:
            return
        except asgi.BodyRejected as exc:
            answer = _problem(exc.status, exc.code, exc.detail)
        await asgi.send_answer(send, answer.status, answer.body, extra)

    async def _lifespan(self, receive: asgi.Receive, send: asgi.Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _verify(self, headers: dict[str, str], raw: bytes) -> StoredAnswer | None:
        if self.verification is None:
            return None
        try:
            self.verification.check(headers, raw, self._clock())
        except VerificationFailed as exc:
            return _problem(401, "unauthorized", str(exc))
        return None

    async def answer_call(self, headers: dict[str, str], raw: bytes) -> StoredAnswer:
        """Answer one webhook call: verify, detect, parse, route, deduplicate, run, render."""
        rejected = self._verify(headers, raw)
        if rejected is not None:
            return rejected
        body = asgi.decode_body(raw, headers, self.max_body_bytes)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _problem(400, "invalid_json", "the body is not valid JSON")
        if not isinstance(document, dict):
            return _problem(422, "unknown_platform", "the body must be a JSON object")
        platform = detect_platform(document)
        if platform is None:
            detail = "the body is not a Dialogflow ES, Dialogflow CX, Lex V2 or Rasa request"
            return _problem(422, "unknown_platform", detail)
        return await self._answer_platform(platform, document, body)

    async def _answer_platform(
        self, platform: Platform, document: JsonObject, body: bytes
    ) -> StoredAnswer:
        try:
            request = platform.parse(document)
        except MalformedRequest as exc:
            return _answer(*platform.malformed(document, str(exc)))
        handler = self._handlers.get(platform.name, {}).get(platform.route(request))
        if handler is None:
            if platform.unknown_route is not None:
                return _answer(*platform.unknown_route(request))
            if self._fallback is None:
                return _answer(200, platform.render_unhandled(request))
            handler = self._fallback
        if platform is rasa.PLATFORM:
            # After the action lookup, as rasa-sdk: an unknown action is a 404 either way.
            with_domain = self._rasa_domains.resolve(request)
            if with_domain is None:
                return _answer(*rasa.missing_domain(request))
            request = with_domain
        key = platform.idempotency_key(request, body)
        run = self._runner(platform, handler, request)
        if key is None:
            answer, _ = await run()
            return answer
        return await self._memo.once(f"{platform.name}:{key}", run)

    def _runner(
        self, platform: Platform, handler: Handler, request: Any
    ) -> Callable[[], Awaitable[tuple[StoredAnswer, bool]]]:
        async def run() -> tuple[StoredAnswer, bool]:
            try:
                reply = await self._deadline.run(handler, request)
            except DeadlineExceeded as exc:
                logger.warning("%s handler for %r: %s", platform.name, platform.route(request), exc)
                return self._render(platform, self.timeout_reply, request)[0], False
            except rasa.ActionExecutionRejected as exc:
                if platform is rasa.PLATFORM:
                    detail = (
                        str(exc) or f"Custom action '{request.next_action}' rejected execution."
                    )
                    return _answer(400, rasa.error_document(request.raw, detail)), False
                logger.exception("%s handler rejected execution", platform.name)
                return self._render(platform, self.error_reply, request)[0], False
            except Exception:
                logger.exception("%s handler for %r failed", platform.name, platform.route(request))
                return self._render(platform, self.error_reply, request)[0], False
            return self._render(platform, reply, request)

        return run

    def _render(self, platform: Platform, reply: Reply, request: Any) -> tuple[StoredAnswer, bool]:
        """The rendered reply, and whether it rendered as given (else the error reply)."""
        try:
            return _answer(200, platform.render(reply, request)), True
        except Exception:
            # A reply whose payload or params are not JSON-serialisable is the handler's bug.
            logger.exception("%s reply could not be rendered", platform.name)
        try:
            return _answer(200, platform.render(self.error_reply, request)), False
        except Exception:
            logger.exception("the configured error_reply could not be rendered")
            return _answer(200, platform.render_unhandled(request)), False
