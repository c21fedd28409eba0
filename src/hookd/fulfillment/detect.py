"""Which chatbot platform sent a request, judged by the shape of its JSON body."""

from __future__ import annotations

from hookd.fulfillment.platforms import (
    JsonObject,
    Platform,
    dialogflow_cx,
    dialogflow_es,
    lex,
    rasa,
)

__all__ = ["PLATFORMS", "detect_platform"]

PLATFORMS: tuple[Platform, ...] = (
    dialogflow_es.PLATFORM,
    dialogflow_cx.PLATFORM,
    lex.PLATFORM,
    rasa.PLATFORM,
)


def detect_platform(document: JsonObject) -> Platform | None:
    """The platform whose request shape ``document`` has, or ``None``."""
    if "queryResult" in document:
        return dialogflow_es.PLATFORM
    if "fulfillmentInfo" in document or (
        "sessionInfo" in document and "detectIntentResponseId" in document
    ):
        return dialogflow_cx.PLATFORM
    if "sessionState" in document and (
        "interpretations" in document or "invocationSource" in document
    ):
        return lex.PLATFORM
    if "next_action" in document and "tracker" in document:
        return rasa.PLATFORM
    return None
