"""Write the webhook that chatbot platforms call: Dialogflow ES and CX, Lex V2, Rasa.

Usable on its own, without the hookd server::

    from hookd.fulfillment import Fulfillment, Reply

    app = Fulfillment()

    @app.intent("GetAccountBalance")
    def balance(request):
        return Reply(text="Your balance is 42.00 EUR.")
"""

from hookd.fulfillment.app import (
    DEFAULT_ERROR_REPLY,
    DEFAULT_TIMEOUT_REPLY,
    Fulfillment,
    FulfillmentRequest,
)
from hookd.fulfillment.idempotency import StoredAnswer
from hookd.fulfillment.platforms.dialogflow_cx import CxFormParameter, DialogflowCXRequest
from hookd.fulfillment.platforms.dialogflow_es import DialogflowESRequest, EsContext
from hookd.fulfillment.platforms.lex import LexRequest, LexSlot
from hookd.fulfillment.platforms.rasa import ActionExecutionRejected, RasaRequest
from hookd.fulfillment.reply import (
    Button,
    Card,
    Context,
    DialogflowPlatform,
    FollowupEvent,
    LexDialogAction,
    LexIntentState,
    Reply,
)
from hookd.fulfillment.serve import load_target, serve
from hookd.fulfillment.verification import (
    BasicAuth,
    HeaderToken,
    StandardWebhooksSignature,
    VerificationFailed,
    Verifier,
)

__all__ = [
    "DEFAULT_ERROR_REPLY",
    "DEFAULT_TIMEOUT_REPLY",
    "ActionExecutionRejected",
    "BasicAuth",
    "Button",
    "Card",
    "Context",
    "CxFormParameter",
    "DialogflowCXRequest",
    "DialogflowESRequest",
    "DialogflowPlatform",
    "EsContext",
    "FollowupEvent",
    "Fulfillment",
    "FulfillmentRequest",
    "HeaderToken",
    "LexDialogAction",
    "LexIntentState",
    "LexRequest",
    "LexSlot",
    "RasaRequest",
    "Reply",
    "StandardWebhooksSignature",
    "StoredAnswer",
    "VerificationFailed",
    "Verifier",
    "load_target",
    "serve",
]
