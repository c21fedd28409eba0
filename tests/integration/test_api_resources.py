"""Every management route, driven through the official Svix SDK pointed at hookd."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from svix.api import (
    ApplicationIn,
    ApplicationListOptions,
    ApplicationPatch,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointListOptions,
    EndpointPatch,
    EventTypeIn,
    EventTypeListOptions,
    EventTypePatch,
    MessageAttemptListAttemptedMessagesOptions,
    MessageAttemptListByEndpointOptions,
    MessageGetOptions,
    MessageIn,
    MessageListOptions,
    RecoverIn,
    SvixAsync,
)
from svix.exceptions import HttpError
from svix.models import EndpointUpsertIn, EventTypeUpsertIn, MessageStatus

from tests.support import Receiver, eventually


def uid() -> str:
    return uuid.uuid4().hex[:16]


async def test_application_lifecycle(svix: SvixAsync) -> None:
    u = uid()
    app = await svix.application.create(ApplicationIn(name="Acme", uid=u, metadata={"plan": "pro"}))
    assert app.id.startswith("app_") and app.uid == u and app.metadata == {"plan": "pro"}

    same = await svix.application.get_or_create(ApplicationIn(name="ignored", uid=u))
    assert same.id == app.id and same.name == "Acme"

    assert (await svix.application.get(u)).id == app.id  # uid in place of id
    patched = await svix.application.patch(app.id, ApplicationPatch(name="Acme Inc"))
    assert patched.name == "Acme Inc" and patched.metadata == {"plan": "pro"}
    replaced = await svix.application.upsert(app.id, ApplicationIn(name="Acme 2", uid=u))
    assert replaced.name == "Acme 2" and replaced.metadata == {}

    created = await svix.application.upsert(f"new-{u}", ApplicationIn(name="Upserted"))
    assert created.uid == f"new-{u}"

    await svix.application.delete(app.id)
    with pytest.raises(HttpError) as exc:
        await svix.application.get(app.id)
    assert exc.value.status_code == 404 and exc.value.code == "not_found"


async def test_application_list_paginates(svix: SvixAsync) -> None:
    made = [
        (await svix.application.create(ApplicationIn(name=f"p{i}", uid=f"page-{uid()}"))).id
        for i in range(5)
    ]
    seen: list[str] = []
    iterator = None
    while True:
        page = await svix.application.list(ApplicationListOptions(limit=2, iterator=iterator))
        assert len(page.data) <= 2
        seen += [a.id for a in page.data]
        if page.done:
            break
        iterator = page.iterator
    assert seen == sorted(seen)
    assert set(made) <= set(seen)

    first = await svix.application.list(ApplicationListOptions(limit=2))
    second = await svix.application.list(ApplicationListOptions(limit=2, iterator=first.iterator))
    back = await svix.application.list(
        ApplicationListOptions(limit=2, iterator=second.prev_iterator)
    )
    assert [a.id for a in back.data] == [a.id for a in first.data]


async def test_endpoint_lifecycle(svix: SvixAsync, app_id: str) -> None:
    ep = await svix.endpoint.create(
        app_id,
        EndpointIn(
            url="https://example.com/hook",
            uid="primary",
            description="main",
            event_types=["invoice.paid"],
            channels=["eu"],
            throttle_rate=10,
            metadata={"team": "billing"},
        ),
    )
    assert ep.id.startswith("ep_")
    assert ep.event_types == ["invoice.paid"] and ep.channels == ["eu"] and ep.throttle_rate == 10
    assert (await svix.endpoint.get(app_id, "primary")).id == ep.id

    patched = await svix.endpoint.patch(
        app_id, ep.id, EndpointPatch(disabled=True, description="off")
    )
    assert patched.disabled and patched.description == "off" and patched.channels == ["eu"]
    replaced = await svix.endpoint.upsert(
        app_id, ep.id, EndpointUpsertIn(url="https://example.com/v2")
    )
    assert replaced.url == "https://example.com/v2" and replaced.channels is None

    listing = await svix.endpoint.list(app_id, EndpointListOptions(limit=10))
    assert [e.id for e in listing.data] == [ep.id] and listing.done

    secret = await svix.endpoint.get_secret(app_id, ep.id)
    assert secret.key.startswith("whsec_")

    await svix.endpoint.delete(app_id, ep.id)
    with pytest.raises(HttpError) as exc:
        await svix.endpoint.get(app_id, ep.id)
    assert exc.value.status_code == 404


async def test_endpoint_version_is_kept(api, app_id: str) -> None:
    created = await api.post(
        f"/api/v1/app/{app_id}/endpoint", json={"url": "https://example.com/x", "version": 2}
    )
    assert created.status_code == 201 and created.json()["version"] == 2
    assert created.json()["filterTypes"] is None


async def test_endpoint_headers(svix: SvixAsync, app_id: str) -> None:
    ep = await svix.endpoint.create(app_id, EndpointIn(url="https://example.com/hook"))
    await svix.endpoint.set_headers(
        app_id, ep.id, EndpointHeadersIn(headers={"X-One": "1", "Authorization": "Bearer s"})
    )
    got = await svix.endpoint.get_headers(app_id, ep.id)
    assert got.headers == {"X-One": "1"} and got.sensitive == ["Authorization"]
    await svix.endpoint.patch_headers(
        app_id, ep.id, EndpointHeadersPatchIn(headers={"X-Two": "2"}, delete_headers=["X-One"])
    )
    got = await svix.endpoint.get_headers(app_id, ep.id)
    assert got.headers == {"X-Two": "2"}


async def test_event_types(svix: SvixAsync) -> None:
    name = f"invoice.paid.{uid()}"
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "integer"}},
        "required": ["amount"],
    }
    et = await svix.event_type.create(
        EventTypeIn(name=name, description="Paid", schemas={"1": schema})
    )
    assert et.schemas == {"1": schema} and not et.archived

    patched = await svix.event_type.patch(name, EventTypePatch(deprecated=True))
    assert patched.deprecated and patched.schemas == {"1": schema}
    updated = await svix.event_type.upsert(name, EventTypeUpsertIn(description="Invoice paid"))
    assert updated.description == "Invoice paid" and updated.schemas is None

    with pytest.raises(HttpError) as exc:
        await svix.event_type.create(EventTypeIn(name=name, description="again"))
    assert exc.value.status_code == 409

    await svix.event_type.delete(name)
    archived = await svix.event_type.get(name)
    assert archived.archived
    listed = await svix.event_type.list(EventTypeListOptions(limit=250))
    assert name not in [e.name for e in listed.data]
    listed = await svix.event_type.list(EventTypeListOptions(limit=250, include_archived=True))
    assert name in [e.name for e in listed.data]


async def test_messages_list_get_and_filters(svix: SvixAsync, app_id: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    a = await svix.message.create(
        app_id, MessageIn(event_type="a.x", payload={"n": 1}, channels=["eu"])
    )
    b = await svix.message.create(
        app_id, MessageIn(event_type="b.y", payload={"n": 2}, event_id="evt-b")
    )

    got = await svix.message.get(app_id, a.id, MessageGetOptions(with_content=True))
    assert got.payload == {"n": 1} and got.channels == ["eu"]
    assert (
        await svix.message.get(app_id, "evt-b", MessageGetOptions(with_content=True))
    ).id == b.id
    assert (await svix.message.get(app_id, a.id)).payload == {}  # SDK v2 default: no content

    everything = await svix.message.list(app_id)
    assert [m.id for m in everything.data] == [b.id, a.id]  # newest first
    by_type = await svix.message.list(app_id, MessageListOptions(event_types=["b.y"]))
    assert [m.id for m in by_type.data] == [b.id]
    by_channel = await svix.message.list(app_id, MessageListOptions(channel="eu"))
    assert [m.id for m in by_channel.data] == [a.id]
    assert not (await svix.message.list(app_id, MessageListOptions(before=before))).data
    assert len((await svix.message.list(app_id, MessageListOptions(after=before))).data) == 2


async def test_duplicate_event_id_is_409(svix: SvixAsync, app_id: str) -> None:
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}, event_id="once"))
    with pytest.raises(HttpError) as exc:
        await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}, event_id="once"))
    assert exc.value.status_code == 409 and exc.value.code == "conflict"
    assert len((await svix.message.list(app_id)).data) == 1


async def test_message_creates_its_application_on_demand(svix: SvixAsync) -> None:
    u = f"implicit-{uid()}"
    msg = await svix.message.create(
        u, MessageIn(event_type="a.b", payload={}, application=ApplicationIn(name="Implicit"))
    )
    app = await svix.application.get(u)
    assert app.name == "Implicit"
    assert (await svix.message.list(u)).data[0].id == msg.id


async def test_attempt_routes(svix: SvixAsync, app_id: str, receiver: Receiver) -> None:
    ep = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"z": 1}))
    await receiver.wait_for(1)

    async def by_endpoint() -> list[Any]:
        return (await svix.message_attempt.list_by_endpoint(app_id, ep.id)).data

    [attempt] = await eventually(by_endpoint)
    assert attempt.msg_id == msg.id and attempt.status == MessageStatus.SUCCESS
    assert attempt.url == receiver.url
    one = await svix.message_attempt.get(app_id, msg.id, attempt.id)
    assert one.id == attempt.id and one.response_status_code == 204

    failed_only = await svix.message_attempt.list_by_endpoint(
        app_id, ep.id, MessageAttemptListByEndpointOptions(status=MessageStatus.FAIL)
    )
    assert failed_only.data == []

    [dest] = (await svix.message_attempt.list_attempted_destinations(app_id, msg.id)).data
    assert dest.id == ep.id and dest.status == MessageStatus.SUCCESS and dest.next_attempt is None

    [sent] = (
        await svix.message_attempt.list_attempted_messages(
            app_id, ep.id, MessageAttemptListAttemptedMessagesOptions(with_content=True)
        )
    ).data
    assert sent.id == msg.id and sent.payload == {"z": 1} and sent.status == MessageStatus.SUCCESS

    stats = await svix.endpoint.get_stats(app_id, ep.id)
    assert (stats.success, stats.fail, stats.pending) == (1, 0, 0)


async def test_resend_to_an_endpoint_the_message_never_went_to(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"late": 1}))
    ep = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    await svix.message_attempt.resend(app_id, msg.id, ep.id)
    [request] = await receiver.wait_for(1)
    assert request.headers["webhook-id"] == msg.id


async def test_recover_resends_failed_messages_since(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.default = 500
    ep = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    since = datetime.now(UTC) - timedelta(minutes=1)
    msgs = [
        await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"i": i}))
        for i in range(2)
    ]
    await receiver.wait_for(8)

    async def all_failed() -> bool:
        return (await svix.endpoint.get_stats(app_id, ep.id)).fail == 2

    await eventually(all_failed)
    receiver.default = 200
    task = await svix.endpoint.recover(app_id, ep.id, RecoverIn(since=since))
    assert task.status == "finished" and task.task == "endpoint.recover"

    async def all_succeeded() -> bool:
        return (await svix.endpoint.get_stats(app_id, ep.id)).success == 2

    await eventually(all_succeeded)
    assert {r.headers["webhook-id"] for r in receiver.requests[-2:]} == {m.id for m in msgs}


async def test_health(svix: SvixAsync, api) -> None:
    response = await api.get("/api/v1/health", headers={"Authorization": ""})
    assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_openapi_and_local_docs(api) -> None:
    spec = (await api.get("/openapi.json")).json()
    assert "/api/v1/app/{app_id}/msg" in spec["paths"]
    page = (await api.get("/docs")).text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    asset = await api.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


async def test_attempt_lists_share_their_filters(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    """status, before and after mean the same on the three attempt and delivery lists."""
    ep = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"z": 1}))
    await receiver.wait_for(1)
    paths = [
        f"/api/v1/app/{app_id}/attempt/endpoint/{ep.id}",
        f"/api/v1/app/{app_id}/attempt/msg/{msg.id}",
        f"/api/v1/app/{app_id}/endpoint/{ep.id}/msg",
    ]

    async def listed(path: str, **params: str | int) -> list[dict[str, object]]:
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        data: list[dict[str, object]] = response.json()["data"]
        return data

    async def all_succeeded() -> bool:
        return all([await listed(path, status=0) for path in paths])

    assert await eventually(all_succeeded)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for path in paths:
        assert await listed(path, status=2) == []  # failed
        assert await listed(path, before=past) == []
        assert await listed(path, after=future) == []
        assert len(await listed(path, after=past, before=future)) == 1
        bad = await api.get(path, params={"status": 7})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["query", "status"]
