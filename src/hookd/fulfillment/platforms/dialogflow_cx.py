"""Dialogflow CX (v3) webhook requests and responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookd.fulfillment.platforms import Platform
from hookd.fulfillment.platforms.fields import JsonObject, flag, items, obj, text
from hookd.fulfillment.reply import Card, Reply

__all__ = ["PLATFORM", "CxFormParameter", "DialogflowCXRequest", "parse", "render"]


@dataclass(frozen=True, slots=True)
class CxFormParameter:
    """One parameter of the current page's form."""

    display_name: str
    required: bool
    state: str
    value: Any
    just_collected: bool


@dataclass(frozen=True, slots=True)
class DialogflowCXRequest:
    """A parsed Dialogflow CX ``WebhookRequest``; ``raw`` keeps the whole document.

    ``intent_parameters`` holds each parameter's ``resolvedValue``; the original text is in
    ``raw["intentInfo"]["parameters"][name]["originalValue"]``.
    """

    detect_intent_response_id: str
    tag: str
    session: str
    session_parameters: Mapping[str, Any]
    text: str
    trigger_intent: str
    trigger_event: str
    language_code: str
    intent: str
    intent_name: str
    intent_parameters: Mapping[str, Any]
    page: str
    page_name: str
    form_parameters: tuple[CxFormParameter, ...]
    payload: Mapping[str, Any]
    raw: Mapping[str, Any]


def parse(document: JsonObject) -> DialogflowCXRequest:
    """Parse a ``WebhookRequest``; raise ``MalformedRequest`` on wrongly typed fields."""
    intent_info = obj(document, "intentInfo")
    page_info = obj(document, "pageInfo")
    session_info = obj(document, "sessionInfo")
    intent_parameters = obj(intent_info, "parameters")
    resolved = {
        name: obj(intent_parameters, name).get("resolvedValue") for name in intent_parameters
    }
    form = tuple(
        CxFormParameter(
            display_name=text(p, "displayName"),
            required=flag(p, "required"),
            state=text(p, "state"),
            value=p.get("value"),
            just_collected=flag(p, "justCollected"),
        )
        for p in items(obj(page_info, "formInfo"), "parameterInfo")
    )
    return DialogflowCXRequest(
        detect_intent_response_id=text(document, "detectIntentResponseId"),
        tag=text(obj(document, "fulfillmentInfo"), "tag"),
        session=text(session_info, "session"),
        session_parameters=obj(session_info, "parameters"),
        # Spoken input arrives as a transcript; handlers read both as the user's words.
        text=text(document, "text") or text(document, "transcript"),
        trigger_intent=text(document, "triggerIntent"),
        trigger_event=text(document, "triggerEvent"),
        language_code=text(document, "languageCode"),
        intent=text(intent_info, "displayName"),
        intent_name=text(intent_info, "lastMatchedIntent"),
        intent_parameters=resolved,
        page=text(page_info, "displayName"),
        page_name=text(page_info, "currentPage"),
        form_parameters=form,
        payload=obj(document, "payload"),
        raw=document,
    )


def _card_elements(card: Card) -> list[dict[str, Any]]:
    info: dict[str, Any] = {"type": "info", "title": card.title}
    if card.subtitle:
        info["subtitle"] = card.subtitle
    if card.image_url:
        info["image"] = {"src": {"rawUrl": card.image_url}}
    elements = [info]
    if card.buttons:
        elements.append({"type": "chips", "options": [{"text": b.text} for b in card.buttons]})
    return elements


def _rich_content(reply: Reply) -> list[list[dict[str, Any]]]:
    # CX has no native cards or chips; Dialogflow Messenger's richContent payload is the
    # format its own console and integrations understand.
    rich = [_card_elements(card) for card in reply.cards]
    if reply.quick_replies:
        rich.append([{"type": "chips", "options": [{"text": q} for q in reply.quick_replies]}])
    return rich


def render(reply: Reply, request: DialogflowCXRequest) -> dict[str, Any]:
    """A ``WebhookResponse``; empty fields are left out."""
    messages: list[dict[str, Any]] = []
    if reply.text:
        messages.append({"text": {"text": [reply.text]}})
    rich = _rich_content(reply)
    if rich:
        messages.append({"payload": {"richContent": rich}})
    response: dict[str, Any] = {}
    if messages:
        response["fulfillmentResponse"] = {"messages": messages}
    if reply.params:
        response["sessionInfo"] = {"parameters": dict(reply.params)}
    if reply.payload is not None:
        response["payload"] = dict(reply.payload)
    if reply.target_page:
        response["targetPage"] = reply.target_page
    if reply.target_flow:
        response["targetFlow"] = reply.target_flow
    return response


def render_unhandled(request: DialogflowCXRequest) -> dict[str, Any]:
    """An empty response: the page's own fulfillment and routes carry on unchanged."""
    return {}


def idempotency_key(request: DialogflowCXRequest, body: bytes) -> str | None:
    """``detectIntentResponseId`` is unique per detect-intent call."""
    if not request.detect_intent_response_id:
        return None
    # One detect-intent call can invoke several webhooks (one per fulfillment tag).
    return f"{request.detect_intent_response_id}/{request.tag}"


PLATFORM = Platform(
    name="dialogflow_cx",
    parse=parse,
    route=lambda request: request.tag,
    idempotency_key=idempotency_key,
    render=render,
    render_unhandled=render_unhandled,
)
