"""Each platform: a realistic request in, the exact response document out."""

from __future__ import annotations

import asyncio
from typing import Any

from hookd.fulfillment import (
    Button,
    Card,
    Context,
    DialogflowCXRequest,
    DialogflowESRequest,
    FollowupEvent,
    Fulfillment,
    LexDialogAction,
    LexRequest,
    RasaRequest,
    Reply,
)
from tests.fulfillment.fulfillment_harness import asgi_client, load_fixture

ES_SESSION = "projects/acme-bank-7f3a/agent/sessions/5f0c2a3e-8d1b-4c7e-b2a9-0e6f1d3c4b5a"


async def call(app: Fulfillment, document: dict[str, Any]) -> tuple[int, Any]:
    async with asgi_client(app) as client:
        response = await client.post("/", json=document)
    return response.status_code, response.json()


async def test_dialogflow_es_text_params_and_parsed_request() -> None:
    app = Fulfillment()
    seen: list[DialogflowESRequest] = []

    @app.intent("GetAccountBalance")
    def balance(request: DialogflowESRequest) -> Reply:
        seen.append(request)
        return Reply(text="Your savings balance is 1,204.50 EUR.", params={"last_balance": 1204.5})

    status, body = await call(app, load_fixture("es_get_account_balance.json"))

    assert status == 200
    assert body == {
        "fulfillmentText": "Your savings balance is 1,204.50 EUR.",
        "fulfillmentMessages": [{"text": {"text": ["Your savings balance is 1,204.50 EUR."]}}],
        "outputContexts": [
            {
                "name": f"{ES_SESSION}/contexts/session-vars",
                "lifespanCount": 50,
                "parameters": {
                    "customer_id": "cus_1042",
                    "account": "savings",
                    "account.original": "savings account",
                    "last_balance": 1204.5,
                },
            }
        ],
    }
    (request,) = seen
    assert request.intent == "GetAccountBalance"
    assert request.parameters == {"account": "savings", "currency": ""}
    assert request.query_text == "what's the balance of my savings account"
    assert request.context("session-vars") is not None
    assert request.response_id.startswith("3a8e1b52")


async def test_dialogflow_es_rich_reply() -> None:
    app = Fulfillment()

    @app.intent("GetAccountBalance")
    async def balance(request: DialogflowESRequest) -> Reply:
        return Reply(
            text="Which account?",
            quick_replies=["Savings", "Checking"],
            quick_replies_title="Accounts",
            cards=[
                Card(
                    "Savings",
                    subtitle="IBAN ending 4021",
                    image_url="https://bank.example/savings.png",
                    buttons=[Button("Show", "show savings")],
                )
            ],
            payload={"google": {"expectUserResponse": True}},
            contexts=[Context("awaiting-account", lifespan=2, parameters={"step": 1})],
            followup_event=FollowupEvent("ask_account", {"retry": True}),
        )

    status, body = await call(app, load_fixture("es_get_account_balance.json"))

    assert status == 200
    assert body == {
        "fulfillmentText": "Which account?",
        "fulfillmentMessages": [
            {"text": {"text": ["Which account?"]}},
            {"quickReplies": {"title": "Accounts", "quickReplies": ["Savings", "Checking"]}},
            {
                "card": {
                    "title": "Savings",
                    "subtitle": "IBAN ending 4021",
                    "imageUri": "https://bank.example/savings.png",
                    "buttons": [{"text": "Show", "postback": "show savings"}],
                }
            },
        ],
        "payload": {"google": {"expectUserResponse": True}},
        "outputContexts": [
            {
                "name": f"{ES_SESSION}/contexts/awaiting-account",
                "lifespanCount": 2,
                "parameters": {"step": 1},
            }
        ],
        "followupEventInput": {
            "name": "ask_account",
            "parameters": {"retry": True},
            "languageCode": "en",
        },
    }


async def test_dialogflow_es_unknown_intent_without_fallback_is_empty() -> None:
    status, body = await call(Fulfillment(), load_fixture("es_get_account_balance.json"))
    assert (status, body) == (200, {})


async def test_fallback_handles_unknown_intent_and_tag() -> None:
    app = Fulfillment()

    @app.fallback
    def fallback(request: object) -> Reply:
        return Reply(text=f"No handler for {type(request).__name__}")

    _, es = await call(app, load_fixture("es_get_account_balance.json"))
    _, cx = await call(app, load_fixture("cx_check_balance.json"))
    assert es["fulfillmentText"] == "No handler for DialogflowESRequest"
    assert cx == {
        "fulfillmentResponse": {
            "messages": [{"text": {"text": ["No handler for DialogflowCXRequest"]}}]
        }
    }


async def test_dialogflow_cx_session_params_rich_content_and_target_page() -> None:
    app = Fulfillment()
    seen: list[DialogflowCXRequest] = []
    confirm_page = (
        "projects/acme-bank-7f3a/locations/global/agents/2c9e6a4b-1d7f-4e3a-9b8c-5f0d1e2a3b4c"
        "/flows/00000000-0000-0000-0000-000000000000/pages/confirm"
    )

    @app.tag("check-balance")
    def check(request: DialogflowCXRequest) -> Reply:
        seen.append(request)
        return Reply(
            text="Your checking balance is 310.00 EUR.",
            quick_replies=["Transfer", "Done"],
            cards=[Card("Checking", subtitle="310.00 EUR", buttons=[Button("Details")])],
            params={"balance": 310.0, "pending_transfer": None},
            payload={"telephony": {"barge_in": False}},
            target_page=confirm_page,
        )

    status, body = await call(app, load_fixture("cx_check_balance.json"))

    assert status == 200
    assert body == {
        "fulfillmentResponse": {
            "messages": [
                {"text": {"text": ["Your checking balance is 310.00 EUR."]}},
                {
                    "payload": {
                        "richContent": [
                            [
                                {"type": "info", "title": "Checking", "subtitle": "310.00 EUR"},
                                {"type": "chips", "options": [{"text": "Details"}]},
                            ],
                            [
                                {
                                    "type": "chips",
                                    "options": [{"text": "Transfer"}, {"text": "Done"}],
                                }
                            ],
                        ]
                    }
                },
            ]
        },
        "sessionInfo": {"parameters": {"balance": 310.0, "pending_transfer": None}},
        "payload": {"telephony": {"barge_in": False}},
        "targetPage": confirm_page,
    }
    (request,) = seen
    assert request.tag == "check-balance"
    assert request.intent == "check.balance"
    assert request.intent_parameters == {"account": "checking"}
    assert request.session_parameters["customer_id"] == "cus_1042"
    assert request.form_parameters[0].state == "FILLED"
    assert request.page == "Account Balance"
    assert request.text == "how much money is in my checking account"


async def test_dialogflow_cx_unknown_tag_without_fallback_is_empty() -> None:
    status, body = await call(Fulfillment(), load_fixture("cx_check_balance.json"))
    assert (status, body) == (200, {})


LEX_SLOTS = load_fixture("lex_order_flowers.json")["sessionState"]["intent"]["slots"]


async def test_lex_fulfillment_closes_the_intent() -> None:
    app = Fulfillment()
    seen: list[LexRequest] = []

    @app.lex_intent("OrderFlowers")
    def order(request: LexRequest) -> Reply:
        seen.append(request)
        flower = request.slot("FlowerType")
        return Reply(
            text=f"Your {flower} will be ready at {request.slot('PickupTime')}.",
            params={"last_order": "ord_77", "order_count": 3},
        )

    status, body = await call(app, load_fixture("lex_order_flowers.json"))

    assert status == 200
    assert body == {
        "sessionState": {
            "dialogAction": {"type": "Close"},
            "activeContexts": [],
            "intent": {
                "name": "OrderFlowers",
                "confirmationState": "Confirmed",
                "state": "Fulfilled",
                "slots": LEX_SLOTS,
            },
            "sessionAttributes": {
                "customer": "cus_1042",
                "last_order": "ord_77",
                "order_count": "3",
            },
        },
        "messages": [{"contentType": "PlainText", "content": "Your roses will be ready at 10:00."}],
    }
    (request,) = seen
    assert request.invocation_source == "FulfillmentCodeHook"
    slot = request.slots["PickupDate"]
    assert slot is not None
    assert slot.original_value == "tomorrow"
    assert slot.resolved_values == ("2026-11-24",)


async def test_lex_dialog_hook_elicits_a_slot_with_a_card() -> None:
    app = Fulfillment()

    @app.lex_intent("OrderFlowers")
    def order(request: LexRequest) -> Reply:
        assert request.slots["PickupDate"] is None
        return Reply(
            text="When would you like to pick up your tulips?",
            quick_replies=["Today", "Tomorrow"],
            lex_dialog_action=LexDialogAction.ELICIT_SLOT,
            lex_slot_to_elicit="PickupDate",
        )

    document = load_fixture("lex_order_flowers_dialog.json")
    status, body = await call(app, document)

    assert status == 200
    assert body == {
        "sessionState": {
            "dialogAction": {"type": "ElicitSlot", "slotToElicit": "PickupDate"},
            "intent": {**document["sessionState"]["intent"], "state": "InProgress"},
            "sessionAttributes": {},
        },
        "messages": [
            {"contentType": "PlainText", "content": "When would you like to pick up your tulips?"},
            {
                "contentType": "ImageResponseCard",
                "imageResponseCard": {
                    "title": "When would you like to pick up your tulips?",
                    "buttons": [
                        {"text": "Today", "value": "Today"},
                        {"text": "Tomorrow", "value": "Tomorrow"},
                    ],
                },
            },
        ],
    }


async def test_lex_unknown_intent_without_fallback_delegates() -> None:
    document = load_fixture("lex_order_flowers_dialog.json")
    status, body = await call(Fulfillment(), document)
    assert status == 200
    assert body == {
        "sessionState": {
            "dialogAction": {"type": "Delegate"},
            "intent": document["sessionState"]["intent"],
            "sessionAttributes": {},
        }
    }


async def test_rasa_action_sets_slots_and_utters() -> None:
    app = Fulfillment()
    seen: list[RasaRequest] = []

    @app.action("action_check_balance")
    async def check(request: RasaRequest) -> Reply:
        seen.append(request)
        await asyncio.sleep(0)
        return Reply(
            text="You have 1,204.50 EUR in savings.",
            quick_replies=["Transfer"],
            params={"balance": 1204.5},
            rasa_events=[{"event": "followup", "timestamp": None, "name": "action_offer_help"}],
        )

    status, body = await call(app, load_fixture("rasa_action_check_balance.json"))

    assert status == 200
    assert body == {
        "events": [
            {"event": "slot", "timestamp": None, "name": "balance", "value": 1204.5},
            {"event": "followup", "timestamp": None, "name": "action_offer_help"},
        ],
        "responses": [
            {
                "text": "You have 1,204.50 EUR in savings.",
                "buttons": [{"title": "Transfer", "payload": "Transfer"}],
                "elements": [],
                "custom": {},
                "template": None,
                "response": None,
                "image": None,
                "attachment": None,
            }
        ],
    }
    (request,) = seen
    assert request.intent == "check_balance"
    assert request.slot("account") == "savings"
    assert request.sender_id == "c2a7e0f4b19d4d59"
    assert len(request.events) == 5


async def test_rasa_unknown_action_is_404_even_with_a_fallback() -> None:
    app = Fulfillment()
    app.fallback(lambda request: Reply(text="fallback"))
    status, body = await call(app, load_fixture("rasa_action_check_balance.json"))
    assert status == 404
    assert body == {
        "error": "No registered action found for name 'action_check_balance'.",
        "action_name": "action_check_balance",
    }
