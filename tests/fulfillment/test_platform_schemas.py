"""Rendered replies checked against the platforms' own schemas, used as oracles:

- Dialogflow ES and CX: Google's client libraries parse the response JSON into the API's
  ``WebhookResponse`` protos, rejecting unknown fields and enum values.
- Lex V2: botocore's ``lexv2-runtime`` service model, AWS's machine-readable API definition,
  gives the required fields, the enums and every length and count limit of a response's
  ``sessionState`` and ``messages``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from google.cloud import dialogflow_v2, dialogflowcx_v3

from hookd.fulfillment import (
    Button,
    Card,
    DialogflowCXRequest,
    DialogflowESRequest,
    DialogflowPlatform,
    Fulfillment,
    LexDialogAction,
    LexRequest,
    Reply,
)
from hookd.fulfillment.platforms import lex
from tests.fulfillment.fulfillment_harness import asgi_client, load_fixture


async def call(app: Fulfillment, document: dict[str, Any]) -> tuple[int, Any]:
    async with asgi_client(app) as client:
        response = await client.post("/", json=document)
    return response.status_code, response.json()


def rich_reply(**fields: Any) -> Reply:
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
        payload={"telegram": {"parse_mode": "Markdown"}},
        **fields,
    )


# --- Dialogflow ES ------------------------------------------------------------------------------


def test_platform_names_are_the_es_api_enum() -> None:
    platforms: Any = dialogflow_v2.Intent.Message.Platform  # a proto-plus enum, typed loosely
    oracle = [p.name for p in platforms]
    assert [p.value for p in DialogflowPlatform] == oracle
    assert [p.name for p in DialogflowPlatform] == oracle


@pytest.mark.parametrize("platform", [None, *DialogflowPlatform])
async def test_es_rich_reply_targets_a_platform(platform: DialogflowPlatform | None) -> None:
    app = Fulfillment()

    @app.intent("GetAccountBalance")
    def balance(request: DialogflowESRequest) -> Reply:
        return rich_reply(platform=platform)

    status, body = await call(app, load_fixture("es_get_account_balance.json"))
    assert status == 200
    parsed = dialogflow_v2.WebhookResponse.from_json(json.dumps(body))  # strict: the oracle
    messages = body["fulfillmentMessages"]
    assert [next(k for k in m if k != "platform") for m in messages] == [
        "text",
        "quickReplies",
        "card",
    ]
    if platform is None:
        assert all("platform" not in m for m in messages)
    else:
        assert all(m["platform"] == platform.value for m in messages)
        assert {m.platform.name for m in parsed.fulfillment_messages} == {platform.name}
    assert body["fulfillmentText"] == "Which account?"


def test_platform_may_be_given_by_its_enum_name_and_nothing_else() -> None:
    assert Reply(text="hi", platform="TELEGRAM").platform is DialogflowPlatform.TELEGRAM  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="TELEGRM"):
        Reply(text="hi", platform="TELEGRM")  # type: ignore[arg-type]


# --- Dialogflow CX ------------------------------------------------------------------------------


def test_cx_messages_have_a_free_form_channel_not_a_platform_enum() -> None:
    fields = dialogflowcx_v3.ResponseMessage.meta.fields
    assert "platform" not in fields
    assert "channel" in fields  # a string the agent's designer chooses, not an enum


async def test_cx_reply_parses_and_ignores_the_es_platform() -> None:
    app = Fulfillment()

    @app.tag("check-balance")
    def check(request: DialogflowCXRequest) -> Reply:
        return rich_reply(platform=DialogflowPlatform.TELEGRAM, params={"seen": True})

    status, body = await call(app, load_fixture("cx_check_balance.json"))
    assert status == 200
    dialogflowcx_v3.WebhookResponse.from_json(json.dumps(body))  # strict: the oracle
    assert "platform" not in json.dumps(body)


# --- Lex V2 -------------------------------------------------------------------------------------

LEX_MODEL: Any = botocore.session.get_session().get_service_model("lexv2-runtime")


def shape_errors(shape: Any, value: Any, path: str) -> Iterator[str]:
    """What in ``value`` breaks botocore's ``shape``: required members, enums, min and max."""
    limits = shape.metadata
    if value is None:
        return  # JSON null is an absent member (Lex itself sends empty slots as null)
    if shape.type_name == "structure":
        assert isinstance(value, dict), path
        for name in limits.get("required", []):
            if name not in value:
                yield f"{path}.{name} is required"
        for name, member in value.items():
            if name in shape.members:
                yield from shape_errors(shape.members[name], member, f"{path}.{name}")
    elif shape.type_name == "list":
        assert isinstance(value, list), path
        low, high = limits.get("min", 0), limits.get("max", len(value))
        if not low <= len(value) <= high:
            yield f"{path} has {len(value)} items, allowed {low}..{high}"
        for n, item in enumerate(value):
            yield from shape_errors(shape.member, item, f"{path}[{n}]")
    elif shape.type_name == "map":
        assert isinstance(value, dict), path
        for key, item in value.items():
            yield from shape_errors(shape.value, item, f"{path}[{key}]")
    elif shape.type_name == "string":
        assert isinstance(value, str), path
        if "enum" in limits and value not in limits["enum"]:
            yield f"{path} = {value!r} is not one of {limits['enum']}"
        low, high = limits.get("min", 0), limits.get("max", len(value))
        if not low <= len(value) <= high:
            yield f"{path} has {len(value)} characters, allowed {low}..{high}"


def lex_errors(response: dict[str, Any]) -> list[str]:
    errors = list(
        shape_errors(LEX_MODEL.shape_for("SessionState"), response["sessionState"], "sessionState")
    )
    if "messages" in response:
        errors += shape_errors(LEX_MODEL.shape_for("Messages"), response["messages"], "messages")
    action = response["sessionState"]["dialogAction"]["type"]
    if action in ("ConfirmIntent", "ElicitIntent") and not response.get("messages"):
        # The Lambda response format: "messages" is required for these two dialog actions.
        errors.append(f"messages are required with {action}")
    return errors


def test_lex_limits_are_the_api_models() -> None:
    card = LEX_MODEL.shape_for("ImageResponseCard").members
    button = LEX_MODEL.shape_for("Button").members
    assert lex.CARD_TITLE_MAX == card["title"].metadata["max"] == 250
    assert lex.CARD_SUBTITLE_MAX == card["subtitle"].metadata["max"] == 250
    assert lex.CARD_IMAGE_URL_MAX == card["imageUrl"].metadata["max"] == 250
    assert lex.CARD_BUTTONS_MAX == card["buttons"].metadata["max"] == 5
    assert lex.BUTTON_TEXT_MAX == button["text"].metadata["max"] == 50
    assert lex.BUTTON_VALUE_MAX == button["value"].metadata["max"] == 50
    assert lex.MESSAGES_MAX == LEX_MODEL.shape_for("Messages").metadata["max"] == 10


async def lex_answer(reply: Reply) -> dict[str, Any]:
    app = Fulfillment()

    @app.lex_intent("OrderFlowers")
    def order(request: LexRequest) -> Reply:
        return reply

    status, body = await call(app, load_fixture("lex_order_flowers_dialog.json"))
    assert status == 200
    assert isinstance(body, dict)
    return body


def cards(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        m["imageResponseCard"]
        for m in response.get("messages", [])
        if m["contentType"] == "ImageResponseCard"
    ]


async def test_lex_rich_reply_is_valid_as_it_was() -> None:
    response = await lex_answer(rich_reply())
    assert lex_errors(response) == []
    assert cards(response)[1] == {
        "title": "Savings",
        "subtitle": "IBAN ending 4021",
        "imageUrl": "https://bank.example/savings.png",
        "buttons": [{"text": "Show", "value": "show savings"}],
    }


async def test_lex_eight_quick_replies_keep_the_first_five_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    choices = [f"Option {n}" for n in range(1, 9)]
    with caplog.at_level(logging.WARNING, logger="hookd.fulfillment"):
        response = await lex_answer(Reply(text="Pick one", quick_replies=choices))
    assert lex_errors(response) == []
    (card,) = cards(response)
    assert [b["value"] for b in card["buttons"]] == choices[:5]
    assert "5 buttons" in caplog.text and "dropped 3" in caplog.text


async def test_lex_card_with_too_many_buttons_keeps_the_first_five() -> None:
    buttons = [Button(f"B{n}", f"b{n}") for n in range(7)]
    response = await lex_answer(Reply(cards=[Card("Pick", buttons=buttons)]))
    assert lex_errors(response) == []
    assert [b["value"] for b in cards(response)[0]["buttons"]] == ["b0", "b1", "b2", "b3", "b4"]


async def test_lex_long_texts_are_cut_to_the_limits(caplog: pytest.LogCaptureFixture) -> None:
    prompt = "When would you like to pick up your flowers? " * 7  # 315 characters
    long_label = "Tomorrow morning between nine and ten, at the shop"  # 50
    with caplog.at_level(logging.WARNING, logger="hookd.fulfillment"):
        response = await lex_answer(
            Reply(
                text=prompt,
                quick_replies=[long_label, long_label + " please"],
                cards=[Card("T" * 300, subtitle="S" * 251, buttons=[Button("x" * 60, "ok")])],
                lex_dialog_action=LexDialogAction.ELICIT_SLOT,
                lex_slot_to_elicit="PickupDate",
            )
        )
    assert lex_errors(response) == []
    assert response["messages"][0]["content"] == prompt  # plain text is not a card title
    quick, card = cards(response)
    assert len(quick["title"]) == 250 and quick["title"].endswith("…")
    assert prompt.startswith(quick["title"][:-1])
    # A quick reply is both label and value: both are cut alike, so the value is what was shown.
    assert quick["buttons"][0] == {"text": long_label, "value": long_label}
    cut = long_label[:49] + "…"
    assert quick["buttons"][1] == {"text": cut, "value": cut}
    assert (len(card["title"]), len(card["subtitle"]), len(card["buttons"][0]["text"])) == (
        250,
        250,
        50,
    )
    assert "250 characters" in caplog.text and "50 characters" in caplog.text


async def test_lex_image_url_over_the_limit_is_left_out() -> None:
    url = "https://bank.example/" + "a" * 240 + ".png"
    response = await lex_answer(Reply(cards=[Card("Savings", image_url=url)]))
    assert lex_errors(response) == []
    assert cards(response) == [{"title": "Savings"}]


async def test_lex_button_value_over_the_limit_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A value is what Lex receives when the button is pressed: cutting it would change it.
    reply = Reply(cards=[Card("Pick", buttons=[Button("Savings", "account:" + "9" * 50)])])
    with caplog.at_level(logging.ERROR, logger="hookd.fulfillment"):
        response = await lex_answer(reply)
    assert lex_errors(response) == []
    assert response["messages"] == [
        {"contentType": "PlainText", "content": Fulfillment().error_reply.text}
    ]
    assert "allows 50 characters in a button value" in caplog.text


async def test_lex_empty_card_title_or_button_text_is_refused() -> None:
    for reply in (
        Reply(cards=[Card("")]),
        Reply(cards=[Card("Pick", buttons=[Button("", "v")])]),
        Reply(text="Pick", quick_replies=["Yes", ""]),
    ):
        response = await lex_answer(reply)
        assert lex_errors(response) == []
        assert response["sessionState"]["intent"]["state"] == "Failed"  # the error reply


async def test_lex_more_than_ten_messages_keep_the_first_ten() -> None:
    many = [Card(f"Card {n}") for n in range(12)]
    response = await lex_answer(Reply(text="Here", cards=many))
    assert lex_errors(response) == []
    assert [m.get("content") or m["imageResponseCard"]["title"] for m in response["messages"]] == [
        "Here",
        *(f"Card {n}" for n in range(9)),
    ]


@pytest.mark.parametrize("action", [LexDialogAction.CONFIRM_INTENT, LexDialogAction.ELICIT_INTENT])
def test_lex_confirm_and_elicit_intent_need_a_message(action: LexDialogAction) -> None:
    with pytest.raises(ValueError, match="requires messages"):
        Reply(lex_dialog_action=action)
    for fine in (
        Reply(text="Order tulips?", lex_dialog_action=action),
        Reply(cards=[Card("Tulips?")], lex_dialog_action=action),
        Reply(payload={"x": 1}, lex_dialog_action=action),
    ):
        assert fine.lex_dialog_action is action


async def test_lex_handler_answering_confirm_intent_without_text_gets_the_error_reply() -> None:
    app = Fulfillment()

    @app.lex_intent("OrderFlowers")
    def order(request: LexRequest) -> Reply:
        return Reply(lex_dialog_action=LexDialogAction.CONFIRM_INTENT)

    status, body = await call(app, load_fixture("lex_order_flowers_dialog.json"))
    assert status == 200
    assert lex_errors(body) == []
    assert body["messages"][0]["content"] == app.error_reply.text
