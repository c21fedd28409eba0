"""Rasa custom-action-server requests (``POST /webhook``) and responses."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hookd.fulfillment.platforms import Answer, Platform
from hookd.fulfillment.platforms.fields import JsonObject, MalformedRequest, items, obj, text
from hookd.fulfillment.reply import Reply

__all__ = [
    "PLATFORM",
    "ActionExecutionRejected",
    "DomainCache",
    "RasaRequest",
    "missing_domain",
    "parse",
    "render",
]

# rasa-sdk's wording (ACTION_MISSING_DOMAIN_DEFAULT_MESSAGE); Rasa logs it with the 449.
MISSING_DOMAIN_DETAIL = (
    "Missing domain context, assistant will retry the request and include the domain in the "
    "request payload. For more information please see https://rasa.com/docs/action-server/"
)
# Rasa's name for "no active loop" when a loop is deactivated.
NO_ACTIVE_LOOP = "should_not_be_set"


class ActionExecutionRejected(Exception):
    """Raise from an action handler to tell Rasa the action refuses to run (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class RasaRequest:
    """A parsed action-server call; ``raw`` keeps the whole document."""

    next_action: str
    sender_id: str
    slots: Mapping[str, Any]
    latest_message: Mapping[str, Any]
    intent: str
    text: str
    events: tuple[Mapping[str, Any], ...]
    active_loop: str
    domain: Mapping[str, Any]
    domain_digest: str
    version: str
    raw: Mapping[str, Any]

    def slot(self, name: str) -> Any:
        """A slot's current value (``None`` when unset)."""
        return self.slots.get(name)


def parse(document: JsonObject) -> RasaRequest:
    """Parse a ``/webhook`` call; raise ``MalformedRequest`` on wrongly typed fields."""
    tracker = obj(document, "tracker")
    latest = obj(tracker, "latest_message")
    next_action = text(document, "next_action")
    if not next_action:
        raise MalformedRequest("next_action is required")
    # Rasa 1.x sent the loop as active_form; rasa-sdk's Tracker.from_dict still reads it.
    loop = obj(tracker, "active_loop" if "active_loop" in tracker else "active_form")
    active_loop = text(loop, "name")
    return RasaRequest(
        next_action=next_action,
        sender_id=text(document, "sender_id") or text(tracker, "sender_id"),
        slots=obj(tracker, "slots"),
        latest_message=latest,
        intent=text(obj(latest, "intent"), "name"),
        text=text(latest, "text"),
        events=tuple(items(tracker, "events")),
        active_loop="" if active_loop == NO_ACTIVE_LOOP else active_loop,
        domain=obj(document, "domain"),
        domain_digest=text(document, "domain_digest"),
        version=text(document, "version"),
        raw=document,
    )


class DomainCache:
    """The domains Rasa sent, by digest, so calls that carry only the digest get theirs.

    Rasa may leave the domain out and send only ``domain_digest`` when it believes the action
    server has that domain; the server answers 449 when it does not, and Rasa repeats the call
    with the domain. rasa-sdk keeps the last domain; a few digests are kept here, so several
    assistants (or a rolling model update) sharing one action server do not take turns at 449s.
    """

    def __init__(self, max_entries: int = 8) -> None:
        self._max_entries = max_entries
        self._domains: OrderedDict[str, Mapping[str, Any]] = OrderedDict()

    def resolve(self, request: RasaRequest) -> RasaRequest | None:
        """The request with its domain, or ``None`` when Rasa must resend it (449)."""
        digest = request.domain_digest
        if request.raw.get("domain") is not None:
            if digest and request.domain:
                self._domains[digest] = request.domain
                self._domains.move_to_end(digest)
                while len(self._domains) > self._max_entries:
                    self._domains.popitem(last=False)
            return request
        domain = self._domains.get(digest) if digest else None
        if domain is None:
            return None
        self._domains.move_to_end(digest)
        return replace(request, domain=domain)


def _events(reply: Reply) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"event": "slot", "timestamp": None, "name": name, "value": value}
        for name, value in reply.params.items()
    ]
    if reply.followup_event is not None:
        events.append({"event": "followup", "timestamp": None, "name": reply.followup_event.name})
    events.extend(dict(event) for event in reply.rasa_events)
    return events


def _responses(reply: Reply) -> list[dict[str, Any]]:
    buttons = [{"title": q, "payload": q} for q in reply.quick_replies]
    elements = [
        {
            "title": card.title,
            "subtitle": card.subtitle,
            "image_url": card.image_url,
            "buttons": [{"title": b.text, "payload": b.postback or b.text} for b in card.buttons],
        }
        for card in reply.cards
    ]
    custom = dict(reply.payload) if reply.payload is not None else {}
    if not (reply.text or buttons or elements or custom):
        return []
    # The same keys rasa_sdk's CollectingDispatcher.utter_message produces.
    message: dict[str, Any] = {
        "text": reply.text or None,
        "buttons": buttons,
        "elements": elements,
        "custom": custom,
        "template": None,
        "response": None,
        "image": None,
        "attachment": None,
    }
    return [message]


def render(reply: Reply, request: RasaRequest) -> dict[str, Any]:
    """The action server's 200 answer: ``{"events": [...], "responses": [...]}``."""
    return {"events": _events(reply), "responses": _responses(reply)}


def render_unhandled(request: RasaRequest) -> dict[str, Any]:
    """Nothing to do and nothing to say."""
    return {"events": [], "responses": []}


def error_document(document: JsonObject, detail: str) -> dict[str, Any]:
    """Rasa's error body, ``{"error": ..., "action_name": ...}``."""
    action = document.get("next_action")
    return {"error": detail, "action_name": action if isinstance(action, str) else None}


def malformed(document: JsonObject, detail: str) -> Answer:
    """Rasa reports a 400 from the action server as a rejected action, not a crash."""
    return 400, error_document(document, detail)


def unknown_action(request: RasaRequest) -> Answer:
    """Rasa names the action it needs; an action server that lacks it must say 404."""
    detail = f"No registered action found for name '{request.next_action}'."
    return 404, error_document(request.raw, detail)


def missing_domain(request: RasaRequest) -> Answer:
    """449: no domain in the call and none known for its digest; Rasa resends with it."""
    return 449, error_document(request.raw, MISSING_DOMAIN_DETAIL)


def idempotency_key(request: RasaRequest, body: bytes) -> str | None:
    """A tracker's latest event timestamp moves on with every turn and every action."""
    timestamps = [
        e["timestamp"] for e in request.events if isinstance(e.get("timestamp"), float | int)
    ]
    if not timestamps:
        return None
    return f"{request.sender_id}/{request.next_action}/{max(timestamps)!r}"


PLATFORM = Platform(
    name="rasa",
    parse=parse,
    route=lambda request: request.next_action,
    idempotency_key=idempotency_key,
    render=render,
    render_unhandled=render_unhandled,
    malformed=malformed,
    unknown_route=unknown_action,
)
