"""GitHub (with its published test vector), Shopify and Meta: HMACs over the raw body."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson

from hookd.core.providers import describe_request, handshake_reply
from tests.unit.providers.inbound_builders import NOW, check, inbound, rotation, source

GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_VECTOR = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def hub(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}=" + hmac.new(secret.encode(), body, algorithm).hexdigest()


def test_github_published_vector() -> None:
    headers = {"X-Hub-Signature-256": f"sha256={GITHUB_VECTOR}"}
    src = source("github", secret=GITHUB_SECRET)
    # GitHub's vector signs text: the signature verifies, then the body is refused (not JSON).
    assert check(src, inbound(GITHUB_BODY, headers)).code == "malformed_body"
    assert check(src, inbound(b"Hello, World?", headers)).code == "signature_mismatch"
    assert not check(source("github", secret="other"), inbound(GITHUB_BODY, headers)).ok
    upper = {"x-hub-signature-256": f"sha256={GITHUB_VECTOR.upper()}"}
    assert check(src, inbound(GITHUB_BODY, upper)).code == "malformed_body"


def test_github_sha1_only_when_allowed() -> None:
    headers = {"X-Hub-Signature": hub(GITHUB_SECRET, GITHUB_BODY, "sha1")}
    assert not check(source("github", secret=GITHUB_SECRET), inbound(GITHUB_BODY, headers)).ok
    allowed = source("github", secret=GITHUB_SECRET, allowSha1=True)
    assert check(allowed, inbound(GITHUB_BODY, headers)).code == "malformed_body"  # verified


def test_github_ping_is_a_handshake_and_events_are_named() -> None:
    src = source("github", secret=GITHUB_SECRET)
    body = orjson.dumps({"zen": "Keep it logically awesome.", "hook_id": 1})
    headers = {
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": hub(GITHUB_SECRET, body),
    }
    reply = handshake_reply(src, inbound(body, headers), NOW)
    assert reply is not None
    assert reply.status == 200
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert handshake_reply(src, inbound(body, unsigned), NOW) is None
    push = describe_request(src, inbound(body, headers | {"X-GitHub-Event": "push"}))
    assert push.event_type == "github.push"
    assert push.dedup_key == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert describe_request(src, inbound(body, headers)).event_type == "github.ping"


def shopify_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_shopify_signature_rotation_and_headers() -> None:
    body = orjson.dumps({"id": 820982911946154508, "email": "jon@example.com"})
    headers = {
        "X-Shopify-Hmac-Sha256": shopify_hmac("new-secret", body),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    }
    src = source("shopify", secret="new-secret")
    assert check(src, inbound(body, headers)).ok
    assert not check(src, inbound(body + b" ", headers)).ok
    old_headers = headers | {"X-Shopify-Hmac-Sha256": shopify_hmac("old-secret", body)}
    assert not check(src, inbound(body, old_headers)).ok
    rotated = source("shopify", secret="new-secret", **rotation("old-secret", expires_in=3600))
    assert check(rotated, inbound(body, old_headers)).ok
    description = describe_request(src, inbound(body, headers))
    assert description.event_type == "shopify.orders/create"
    assert description.dedup_key == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    # The Events delivery drops the X- prefix.
    events = {k.removeprefix("X-"): v for k, v in headers.items()}
    assert check(src, inbound(body, events)).ok
    assert describe_request(src, inbound(body, events)).dedup_key == headers["X-Shopify-Webhook-Id"]


WHATSAPP = orjson.dumps(
    {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messages": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFF"}]
                        },
                    }
                ],
            }
        ],
    }
)


def test_meta_signature_event_type_and_dedup() -> None:
    src = source("meta", secret="app-secret", verifyToken="my-verify-token")
    headers = {"X-Hub-Signature-256": hub("app-secret", WHATSAPP)}
    assert check(src, inbound(WHATSAPP, headers)).ok
    assert not check(src, inbound(WHATSAPP + b" ", headers)).ok
    assert check(src, inbound(WHATSAPP)).reason == "missing header X-Hub-Signature-256"
    description = describe_request(src, inbound(WHATSAPP))
    assert description.event_type == "meta.whatsapp_business_account.messages"
    assert description.dedup_key is not None
    assert description.dedup_key.startswith("wamid.")
    status = orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {"statuses": [{"id": "wamid.X", "status": "read"}]},
                        }
                    ]
                }
            ],
        }
    )
    assert describe_request(src, inbound(status)).dedup_key == "wamid.X:read"


def test_meta_subscription_handshake() -> None:
    src = source("meta", secret="app-secret", verifyToken="my-verify-token")
    query = "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444"
    reply = handshake_reply(src, inbound(method="GET", url=f"https://h.example/in/s?{query}"), NOW)
    assert reply is not None
    assert (reply.status, reply.body) == (200, b"1158201444")
    assert reply.content_type is not None
    assert reply.content_type.startswith("text/plain")
    wrong = query.replace("my-verify-token", "guess")
    refused = handshake_reply(
        src, inbound(method="GET", url=f"https://h.example/in/s?{wrong}"), NOW
    )
    assert refused is not None
    assert refused.status == 403
    script = query.replace("1158201444", "%3Cscript%3E")
    unsafe = handshake_reply(
        src, inbound(method="GET", url=f"https://h.example/in/s?{script}"), NOW
    )
    assert unsafe is not None
    assert unsafe.status == 400
    assert handshake_reply(src, inbound(WHATSAPP), NOW) is None
