"""Delivery end to end: the Svix SDK creates, hookd signs and sends, a real receiver verifies."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import orjson
import pytest
import standardwebhooks
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from svix.api import (
    EndpointIn,
    EndpointSecretRotateIn,
    MessageAttemptListByMsgOptions,
    MessageIn,
    SvixAsync,
)
from svix.models import MessageAttemptTriggerType, MessageStatus

from tests.support import Receiver, eventually


async def test_delivery_is_signed_over_the_exact_bytes_and_verifies(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    secret = (await svix.endpoint.get_secret(app_id, endpoint.id)).key
    payload = {
        "type": "invoice.paid",
        "amount": 1250,
        "note": "naïve, ünïcode ✓",
        "nested": {"a": [1, 2.5]},
    }

    msg = await svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload=payload))

    [request] = await receiver.wait_for(1)
    standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == msg.id
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("hookd/")
    assert orjson.loads(request.body) == payload

    async def attempt_recorded() -> bool:
        attempts = await svix.message_attempt.list_by_msg(app_id, msg.id)
        return len(attempts.data) == 1 and attempts.data[0].status == MessageStatus.SUCCESS

    await eventually(attempt_recorded)
    attempt = (await svix.message_attempt.list_by_msg(app_id, msg.id)).data[0]
    assert attempt.response_status_code == 204
    assert attempt.endpoint_id == endpoint.id
    assert attempt.trigger_type == MessageAttemptTriggerType.SCHEDULED


async def test_failing_receiver_is_retried_until_it_succeeds(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.responses = [500, 503]
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    secret = (await svix.endpoint.get_secret(app_id, endpoint.id)).key
    msg = await svix.message.create(app_id, MessageIn(event_type="user.created", payload={"id": 7}))

    requests = await receiver.wait_for(3)
    verifier = standardwebhooks.Webhook(secret)
    for request in requests:
        verifier.verify(request.body, request.headers)
        assert request.headers["webhook-id"] == msg.id  # stable across retries
    # Each retry is signed afresh with its own timestamp, over the same bytes.
    assert len({r.body for r in requests}) == 1

    async def three_attempts() -> list[int]:
        attempts = await svix.message_attempt.list_by_msg(app_id, msg.id)
        codes = [a.response_status_code for a in reversed(attempts.data)]
        return codes if codes == [500, 503, 204] else []

    await eventually(three_attempts)


async def test_redirect_is_a_failure_and_not_followed(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.responses = [
        web.Response(status=302, headers={"Location": receiver.url_for("/other")})
    ]
    await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    await receiver.wait_for(2)
    assert [r.path for r in receiver.requests[:2]] == ["/hook", "/hook"]

    async def first_attempt_failed() -> bool:
        data = (await svix.message_attempt.list_by_msg(app_id, msg.id)).data
        return any(a.response_status_code == 302 and a.status == MessageStatus.FAIL for a in data)

    await eventually(first_attempt_failed)


async def test_response_body_is_kept_up_to_20kb(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.responses = [web.Response(status=200, body=b"x" * 50_000)]
    await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))

    async def stored() -> str:
        data = (await svix.message_attempt.list_by_msg(app_id, msg.id)).data
        return data[0].response if data else ""

    assert await eventually(stored) == "x" * 20_000


async def test_rotated_secret_co_signs_during_grace(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    old = (await svix.endpoint.get_secret(app_id, endpoint.id)).key
    await svix.endpoint.rotate_secret(app_id, endpoint.id, EndpointSecretRotateIn())
    new = (await svix.endpoint.get_secret(app_id, endpoint.id)).key
    assert new != old

    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"k": 1}))
    [request] = await receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split()) == 2
    standardwebhooks.Webhook(old).verify(request.body, request.headers)
    standardwebhooks.Webhook(new).verify(request.body, request.headers)


async def test_rotation_without_grace_signs_with_the_new_key_only(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    old = (await svix.endpoint.get_secret(app_id, endpoint.id)).key
    await svix.endpoint.rotate_secret(
        app_id, endpoint.id, EndpointSecretRotateIn(grace_period_seconds=0)
    )
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    [request] = await receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split()) == 1
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(request.body, request.headers)


async def test_ed25519_endpoint_signs_v1a(svix: SvixAsync, app_id: str, receiver: Receiver) -> None:
    from hookd.core.signing import generate_ed25519_secret, parse_signing_key

    secret = generate_ed25519_secret()
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url, secret=secret))
    got = await svix.endpoint.get_secret(app_id, endpoint.id)
    assert got.key == secret
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"signed": "ed25519"}))
    [request] = await receiver.wait_for(1)
    version, _, value = request.headers["webhook-signature"].partition(",")
    assert version == "v1a"
    content = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
        + request.body
    )
    public = parse_signing_key(secret).public  # type: ignore[union-attr]
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(value), content)


async def test_rotating_an_ed25519_endpoint_keeps_the_key_type(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    """A rotation without a key makes a new key of the same type: a whsk_ endpoint's consumers
    verify with its public key, so an HMAC key in its place would break them."""
    from hookd.core.signing import Ed25519Key, generate_ed25519_secret, parse_signing_key

    old = generate_ed25519_secret()
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url, secret=old))
    await svix.endpoint.rotate_secret(app_id, endpoint.id, EndpointSecretRotateIn())
    new = (await svix.endpoint.get_secret(app_id, endpoint.id)).key
    assert new.startswith("whsk_")
    assert new != old
    old_key, new_key = parse_signing_key(old), parse_signing_key(new)
    assert isinstance(old_key, Ed25519Key)
    assert isinstance(new_key, Ed25519Key)

    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"rotated": True}))
    [request] = await receiver.wait_for(1)
    content = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
        + request.body
    )
    entries = [entry.split(",", 1) for entry in request.headers["webhook-signature"].split()]
    assert [version for version, _ in entries] == ["v1a", "v1a"]  # the new key and the old one
    for key in (new_key, old_key):
        public = Ed25519PublicKey.from_public_bytes(key.public)
        assert sum(_verifies(public, base64.b64decode(value), content) for _, value in entries) == 1


def _verifies(public: Ed25519PublicKey, signature: bytes, content: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(signature, content)
    except InvalidSignature:
        return False
    return True


async def test_custom_headers_are_sent(svix: SvixAsync, app_id: str, receiver: Receiver) -> None:
    await svix.endpoint.create(
        app_id,
        EndpointIn(url=receiver.url, headers={"X-Tenant": "acme", "Authorization": "Bearer t"}),
    )
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    [request] = await receiver.wait_for(1)
    assert request.headers["X-Tenant"] == "acme"
    assert request.headers["Authorization"] == "Bearer t"


async def test_fan_out_respects_filter_types_channels_and_disabled(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    await svix.endpoint.create(app_id, EndpointIn(url=receiver.url_for("/all")))
    await svix.endpoint.create(
        app_id, EndpointIn(url=receiver.url_for("/invoices"), event_types=["invoice.paid"])
    )
    await svix.endpoint.create(app_id, EndpointIn(url=receiver.url_for("/eu"), channels=["eu"]))
    await svix.endpoint.create(app_id, EndpointIn(url=receiver.url_for("/off"), disabled=True))

    await svix.message.create(
        app_id, MessageIn(event_type="invoice.paid", payload={"n": 1}, channels=["us"])
    )
    await svix.message.create(
        app_id, MessageIn(event_type="user.created", payload={"n": 2}, channels=["eu"])
    )
    await receiver.wait_for(4)
    got = sorted((r.path, orjson.loads(r.body)["n"]) for r in receiver.requests)
    assert got == [("/all", 1), ("/all", 2), ("/eu", 2), ("/invoices", 1)]


async def test_gone_disables_the_endpoint(svix: SvixAsync, app_id: str, receiver: Receiver) -> None:
    receiver.default = 410
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    await receiver.wait_for(1)

    async def disabled() -> bool:
        return bool((await svix.endpoint.get(app_id, endpoint.id)).disabled)

    await eventually(disabled)
    destinations = await svix.message_attempt.list_attempted_destinations(app_id, msg.id)
    assert destinations.data[0].status == MessageStatus.FAIL
    assert len(receiver.requests) == 1  # not retried


async def test_retry_after_postpones_the_next_attempt(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.responses = [web.Response(status=429, headers={"Retry-After": "120"})]
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    await receiver.wait_for(1)

    async def scheduled() -> float:
        [dest] = (await svix.message_attempt.list_attempted_destinations(app_id, msg.id)).data
        if dest.next_attempt is None or dest.status != MessageStatus.PENDING:
            return 0.0
        return (dest.next_attempt - msg.timestamp).total_seconds()

    # Scheduled 1 s later by the test schedule, but the receiver asked for 120 s (±20% jitter).
    assert await eventually(scheduled) >= 90
    assert endpoint.id


async def test_exhausted_delivery_is_a_visible_dead_letter_and_resend_recovers_it(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.default = 500
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"dead": True}))
    await receiver.wait_for(4)  # 1 + 3 retries in the test schedule

    async def failed() -> bool:
        [dest] = (await svix.message_attempt.list_attempted_destinations(app_id, msg.id)).data
        return dest.status == MessageStatus.FAIL

    await eventually(failed)
    stats = await svix.endpoint.get_stats(app_id, endpoint.id)
    assert stats.fail == 1

    receiver.default = 200
    await svix.message_attempt.resend(app_id, msg.id, endpoint.id)
    await receiver.wait_for(5)

    async def manual_success() -> bool:
        attempts = (
            await svix.message_attempt.list_by_msg(
                app_id, msg.id, MessageAttemptListByMsgOptions(status=MessageStatus.SUCCESS)
            )
        ).data
        return len(attempts) == 1 and attempts[0].trigger_type == MessageAttemptTriggerType.MANUAL

    await eventually(manual_success)


async def test_an_endpoint_can_be_a_redis_stream(svix: SvixAsync, app_id: str) -> None:
    """Broker destinations go through the same worker, retries and attempt records."""
    import redis.asyncio as aioredis

    from tests.support import require_service

    require_service("redis", "127.0.0.1", 6379)
    stream = f"hookd-test-{app_id}"
    endpoint = await svix.endpoint.create(
        app_id, EndpointIn(url=f"redis://127.0.0.1:6379/0?stream={stream}")
    )
    secret = (await svix.endpoint.get_secret(app_id, endpoint.id)).key
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"to": "redis"}))
    client = aioredis.Redis(host="127.0.0.1", port=6379)
    try:

        async def entries() -> list[Any]:
            found: Any = await client.xrange(stream)  # typed as sync or async by redis-py
            return list(found)

        [(_, fields)] = await eventually(entries)
        body = fields[b"body"]
        headers = orjson.loads(fields[b"headers"])
        standardwebhooks.Webhook(secret).verify(body, headers)
        assert orjson.loads(body) == {"to": "redis"} and headers["webhook-id"] == msg.id
    finally:
        await client.delete(stream)
        await client.aclose()

    async def recorded() -> bool:
        data = (await svix.message_attempt.list_by_msg(app_id, msg.id)).data
        return bool(data) and data[0].status == MessageStatus.SUCCESS

    await eventually(recorded)


async def test_deleting_an_endpoint_mid_attempt_does_not_stall_other_deliveries(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def held(_: object) -> int:
        arrived.set()
        await release.wait()
        return 204

    receiver.responses = [held]
    doomed = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url_for("/doomed")))
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"n": 1}))
    await asyncio.wait_for(arrived.wait(), 15)
    # The attempt is in flight; its endpoint (and with it the delivery row) goes away.
    await svix.endpoint.delete(app_id, doomed.id)
    release.set()

    await svix.endpoint.create(app_id, EndpointIn(url=receiver.url_for("/after")))
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"n": 2}))
    (after,) = await receiver.wait_for(1, path="/after")
    assert orjson.loads(after.body) == {"n": 2}
