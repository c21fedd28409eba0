"""Answer "what is my balance?" for Dialogflow ES and Dialogflow CX agents.

Run it with ``hookd fulfill examples.banking_bot.app:app --port 8080``.
"""

from __future__ import annotations

import os
from decimal import Decimal

from hookd.fulfillment import (
    BasicAuth,
    DialogflowCXRequest,
    DialogflowESRequest,
    Fulfillment,
    Reply,
)

# A stand-in for the core banking system: balances by customer and account type.
BALANCES: dict[str, dict[str, Decimal]] = {
    "cus_1042": {"savings": Decimal("1204.50"), "checking": Decimal("310.00")},
}
DEFAULT_CUSTOMER = "cus_1042"
ACCOUNT_TYPES = ("savings", "checking")


def _verification() -> BasicAuth | None:
    # Set both to require the basic auth configured on the Dialogflow webhook.
    user = os.environ.get("BANKING_BOT_USER")
    password = os.environ.get("BANKING_BOT_PASSWORD")
    return BasicAuth(user, password) if user and password else None


app = Fulfillment(verification=_verification(), deadline_seconds=5.0)


def balance_reply(customer: str, account: str) -> Reply:
    """The balance sentence, or a question when the account type is not known yet."""
    accounts = BALANCES.get(customer, {})
    if account not in accounts:
        return Reply(
            text="Which account would you like the balance for?",
            quick_replies=[name.title() for name in ACCOUNT_TYPES],
        )
    amount = accounts[account]
    return Reply(
        text=f"Your {account} balance is {amount:,.2f} EUR.",
        params={"last_account": account},
    )


@app.intent("GetAccountBalance")
def es_balance(request: DialogflowESRequest) -> Reply:
    """Dialogflow ES: the account comes from the intent, the customer from ``session-vars``."""
    session_vars = request.context("session-vars")
    customer = DEFAULT_CUSTOMER
    if session_vars is not None:
        customer = str(session_vars.parameters.get("customer_id", DEFAULT_CUSTOMER))
    return balance_reply(customer, str(request.parameters.get("account", "")))


@app.tag("check-balance")
def cx_balance(request: DialogflowCXRequest) -> Reply:
    """Dialogflow CX: both come from session parameters filled by the page's form."""
    customer = str(request.session_parameters.get("customer_id", DEFAULT_CUSTOMER))
    account = request.session_parameters.get("account") or request.intent_parameters.get("account")
    return balance_reply(customer, str(account or ""))


@app.fallback
def unknown(request: DialogflowESRequest | DialogflowCXRequest) -> Reply:
    """Anything else: say what the bot can do."""
    return Reply(text="I can tell you the balance of your savings or checking account.")
