"""Dialogflow ES (v2) webhook requests and responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookd.fulfillment.platforms import Platform
from hookd.fulfillment.platforms.fields import JsonObject, flag, integer, items, number, obj, text
from hookd.fulfillment.reply import Context, Reply

__all__ = ["PARAMS_CONTEXT", "PLATFORM", "DialogflowESRequest", "EsContext", "parse", "render"]

# ES has no session parameters; Reply.params live in this context, long-lived so they
# survive the turns of a typical conversation.
PARAMS_CONTEXT = "session-vars"
PARAMS_CONTEXT_LIFESPAN = 50


@dataclass(frozen=True, slots=True)
class EsContext:
    """An active context as Dialogflow sends it (``name`` is the full resource name)."""

    name: str
    lifespan_count: int
    parameters: Mapping[str, Any]

    @property
    def short_name(self) -> str:
        """The context id after ``/contexts/``."""
        return self.name.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class DialogflowESRequest:
    """A parsed Dialogflow ES ``WebhookRequest``; ``raw`` keeps the whole document."""

    response_id: str
    session: str
    intent: str
    intent_name: str
    query_text: str
    language_code: str
    action: str
    parameters: Mapping[str, Any]
    all_required_params_present: bool
    intent_detection_confidence: float
    output_contexts: tuple[EsContext, ...]
    original_request: Mapping[str, Any]
    raw: Mapping[str, Any]

    def context(self, short_name: str) -> EsContext | None:
        """The active context with this id, if any."""
        return next((c for c in self.output_contexts if c.short_name == short_name), None)


def parse(document: JsonObject) -> DialogflowESRequest:
    """Parse a ``WebhookRequest``; raise ``MalformedRequest`` on wrongly typed fields."""
    result = obj(document, "queryResult")
    intent = obj(result, "intent")
    contexts = tuple(
        EsContext(text(c, "name"), integer(c, "lifespanCount"), obj(c, "parameters"))
        for c in items(result, "outputContexts")
    )
    return DialogflowESRequest(
        response_id=text(document, "responseId"),
        session=text(document, "session"),
        intent=text(intent, "displayName"),
        intent_name=text(intent, "name"),
        query_text=text(result, "queryText"),
        language_code=text(result, "languageCode"),
        action=text(result, "action"),
        parameters=obj(result, "parameters"),
        all_required_params_present=flag(result, "allRequiredParamsPresent"),
        intent_detection_confidence=number(result, "intentDetectionConfidence"),
        output_contexts=contexts,
        original_request=obj(document, "originalDetectIntentRequest"),
        raw=document,
    )


def _context_document(session: str, context: Context) -> dict[str, Any]:
    return {
        "name": f"{session}/contexts/{context.name}",
        "lifespanCount": context.lifespan,
        "parameters": dict(context.parameters),
    }


def _contexts(reply: Reply, request: DialogflowESRequest) -> list[dict[str, Any]]:
    contexts = list(reply.contexts)
    if reply.params:
        named = next((c for c in contexts if c.name == PARAMS_CONTEXT), None)
        current = request.context(PARAMS_CONTEXT)
        merged = {**(current.parameters if current else {}), **(named.parameters if named else {})}
        merged.update(reply.params)
        session_vars = Context(
            PARAMS_CONTEXT, named.lifespan if named else PARAMS_CONTEXT_LIFESPAN, merged
        )
        contexts = [c for c in contexts if c.name != PARAMS_CONTEXT] + [session_vars]
    return [_context_document(request.session, c) for c in contexts]


def _messages(reply: Reply) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if reply.text:
        messages.append({"text": {"text": [reply.text]}})
    if reply.quick_replies:
        quick = {"title": reply.quick_replies_title, "quickReplies": list(reply.quick_replies)}
        messages.append({"quickReplies": quick})
    for card in reply.cards:
        card_doc: dict[str, Any] = {"title": card.title}
        if card.subtitle:
            card_doc["subtitle"] = card.subtitle
        if card.image_url:
            card_doc["imageUri"] = card.image_url
        if card.buttons:
            card_doc["buttons"] = [{"text": b.text, "postback": b.postback} for b in card.buttons]
        messages.append({"card": card_doc})
    if reply.platform is not None:
        for message in messages:
            message["platform"] = str(reply.platform)
    return messages


def render(reply: Reply, request: DialogflowESRequest) -> dict[str, Any]:
    """A ``WebhookResponse``; empty fields are left out so Dialogflow keeps its defaults."""
    response: dict[str, Any] = {}
    if reply.text:
        response["fulfillmentText"] = reply.text
    messages = _messages(reply)
    if messages:
        response["fulfillmentMessages"] = messages
    if reply.payload is not None:
        response["payload"] = dict(reply.payload)
    contexts = _contexts(reply, request)
    if contexts:
        response["outputContexts"] = contexts
    if reply.followup_event is not None:
        event = reply.followup_event
        response["followupEventInput"] = {
            "name": event.name,
            "parameters": dict(event.parameters),
            "languageCode": event.language_code or request.language_code,
        }
    return response


def render_unhandled(request: DialogflowESRequest) -> dict[str, Any]:
    """An empty response: Dialogflow answers with the intent's own static responses."""
    return {}


def idempotency_key(request: DialogflowESRequest, body: bytes) -> str | None:
    """``responseId`` is unique per detect-intent call and repeated on retries."""
    return request.response_id or None


PLATFORM = Platform(
    name="dialogflow_es",
    parse=parse,
    route=lambda request: request.intent,
    idempotency_key=idempotency_key,
    render=render,
    render_unhandled=render_unhandled,
)
