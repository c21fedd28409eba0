"""Amazon Lex V2 code-hook events and responses, received over HTTP."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from hookd.fulfillment.platforms import Platform
from hookd.fulfillment.platforms.fields import JsonObject, MalformedRequest, items, obj, text
from hookd.fulfillment.reply import Card, LexDialogAction, LexIntentState, Reply

__all__ = ["PLATFORM", "LexRequest", "LexSlot", "parse", "render"]

logger = logging.getLogger("hookd.fulfillment")

# What Lex V2 accepts in a response, from the Lex V2 API reference: ImageResponseCard (title,
# subtitle and imageUrl 1 to 250 characters, at most 5 buttons) and Button (text and value 1 to
# 50 characters), https://docs.aws.amazon.com/lexv2/latest/APIReference/API_runtime_ImageResponseCard.html
# and .../API_runtime_Button.html. MESSAGES_MAX is from AWS's service model (botocore's
# lexv2-runtime, shape Messages); tests/fulfillment/test_platform_schemas.py checks all of them
# against that model.
CARD_TITLE_MAX = 250
CARD_SUBTITLE_MAX = 250
CARD_IMAGE_URL_MAX = 250
CARD_BUTTONS_MAX = 5
BUTTON_TEXT_MAX = 50
BUTTON_VALUE_MAX = 50
MESSAGES_MAX = 10
ELLIPSIS = "\u2026"


@dataclass(frozen=True, slots=True)
class LexSlot:
    """A filled slot; list slots carry their items in ``values``."""

    shape: str
    original_value: str
    interpreted_value: str
    resolved_values: tuple[str, ...]
    values: tuple[LexSlot, ...]


@dataclass(frozen=True, slots=True)
class LexRequest:
    """A parsed Lex V2 code-hook event; ``raw`` keeps the whole document."""

    session_id: str
    invocation_source: str
    input_mode: str
    input_transcript: str
    intent: str
    intent_state: str
    confirmation_state: str
    slots: Mapping[str, LexSlot | None]
    session_attributes: Mapping[str, str]
    request_attributes: Mapping[str, str]
    bot: Mapping[str, Any]
    raw: Mapping[str, Any]

    def slot(self, name: str) -> str | None:
        """The interpreted value of a scalar slot, or ``None`` when it is empty."""
        slot = self.slots.get(name)
        return slot.interpreted_value if slot is not None else None


def _slot(doc: JsonObject) -> LexSlot:
    value = obj(doc, "value")
    resolved = value.get("resolvedValues") or []
    if not isinstance(resolved, list) or not all(isinstance(v, str) for v in resolved):
        raise MalformedRequest("resolvedValues must be an array of strings")
    return LexSlot(
        shape=text(doc, "shape", "Scalar"),
        original_value=text(value, "originalValue"),
        interpreted_value=text(value, "interpretedValue"),
        resolved_values=tuple(resolved),
        values=tuple(_slot(item) for item in items(doc, "values")),
    )


def _strings(doc: JsonObject, key: str) -> dict[str, str]:
    values = obj(doc, key)
    if not all(isinstance(v, str) for v in values.values()):
        raise MalformedRequest(f"{key} must map names to strings")
    return dict(values)


def parse(document: JsonObject) -> LexRequest:
    """Parse a code-hook event; raise ``MalformedRequest`` on wrongly typed fields."""
    state = obj(document, "sessionState")
    intent = obj(state, "intent")
    raw_slots = obj(intent, "slots")
    slots = {name: (_slot(obj(raw_slots, name)) if raw_slots[name] else None) for name in raw_slots}
    return LexRequest(
        session_id=text(document, "sessionId"),
        invocation_source=text(document, "invocationSource"),
        input_mode=text(document, "inputMode"),
        input_transcript=text(document, "inputTranscript"),
        intent=text(intent, "name"),
        intent_state=text(intent, "state"),
        confirmation_state=text(intent, "confirmationState"),
        slots=slots,
        session_attributes=_strings(state, "sessionAttributes"),
        request_attributes=_strings(document, "requestAttributes"),
        bot=obj(document, "bot"),
        raw=document,
    )


def _attribute(value: Any) -> str:
    # Lex session attributes are string to string; anything else travels as JSON.
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _cut(value: str, limit: int, what: str, *, warn: bool = True) -> str:
    """``value`` within ``limit`` characters, ending in an ellipsis when it had to be cut."""
    if len(value) <= limit:
        return value
    if warn:
        logger.warning(
            "Lex V2 allows %d characters in %s; cut %d characters to %d",
            limit,
            what,
            len(value),
            limit,
        )
    return value[: limit - 1] + ELLIPSIS


def _buttons(pairs: list[tuple[str, str | None]]) -> list[dict[str, str]]:
    """Lex buttons from (text, value) pairs; a value of None is the (cut) text itself."""
    if len(pairs) > CARD_BUTTONS_MAX:
        logger.warning(
            "Lex V2 shows at most %d buttons on a card; dropped %d of %d",
            CARD_BUTTONS_MAX,
            len(pairs) - CARD_BUTTONS_MAX,
            len(pairs),
        )
        pairs = pairs[:CARD_BUTTONS_MAX]
    buttons = []
    for label, value in pairs:
        if not label:
            raise ValueError("Lex V2 needs a text on every button")
        label = _cut(label, BUTTON_TEXT_MAX, "a button text")
        if value is None:
            value = label  # what the user saw is what Lex gets back
        elif len(value) > BUTTON_VALUE_MAX:
            # Cutting a value would change what Lex receives when the button is pressed.
            raise ValueError(
                f"Lex V2 allows {BUTTON_VALUE_MAX} characters in a button value, "
                f"got {len(value)}: {value[:BUTTON_VALUE_MAX]!r}..."
            )
        buttons.append({"text": label, "value": value})
    return buttons


def _card(card: Card) -> dict[str, Any]:
    if not card.title:
        raise ValueError("Lex V2 needs a title on every card")
    doc: dict[str, Any] = {"title": _cut(card.title, CARD_TITLE_MAX, "a card title")}
    if card.subtitle:
        doc["subtitle"] = _cut(card.subtitle, CARD_SUBTITLE_MAX, "a card subtitle")
    if card.image_url and len(card.image_url) > CARD_IMAGE_URL_MAX:
        logger.warning(
            "Lex V2 allows %d characters in a card's image URL; left out one of %d",
            CARD_IMAGE_URL_MAX,
            len(card.image_url),
        )
    elif card.image_url:
        doc["imageUrl"] = card.image_url
    if card.buttons:
        doc["buttons"] = _buttons([(b.text, b.postback or None) for b in card.buttons])
    return {"contentType": "ImageResponseCard", "imageResponseCard": doc}


def _messages(reply: Reply) -> list[dict[str, Any]]:
    """The reply as Lex messages, within Lex's limits (``ValueError`` where it cannot be)."""
    messages: list[dict[str, Any]] = []
    if reply.text:
        messages.append({"contentType": "PlainText", "content": reply.text})
    if reply.quick_replies:
        # A response card needs a title; the prompt itself is the natural one (cut silently:
        # the whole prompt is the PlainText message before it).
        if reply.quick_replies_title:
            title = _cut(reply.quick_replies_title, CARD_TITLE_MAX, "a card title")
        else:
            title = _cut(reply.text or "Choose one", CARD_TITLE_MAX, "", warn=False)
        buttons = _buttons([(q, None) for q in reply.quick_replies])
        messages.append(
            {
                "contentType": "ImageResponseCard",
                "imageResponseCard": {"title": title, "buttons": buttons},
            }
        )
    messages.extend(_card(card) for card in reply.cards)
    if reply.payload is not None:
        content = orjson.dumps(dict(reply.payload)).decode()
        messages.append({"contentType": "CustomPayload", "content": content})
    if len(messages) > MESSAGES_MAX:
        logger.warning(
            "Lex V2 takes at most %d messages; dropped the last %d of %d",
            MESSAGES_MAX,
            len(messages) - MESSAGES_MAX,
            len(messages),
        )
        messages = messages[:MESSAGES_MAX]
    return messages


def _default_state(action: LexDialogAction, request: LexRequest) -> str:
    if action is LexDialogAction.CLOSE:
        return LexIntentState.FULFILLED
    if action is LexDialogAction.DELEGATE and request.intent_state:
        return request.intent_state
    return LexIntentState.IN_PROGRESS


def _session_state(request: LexRequest, dialog_action: dict[str, Any]) -> dict[str, Any]:
    incoming = obj(request.raw, "sessionState")
    state: dict[str, Any] = {"dialogAction": dialog_action}
    # The response replaces the session state, so what the handler did not change is echoed.
    if "activeContexts" in incoming:
        state["activeContexts"] = incoming["activeContexts"]
    return state


def render(reply: Reply, request: LexRequest) -> dict[str, Any]:
    """A code-hook response: Close after fulfillment, Delegate during dialog, by default."""
    action = reply.lex_dialog_action or (
        LexDialogAction.CLOSE
        if request.invocation_source == "FulfillmentCodeHook"
        else LexDialogAction.DELEGATE
    )
    dialog_action: dict[str, Any] = {"type": str(action)}
    if action is LexDialogAction.ELICIT_SLOT:
        dialog_action["slotToElicit"] = reply.lex_slot_to_elicit
    state = _session_state(request, dialog_action)
    if action is not LexDialogAction.ELICIT_INTENT:
        intent = dict(obj(obj(request.raw, "sessionState"), "intent"))
        intent.setdefault("confirmationState", request.confirmation_state or "None")
        intent["state"] = str(reply.lex_intent_state or _default_state(action, request))
        state["intent"] = intent
    attributes = dict(request.session_attributes)
    for name, value in reply.params.items():
        if value is None:
            attributes.pop(name, None)
        else:
            attributes[name] = _attribute(value)
    state["sessionAttributes"] = attributes
    response: dict[str, Any] = {"sessionState": state}
    messages = _messages(reply)
    if messages:
        response["messages"] = messages
    return response


def render_unhandled(request: LexRequest) -> dict[str, Any]:
    """Delegate: Lex goes on with the bot's own configuration, as without a code hook."""
    return render(Reply(lex_dialog_action=LexDialogAction.DELEGATE), request)


def idempotency_key(request: LexRequest, body: bytes) -> str | None:
    """Lex sends no request id; the session plus the exact event bytes identify a retry."""
    return f"{request.session_id}/{hashlib.sha256(body).hexdigest()}"


PLATFORM = Platform(
    name="lex_v2",
    parse=parse,
    route=lambda request: request.intent,
    idempotency_key=idempotency_key,
    render=render,
    render_unhandled=render_unhandled,
)
