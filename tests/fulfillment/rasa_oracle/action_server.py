"""rasa-sdk's own action server, with the actions of tests/fulfillment/test_rasa_sdk_oracle.py.

Runs inside the throwaway venv that has rasa-sdk (it cannot share hookd's venv: rasa-sdk pins
older pydantic and websockets). Written the way a rasa-sdk user writes actions, on purpose not
derived from hookd's code, so the test compares two independent implementations.

    python action_server.py serve   -> prints the port, then serves rasa_sdk.endpoint's Sanic app
    python action_server.py trackers -> prints rasa-sdk test-style tracker documents as JSON
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

Domain = dict[str, Any]


class CheckBalance(Action):
    def name(self) -> str:
        return "action_check_balance"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        account = tracker.get_slot("account") or "current"
        dispatcher.utter_message(text=f"Your {account} balance is 1,204.50 EUR.")
        return [SlotSet("balance", 1204.5)]


class OfferChoices(Action):
    def name(self) -> str:
        return "action_offer_choices"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        dispatcher.utter_message(
            text="Which account?",
            buttons=[
                {"title": "Savings", "payload": "Savings"},
                {"title": "Checking", "payload": "Checking"},
            ],
            json_message={"ui": "account-picker"},
        )
        return [FollowupAction("action_listen")]


class ShowCards(Action):
    def name(self) -> str:
        return "action_show_cards"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        dispatcher.utter_message(
            elements=[
                {
                    "title": "Savings",
                    "subtitle": "IBAN ...4021",
                    "image_url": "https://bank.example/savings.png",
                    "buttons": [{"title": "Show", "payload": "show savings"}],
                }
            ]
        )
        return []


class Silent(Action):
    def name(self) -> str:
        return "action_silent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        return []


class ResetConversation(Action):
    def name(self) -> str:
        return "action_reset"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        return [SlotSet("account", None), AllSlotsReset(), Restarted()]


class Refuse(Action):
    def name(self) -> str:
        return "action_refuse"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        raise ActionExecutionRejection(self.name(), "transfers are closed at night")


class RefuseQuietly(Action):
    def name(self) -> str:
        return "action_refuse_quietly"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        raise ActionExecutionRejection(self.name())


class CountIntents(Action):
    def name(self) -> str:
        return "action_count_intents"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        dispatcher.utter_message(text=f"{len(domain.get('intents', []))} intents")
        return []


class Echo(Action):
    """Reports what rasa-sdk's Tracker reads from the document."""

    def name(self) -> str:
        return "action_echo"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(
            json_message={
                "sender_id": tracker.sender_id,
                "slots": tracker.current_slot_values(),
                "intent": intent or "",
                "text": tracker.latest_message.get("text") or "",
                "active_loop": tracker.active_loop_name or "",
                "events": len(tracker.events),
            }
        )
        return []


ACTIONS = [
    CheckBalance,
    OfferChoices,
    ShowCards,
    Silent,
    ResetConversation,
    Refuse,
    RefuseQuietly,
    CountIntents,
    Echo,
]


def serve() -> None:
    from rasa_sdk.endpoint import create_app

    executor = ActionExecutor()
    for action in ACTIONS:
        executor.register_action(action)
    app = create_app(executor)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    app.run(sock=sock, single_process=True, motd=False, access_log=False)


def _tracker(**overrides: Any) -> Tracker:
    """A Tracker the way rasa-sdk's own tests build them (tests/conftest.py: get_tracker)."""
    state: dict[str, Any] = {
        "sender_id": "default",
        "slots": {},
        "latest_message": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    state.update(overrides)
    return Tracker.from_dict(state)


def trackers() -> list[dict[str, Any]]:
    """rasa-sdk's ``current_state()`` of test-style trackers, plus a legacy form."""
    documents = [
        Tracker("default", {}, {}, [], False, None, {}, "action_listen").current_state(),
        _tracker().current_state(),
        _tracker(
            sender_id="conv-42",
            slots={"cuisine": "thai", "num_people": 4, "outdoor": None},
            latest_message={
                "intent": {"name": "inform", "confidence": 0.93},
                "entities": [{"entity": "cuisine", "value": "thai"}],
                "text": "thai food for four",
            },
            events=[
                ActionExecuted("action_listen"),
                SessionStarted(),
                UserUttered("thai food for four", {"intent": {"name": "inform"}, "entities": []}),
                SlotSet("cuisine", "thai"),
                ActiveLoop("restaurant_form"),
                BotUttered("How many people?", metadata={"utter_action": "utter_ask_num"}),
            ],
            active_loop={"name": "restaurant_form", "validate": True, "rejected": False},
            latest_action_name="restaurant_form",
        ).current_state(),
        _tracker(active_loop={"name": "should_not_be_set"}).current_state(),
        _tracker(latest_message=None).current_state(),
    ]
    # Rasa 1.x named the loop active_form; rasa-sdk still reads it.
    legacy = _tracker().current_state()
    del legacy["active_loop"]
    legacy["active_form"] = {"name": "booking_form"}
    documents.append(legacy)
    return documents


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    elif sys.argv[1:] == ["trackers"]:
        print(json.dumps(trackers()))
    else:
        sys.exit("usage: action_server.py serve|trackers")
