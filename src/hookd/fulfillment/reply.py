"""The platform-neutral answer a handler returns; each platform module renders it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Button",
    "Card",
    "Context",
    "DialogflowPlatform",
    "FollowupEvent",
    "LexDialogAction",
    "LexIntentState",
    "Reply",
]


class DialogflowPlatform(StrEnum):
    """The messaging platform a Dialogflow ES rich message is for.

    The names (and values) of the ES API's ``Intent.Message.Platform`` enum
    (``google.cloud.dialogflow.v2``); Dialogflow uses a platform's own messages for requests
    from that platform's integration, and the ones without a platform otherwise.
    """

    PLATFORM_UNSPECIFIED = "PLATFORM_UNSPECIFIED"
    FACEBOOK = "FACEBOOK"
    SLACK = "SLACK"
    TELEGRAM = "TELEGRAM"
    KIK = "KIK"
    SKYPE = "SKYPE"
    LINE = "LINE"
    VIBER = "VIBER"
    ACTIONS_ON_GOOGLE = "ACTIONS_ON_GOOGLE"
    GOOGLE_HANGOUTS = "GOOGLE_HANGOUTS"


class LexDialogAction(StrEnum):
    """The next step Lex V2 takes after the code hook answers."""

    CLOSE = "Close"
    ELICIT_SLOT = "ElicitSlot"
    CONFIRM_INTENT = "ConfirmIntent"
    DELEGATE = "Delegate"
    ELICIT_INTENT = "ElicitIntent"


class LexIntentState(StrEnum):
    """The intent state Lex V2 records with the dialog action."""

    FAILED = "Failed"
    FULFILLED = "Fulfilled"
    FULFILLMENT_IN_PROGRESS = "FulfillmentInProgress"
    IN_PROGRESS = "InProgress"
    READY_FOR_FULFILLMENT = "ReadyForFulfillment"
    WAITING = "Waiting"


@dataclass(frozen=True, slots=True)
class Button:
    """A card button: the label shown and the value sent back when it is pressed."""

    text: str
    postback: str = ""


@dataclass(frozen=True, slots=True)
class Card:
    """A rich card with an optional image and buttons."""

    title: str
    subtitle: str = ""
    image_url: str = ""
    buttons: Sequence[Button] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "buttons", tuple(self.buttons))


@dataclass(frozen=True, slots=True)
class Context:
    """A Dialogflow ES output context, named by its short id (``awaiting-pin``)."""

    name: str
    lifespan: int = 5
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FollowupEvent:
    """An event to trigger next (ES ``followupEventInput``, Rasa ``followup``)."""

    name: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    language_code: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer, whatever the platform; fields a platform cannot express are ignored.

    ``params`` are session state: CX session parameters, ES parameters of the
    ``session-vars`` context, Lex session attributes, Rasa slots. A value of ``None``
    deletes the parameter where the platform supports deletion.
    """

    text: str = ""
    quick_replies: Sequence[str] = ()
    quick_replies_title: str = ""
    cards: Sequence[Card] = ()
    payload: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    contexts: Sequence[Context] = ()
    followup_event: FollowupEvent | None = None
    target_page: str = ""
    target_flow: str = ""
    lex_dialog_action: LexDialogAction | None = None
    lex_intent_state: LexIntentState | None = None
    lex_slot_to_elicit: str = ""
    rasa_events: Sequence[Mapping[str, Any]] = ()
    # Dialogflow ES: the platform every rich message of the reply is for (None: no platform).
    platform: DialogflowPlatform | None = None

    def __post_init__(self) -> None:
        # Sequences are frozen too, so a Reply can be cached and shared between requests.
        if isinstance(self.quick_replies, str):
            raise TypeError("quick_replies is a sequence of strings, not one string")
        object.__setattr__(self, "quick_replies", tuple(self.quick_replies))
        object.__setattr__(self, "cards", tuple(self.cards))
        object.__setattr__(self, "contexts", tuple(self.contexts))
        object.__setattr__(self, "rasa_events", tuple(self.rasa_events))
        if self.platform is not None and not isinstance(self.platform, DialogflowPlatform):
            names = ", ".join(DialogflowPlatform)
            if self.platform not in DialogflowPlatform.__members__:
                raise ValueError(f"platform {self.platform!r} is not one of {names}")
            object.__setattr__(self, "platform", DialogflowPlatform(self.platform))
        if self.target_page and self.target_flow:
            raise ValueError("Dialogflow CX accepts at most one of target_page and target_flow")
        if self.lex_dialog_action is LexDialogAction.ELICIT_SLOT and not self.lex_slot_to_elicit:
            raise ValueError("an ElicitSlot dialog action needs lex_slot_to_elicit")
        says_something = self.text or self.quick_replies or self.cards or self.payload is not None
        if self.lex_dialog_action in _NEED_MESSAGES and not says_something:
            # Lex V2's Lambda response format: "messages" is required with these two actions.
            raise ValueError(
                f"Lex requires messages with a {self.lex_dialog_action} dialog action: "
                "give the reply a text (or quick replies, cards or a payload)"
            )


_NEED_MESSAGES = frozenset({LexDialogAction.CONFIRM_INTENT, LexDialogAction.ELICIT_INTENT})
