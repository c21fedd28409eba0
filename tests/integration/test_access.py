"""Access (issue 17): API keys with scopes, app portal tokens, and their limits on every route.

The walks take every operation of the OpenAPI document, so a new route cannot be forgotten: it is
either in ``api.access.rules.RULES`` (and checked as its rule says) or for full admins only (and
refused to every other principal), or in the public list below.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from svix.api import (
    ApplicationIn,
    ApplicationTokenExpireIn,
    AppPortalAccessIn,
    EventTypeIn,
    SvixAsync,
    SvixOptions,
)
from svix.exceptions import HttpError

from hookd.api.access.rules import RULES, SELF_CHECKED
from hookd.core.access import Capability, Rule
from tests.pg import create_database, drop_database
from tests.support import TOKEN, HookdServer, NewServer, Receiver, eventually

pytestmark = pytest.mark.asyncio

# Operations that take no token at all.
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/health/live"),
    ("GET", "/api/v1/health/ready"),
    ("GET", "/api/v1/payload/{msg_id}"),
}
PARAM = re.compile(r"\{([a-z_]+)\}")
ALL_PORTAL: set[Capability] = {c for c in Capability if c is not Capability.MANAGE_APPLICATION}


def bearer(hookd: HookdServer, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=hookd.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def svix_with(hookd: HookdServer, token: str) -> SvixAsync:
    return SvixAsync(token, SvixOptions(server_url=hookd.url, retry_schedule=[]))


async def create_key(api: httpx.AsyncClient, scope: str, app_id: str | None = None) -> str:
    body: dict[str, Any] = {"name": f"{scope} key", "scope": scope}
    if app_id is not None:
        body["appId"] = app_id
    created = await api.post("/api/v1/api-key", json=body)
    assert created.status_code == 201, created.text
    token: str = created.json()["token"]
    return token


async def portal_token(api: httpx.AsyncClient, app_id: str, **body: Any) -> str:
    answer = await api.post(f"/api/v1/auth/app-portal-access/{app_id}", json=body)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


async def operations(hookd: HookdServer) -> list[tuple[str, str, bool]]:
    """Every documented (method, path, has a request body)."""
    async with httpx.AsyncClient(base_url=hookd.url) as client:
        document = (await client.get("/openapi.json")).json()
    return [
        (method.upper(), path, "requestBody" in operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


@dataclass
class Tenant:
    """An application with one of everything the app routes name."""

    app_id: str
    uid: str
    endpoint_id: str
    msg_id: str
    attempt_id: str
    task_id: str

    def params(self) -> dict[str, str]:
        return {
            "app_id": self.app_id,
            "endpoint_id": self.endpoint_id,
            "msg_id": self.msg_id,
            "attempt_id": self.attempt_id,
            "task_id": self.task_id,
        }


async def tenant(api: httpx.AsyncClient, receiver: Receiver, name: str) -> Tenant:
    uid = f"{name}-{uuid.uuid4().hex[:10]}"
    app = (await api.post("/api/v1/app", json={"name": name, "uid": uid})).json()
    endpoint = await api.post(f"/api/v1/app/{app['id']}/endpoint", json={"url": receiver.url})
    assert endpoint.status_code == 201, endpoint.text
    message = await api.post(
        f"/api/v1/app/{app['id']}/msg", json={"eventType": "access.test", "payload": {"n": name}}
    )
    assert message.status_code == 201, message.text
    msg_id = message.json()["id"]

    async def attempted() -> str | None:
        listed = (await api.get(f"/api/v1/app/{app['id']}/attempt/msg/{msg_id}")).json()
        return listed["data"][0]["id"] if listed["data"] else None

    attempt_id = await eventually(attempted)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    task = await api.post(
        f"/api/v1/app/{app['id']}/endpoint/{endpoint.json()['id']}/recover", json={"since": since}
    )
    assert task.status_code == 202, task.text
    return Tenant(app["id"], uid, endpoint.json()["id"], msg_id, attempt_id, task.json()["id"])


@pytest.fixture
async def tenants(api: httpx.AsyncClient, receiver: Receiver) -> tuple[Tenant, Tenant]:
    """Two applications: the principal's own (A) and another (B)."""
    event_type = {"name": "access.test", "description": "access tests"}
    await api.put("/api/v1/event-type/access.test", json=event_type)
    return await tenant(api, receiver, "a"), await tenant(api, receiver, "b")


def fill(path: str, params: dict[str, str]) -> str:
    """``path`` with its parameters from ``params`` (an application's objects, under its path
    only; any other name is made up, so a path outside applications names nothing)."""
    if "{app_id}" not in path:
        params = {name: value for name, value in params.items() if name == "task_id"}
    values = {"name": "access.test"} | params
    return PARAM.sub(lambda m: values.get(m.group(1), f"{m.group(1)}_none"), path)


def rule(method: str, path: str) -> Rule | None:
    return RULES.get((method, path))


async def test_an_api_key_is_shown_once_and_revoked(
    hookd: HookdServer, api: httpx.AsyncClient, app_id: str
) -> None:
    created = await api.post("/api/v1/api-key", json={"name": "ci", "scope": "admin"})
    assert created.status_code == 201, created.text
    key = created.json()
    token = key.pop("token")
    assert token.startswith("hookd_key_") and len(token) >= len("hookd_key_") + 43
    assert key["scope"] == "admin" and key["appId"] is None and key["lastUsedAt"] is None

    async with bearer(hookd, token) as client:
        assert (await client.get(f"/api/v1/app/{app_id}")).status_code == 200
        assert (await client.get("/api/v1/api-key")).status_code == 200  # a full admin
    shown = await api.get(f"/api/v1/api-key/{key['id']}")
    assert shown.json()["lastUsedAt"] is not None
    assert token not in shown.text
    listed = await api.get("/api/v1/api-key", params={"limit": 250})
    assert key["id"] in {k["id"] for k in listed.json()["data"]}
    assert token not in listed.text and '"token"' not in listed.text

    assert (await api.delete(f"/api/v1/api-key/{key['id']}")).status_code == 204
    async with bearer(hookd, token) as client:

        async def refused() -> bool:
            answer = await client.get(f"/api/v1/app/{app_id}")
            return answer.status_code == 401 and answer.json()["code"] == "authentication_failed"

        await eventually(refused, timeout=5)
    assert (await api.get(f"/api/v1/api-key/{key['id']}")).status_code == 404
    assert (await api.delete(f"/api/v1/api-key/{key['id']}")).status_code == 404


async def test_api_key_input_is_checked(api: httpx.AsyncClient, app_id: str) -> None:
    cases = [
        ({"name": "x", "scope": "application"}, "appId"),
        ({"name": "x", "scope": "admin", "appId": app_id}, "appId"),
        ({"name": "x", "scope": "application", "appId": "app_none"}, "appId"),
        ({"name": "x", "scope": "owner"}, "scope"),
        ({"name": "x", "scope": "admin", "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
    ]
    for body, field in cases:
        answer = await api.post("/api/v1/api-key", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", field], answer.text


async def test_an_expired_key_is_refused(
    hookd: HookdServer, api: httpx.AsyncClient, app_id: str
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    created = await api.post(
        "/api/v1/api-key", json={"name": "brief", "scope": "read_only", "expiresAt": soon}
    )
    assert created.status_code == 201
    async with bearer(hookd, created.json()["token"]) as client:

        async def refused() -> bool:
            return (await client.get(f"/api/v1/app/{app_id}")).status_code == 401

        await eventually(refused, timeout=10)


async def test_a_read_only_key_reads_and_writes_nothing(
    hookd: HookdServer, api: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    token = await create_key(api, "read_only")
    async with bearer(hookd, token) as client:
        for method, path, _ in await operations(hookd):
            if (method, path) in PUBLIC:
                continue
            answer = await client.request(method, fill(path, a.params()), json={})
            found = rule(method, path)
            readable = (
                method == "GET" and found is not None and found.capability is Capability.VIEW_BASE
            )
            if readable:
                assert answer.status_code in (200, 404), (method, path, answer.text)
                if "_none" not in fill(path, a.params()):
                    assert answer.status_code == 200, (method, path, answer.text)
            else:
                assert answer.status_code == 403, (method, path, answer.text)
                assert answer.json()["code"] == "forbidden", (method, path)
    # Nothing was written: the application and its endpoint are as they were.
    assert (await api.get(f"/api/v1/app/{a.app_id}/endpoint/{a.endpoint_id}")).status_code == 200


@pytest.fixture(params=["app_key", "portal"])
async def scoped(
    request: pytest.FixtureRequest, api: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> tuple[str, set[Capability]]:
    """A principal of application A: an API key of scope application (every capability) or an
    app portal token (Svix's default: all of the portal's capabilities)."""
    a, _ = tenants
    if request.param == "app_key":
        return await create_key(api, "application", a.app_id), set(Capability)
    return await portal_token(api, a.app_id), ALL_PORTAL


async def test_an_application_principal_sees_only_its_application(
    hookd: HookdServer,
    api: httpx.AsyncClient,
    tenants: tuple[Tenant, Tenant],
    scoped: tuple[str, set[Capability]],
) -> None:
    a, b = tenants
    token, capabilities = scoped
    checked = 0
    async with bearer(hookd, token) as client:
        for method, path, has_body in await operations(hookd):
            if (method, path) in PUBLIC or (method, path) in SELF_CHECKED:
                continue
            found = rule(method, path)
            if found is not None and found.in_app:
                # Another application, named by id or uid: 404, as for a missing one.
                for name in (b.app_id, b.uid):
                    answer = await client.request(
                        method, fill(path, b.params() | {"app_id": name}), json={}
                    )
                    assert answer.status_code == 404, (method, path, answer.text)
                    assert answer.json() == {
                        "code": "not_found",
                        "detail": f"application {name!r} not found",
                    }, (method, path)
                # Its own application with another application's objects: 404 too.
                others = PARAM.findall(path) != ["app_id"]
                if others and (method in ("GET", "DELETE") or not has_body):
                    answer = await client.request(
                        method, fill(path, b.params() | {"app_id": a.app_id})
                    )
                    expected = 404 if found.capability in capabilities else 403
                    assert answer.status_code == expected, (method, path, answer.text)
                # Its own application: every read answers (by id and by uid).
                if method == "GET":
                    for name in (a.app_id, a.uid):
                        answer = await client.get(fill(path, a.params() | {"app_id": name}))
                        assert answer.status_code == 200, (method, path, answer.text)
                checked += 1
            elif found is not None and found.shared and method == "GET":
                assert (await client.get(fill(path, a.params()))).status_code == 200, path
            elif found is not None and found.owned:
                mine = await client.get(fill(path, {"task_id": a.task_id}))
                assert mine.status_code == 200, (path, mine.text)
                theirs = await client.get(fill(path, {"task_id": b.task_id}))
                assert theirs.status_code == 404, (path, theirs.text)
                assert theirs.json()["detail"] == f"background task {b.task_id!r} not found"
            else:  # not any one application's: for admins (and read-only keys' reads)
                answer = await client.request(method, fill(path, b.params()), json={})
                assert answer.status_code == 403, (method, path, answer.text)
                assert answer.json()["code"] == "forbidden", (method, path)
    assert checked > 30
    # Nothing of B's was touched.
    for path in (f"/endpoint/{b.endpoint_id}", f"/msg/{b.msg_id}", ""):
        assert (await api.get(f"/api/v1/app/{b.app_id}{path}")).status_code == 200, path


async def test_the_fast_create_route_keeps_the_limits(
    hookd: HookdServer, api: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    """``POST /api/v1/app/{app}/msg`` is answered outside FastAPI's routing (api/send/
    fast_create): the same 404 and 403 there."""
    a, b = tenants
    message = {"eventType": "access.test", "payload": {"fast": True}}
    key = await create_key(api, "application", a.app_id)
    portal = await portal_token(api, a.app_id)
    read_only = await create_key(api, "read_only")
    async with bearer(hookd, key) as client:
        for name in (a.app_id, a.uid):
            assert (await client.post(f"/api/v1/app/{name}/msg", json=message)).status_code == 201
        for name in (b.app_id, b.uid):
            answer = await client.post(f"/api/v1/app/{name}/msg", json=message)
            assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    for token in (portal, read_only):
        async with bearer(hookd, token) as client:
            answer = await client.post(f"/api/v1/app/{a.app_id}/msg", json=message)
            assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


CAPABILITY_ROUTES: list[tuple[Capability, str, str, dict[str, Any] | None, int]] = [
    (Capability.VIEW_ENDPOINT_SECRET, "GET", "/endpoint/{endpoint_id}/secret", None, 200),
    (
        Capability.MANAGE_ENDPOINT_SECRET,
        "POST",
        "/endpoint/{endpoint_id}/secret/rotate",
        {},
        200,
    ),
    (Capability.MANAGE_TRANSFORMATIONS, "GET", "/endpoint/{endpoint_id}/transformation", None, 200),
    (
        Capability.MANAGE_TRANSFORMATIONS,
        "PATCH",
        "/endpoint/{endpoint_id}/transformation",
        {"code": None},
        204,
    ),
    (
        Capability.CREATE_ATTEMPTS,
        "POST",
        "/msg/{msg_id}/endpoint/{endpoint_id}/resend",
        None,
        202,
    ),
    (Capability.MANAGE_ENDPOINT, "PATCH", "/endpoint/{endpoint_id}", {"description": "x"}, 200),
    (Capability.MANAGE_ENDPOINT, "PATCH", "/endpoint/{endpoint_id}/headers", {"headers": {}}, 204),
]


@pytest.mark.parametrize("capability", [c for c in Capability if c in ALL_PORTAL])
async def test_portal_capabilities_gate_their_routes(
    hookd: HookdServer,
    api: httpx.AsyncClient,
    tenants: tuple[Tenant, Tenant],
    capability: Capability,
) -> None:
    a, _ = tenants
    token = await portal_token(api, a.app_id, capabilities=[capability.value])
    implied = {capability, Capability.VIEW_BASE}
    if capability is Capability.MANAGE_ENDPOINT_SECRET:
        implied.add(Capability.VIEW_ENDPOINT_SECRET)
    if capability is Capability.MANAGE_ENDPOINT:
        implied |= {Capability.VIEW_ENDPOINT_SECRET, Capability.MANAGE_ENDPOINT_SECRET}
    async with bearer(hookd, token) as client:
        assert (await client.get(f"/api/v1/app/{a.app_id}/endpoint")).status_code == 200
        for needed, method, path, body, status in CAPABILITY_ROUTES:
            url = fill("/api/v1/app/{app_id}" + path, a.params())
            answer = await client.request(method, url, json=body)
            expected = status if needed in implied else 403
            assert answer.status_code == expected, (capability, method, path, answer.text)
        # hookd's own capability is never a portal token's.
        for method, path in [("DELETE", ""), ("POST", "/msg/expunge-all-contents")]:
            answer = await client.request(method, f"/api/v1/app/{a.app_id}{path}")
            assert answer.status_code == 403, (method, path)


async def test_every_write_needs_more_than_view_base(
    hookd: HookdServer, api: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    """A read-only portal token (``readOnly``: ViewBase alone) writes nothing in its own
    application, and reads no secret or transformation."""
    a, _ = tenants
    token = await portal_token(api, a.app_id, readOnly=True, capabilities=["ManageEndpoint"])
    async with bearer(hookd, token) as client:
        for method, path, _ in await operations(hookd):
            found = rule(method, path)
            if found is None or not found.in_app:
                continue
            answer = await client.request(method, fill(path, a.params()), json={})
            if found.capability is Capability.VIEW_BASE:
                assert method == "GET" and answer.status_code == 200, (method, path, answer.text)
            else:
                assert answer.status_code == 403, (method, path, answer.text)


async def test_svix_sdk_app_portal_access(
    hookd: HookdServer, svix: SvixAsync, api: httpx.AsyncClient
) -> None:
    uid = f"portal-{uuid.uuid4().hex[:10]}"
    access = await svix.authentication.app_portal_access(
        uid,
        AppPortalAccessIn(
            application=ApplicationIn(name="made by portal access"),
            expiry=3600,
            feature_flags=["beta"],
            session_id="s-1",
        ),
    )
    assert access.token.startswith("hookd_portal_")
    url = urllib.parse.urlsplit(access.url)
    assert url.path == "/portal" and url.query == ""
    key = urllib.parse.unquote(url.fragment.removeprefix("key="))
    app = (await api.get(f"/api/v1/app/{uid}")).json()
    assert app["name"] == "made by portal access"
    assert json.loads(base64.b64decode(key)) == {"appId": app["id"], "token": access.token}

    hidden = f"beta.{uid}"
    await svix.event_type.create(EventTypeIn(name=hidden, description="x", feature_flags=["gamma"]))
    shown = f"shown.{uid}"
    await svix.event_type.create(EventTypeIn(name=shown, description="x", feature_flags=["beta"]))
    portal = svix_with(hookd, access.token)
    assert (await portal.application.get(uid)).id == app["id"]
    assert (await portal.event_type.get(shown)).name == shown
    async with bearer(hookd, access.token) as client:
        names, iterator = set(), None
        while True:
            params = {"limit": 250, **({"iterator": iterator} if iterator else {})}
            page = (await client.get("/api/v1/event-type", params=params)).json()
            names |= {et["name"] for et in page["data"]}
            if page["done"]:
                break
            iterator = page["iterator"]
    assert shown in names and hidden not in names
    with pytest.raises(HttpError) as missing:
        await portal.event_type.get(hidden)
    assert missing.value.status_code == 404
    with pytest.raises(HttpError) as forbidden:
        await portal.application.list()
    assert forbidden.value.status_code == 403


async def test_expire_all_and_logout(hookd: HookdServer, svix: SvixAsync, app_id: str) -> None:
    async def token(session: str) -> str:
        access = await svix.authentication.app_portal_access(
            app_id, AppPortalAccessIn(session_id=session)
        )
        return access.token

    first, second, third = await token("one"), await token("two"), await token("two")

    async def works(portal: str) -> bool:
        async with bearer(hookd, portal) as client:
            status = (await client.get(f"/api/v1/app/{app_id}/endpoint")).status_code
        assert status in (200, 401), status
        return status == 200

    async def refused(portal: str) -> bool:
        return not await works(portal)

    await svix.authentication.expire_all(app_id, ApplicationTokenExpireIn(session_ids=["one"]))
    await eventually(lambda: refused(first), timeout=5)
    assert await works(second) and await works(third)

    # logout ends the calling token only.
    await svix_with(hookd, second).authentication.logout()
    await eventually(lambda: refused(second), timeout=5)
    assert await works(third)

    # Logging out is for portal tokens: the admin token cannot.
    with pytest.raises(HttpError) as refusal:
        await svix.authentication.logout()
    assert refusal.value.status_code == 403

    # With an expiry, the tokens end that many seconds later.
    await svix.authentication.expire_all(app_id, ApplicationTokenExpireIn(expiry=1))
    await eventually(lambda: refused(third), timeout=10)

    fourth = await token("three")
    await svix.authentication.expire_all(app_id, ApplicationTokenExpireIn())
    await eventually(lambda: refused(fourth), timeout=5)


async def test_an_application_key_mints_portal_tokens_for_its_application(
    hookd: HookdServer, api: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    key = await create_key(api, "application", a.app_id)
    async with bearer(hookd, key) as client:
        minted = await client.post(f"/api/v1/auth/app-portal-access/{a.uid}", json={})
        assert minted.status_code == 200, minted.text
        other = await client.post(f"/api/v1/auth/app-portal-access/{b.app_id}", json={})
        assert other.status_code == 404
    # A portal token cannot mint another (ManageApplication is never a portal token's).
    async with bearer(hookd, minted.json()["token"]) as portal:
        again = await portal.post(f"/api/v1/auth/app-portal-access/{a.app_id}", json={})
        assert again.status_code == 403


async def test_keys_and_portal_tokens_go_with_their_application(
    hookd: HookdServer, api: httpx.AsyncClient
) -> None:
    app_id = (await api.post("/api/v1/app", json={"name": "short-lived"})).json()["id"]
    created = await api.post(
        "/api/v1/api-key", json={"name": "k", "scope": "application", "appId": app_id}
    )
    portal = await portal_token(api, app_id)
    assert (await api.delete(f"/api/v1/app/{app_id}")).status_code == 204
    assert (await api.get(f"/api/v1/api-key/{created.json()['id']}")).status_code == 404
    for token in (created.json()["token"], portal):
        async with bearer(hookd, token) as client:

            async def refused(client: httpx.AsyncClient = client) -> bool:
                return (await client.get(f"/api/v1/app/{app_id}")).status_code == 401

            await eventually(refused, timeout=5)


async def test_idempotency_keys_belong_to_each_principal(
    hookd: HookdServer, api: httpx.AsyncClient, app_id: str
) -> None:
    url = f"/api/v1/app/{app_id}/msg"
    message = {"eventType": "a.b", "payload": {"idem": True}}
    headers = {"Idempotency-Key": f"access-{uuid.uuid4().hex}"}
    one, two = await create_key(api, "application", app_id), await create_key(api, "admin")
    ids = []
    for token in (one, one, two, TOKEN):
        async with bearer(hookd, token) as client:
            answer = await client.post(url, json=message, headers=headers)
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
    assert ids[0] == ids[1] and len(set(ids)) == 4 - 1
    # The answers that carry a new token are never kept: a repeat makes another token.
    tokens = set()
    for _ in range(2):
        answer = await api.post(
            f"/api/v1/auth/app-portal-access/{app_id}", json={}, headers=headers
        )
        assert answer.headers.get("idempotent-replayed") is None
        tokens.add(answer.json()["token"])
    assert len(tokens) == 2


async def test_no_token_is_logged(new_server: NewServer) -> None:
    server = new_server({"HOOKD_LOG_LEVEL": "debug"})
    server.start()
    async with bearer(server, TOKEN) as api:
        app_id = (await api.post("/api/v1/app", json={"name": "logged"})).json()["id"]
        key = await create_key(api, "application", app_id)
        listed = (await api.get("/api/v1/api-key")).json()["data"]
        portal = await portal_token(api, app_id, sessionId="logged")
        for token in (key, portal):
            async with bearer(server, token) as client:
                assert (await client.get(f"/api/v1/app/{app_id}/msg")).status_code == 200
                assert (await client.get("/api/v1/app/app_x/msg")).status_code == 404
        await api.post(f"/api/v1/auth/app/{app_id}/expire-all", json={})
        await api.delete(f"/api/v1/api-key/{listed[0]['id']}")
    server.stop()
    log = server.log_path.read_text()
    assert "api key revoked" in log and "app portal token created" in log
    for token in (key, portal, TOKEN):
        assert token not in log
    secret_part = portal.removeprefix("hookd_portal_")
    assert secret_part not in log and key.removeprefix("hookd_key_") not in log


@pytest.fixture
async def two_servers(new_server: NewServer) -> AsyncIterator[tuple[HookdServer, HookdServer]]:
    """Two API processes on one PostgreSQL database."""
    url = create_database()
    try:
        servers = []
        for name in ("one", "two"):
            server = new_server({"HOOKD_DATABASE_URL": url, "HOOKD_ROLE": "api"}, name=name)
            server.start()
            servers.append(server)
        yield servers[0], servers[1]
        for server in servers:
            server.stop()
    finally:
        drop_database(url)


async def test_revocation_reaches_other_processes(
    two_servers: tuple[HookdServer, HookdServer],
) -> None:
    """Another process refuses a revoked key once its cached answer is older than a second
    (services.access.tokens.CACHE_SECONDS)."""
    one, two = two_servers
    async with bearer(one, TOKEN) as api:
        app_id = (await api.post("/api/v1/app", json={"name": "replicas"})).json()["id"]
        created = (
            await api.post("/api/v1/api-key", json={"name": "r", "scope": "read_only"})
        ).json()
        async with bearer(two, created["token"]) as client:
            assert (await client.get(f"/api/v1/app/{app_id}")).status_code == 200
            assert (await api.delete(f"/api/v1/api-key/{created['id']}")).status_code == 204

            async def refused() -> bool:
                return (await client.get(f"/api/v1/app/{app_id}")).status_code == 401

            await eventually(refused, timeout=10)
