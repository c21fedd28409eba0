"""Every answer hookd builds by hand matches the response schema its OpenAPI document publishes.

The routes answer with hand-built dicts (``api/send/serialize.py``, ``api/ingest/serialize.py``,
``api/calls/serialize.py``); their ``response_model`` is for the document only. The fuzz test
(test_openapi_fuzz) runs schemathesis's ``response_schema_conformance`` too, but its generated
ids name nothing, so it sees 404s and empty lists. Here every object exists (an application,
an endpoint with every optional field, delivered and failed messages with attempts, an event
type, an ingest source with a forwarded request, a call, an operational endpoint, a background
task, an API key and an app portal token) and every GET operation of the document, plus the
creating and acting POSTs, is answered and checked by schemathesis's own check. The test fails
when a GET operation of the document is left unchecked, so a new route cannot skip it.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from aiohttp import web
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.inbound.signers import github_headers
from tests.pg import create_database, drop_database
from tests.support import TOKEN, HookdServer, Receiver, eventually

GITHUB_SECRET = "schema-secret"


def closed(node: Any) -> Any:
    """The document with every object schema closed: a key hookd sends that its model does not
    declare is a mismatch too (pydantic leaves ``additionalProperties`` open)."""
    if isinstance(node, dict):
        for value in node.values():
            closed(value)
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
    elif isinstance(node, list):
        for value in node:
            closed(value)
    return node


class Checked:
    """An API client that validates each answer against the document's schema for it."""

    def __init__(self, client: httpx.AsyncClient, schema: Any) -> None:
        self.client = client
        self.schema = schema
        self.seen: set[tuple[str, str]] = set()
        self.mismatches: list[str] = []
        self.strict = closed(copy.deepcopy(schema.raw_schema))

    async def __call__(
        self,
        method: str,
        template: str,
        status: int,
        json: Any = None,
        params: dict[str, str] | None = None,
        **path: str,
    ) -> Any:
        response = await self.client.request(
            method, template.format(**path), json=json, params=params
        )
        assert response.status_code == status, (template, response.text)
        self.validate(method, template, response, path, params)
        return response.json() if response.content else None

    def validate(
        self,
        method: str,
        template: str,
        response: httpx.Response,
        path: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        status = response.status_code
        case = self.schema[template][method].Case(path_parameters=path, query=params)
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except Exception as failure:  # schemathesis raises a group of its check's failures
            self.mismatches.append(f"{method} {template}: {failure}")
        declared = self.strict["paths"][template][method.lower()]["responses"][str(status)]
        content = declared.get("content", {}).get("application/json", {})
        if "schema" in content:
            root = {**content["schema"], "components": self.strict["components"]}
            for error in Draft202012Validator(root).iter_errors(response.json()):
                where = "/".join(str(part) for part in error.absolute_path)
                self.mismatches.append(f"{method} {template} at /{where}: {error.message}")
        self.seen.add((method, template))


@pytest.fixture(params=["sqlite", "postgresql"])
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[HookdServer]:
    env = {"HOOKD_RETRY_SCHEDULE": "", "HOOKD_ALERT_INTERVAL": "0.2"}
    if request.param == "postgresql":
        env["HOOKD_DATABASE_URL"] = create_database()
    hookd = HookdServer(tmp_path, env=env)
    hookd.start()
    yield hookd
    hookd.stop()
    if request.param == "postgresql":
        drop_database(env["HOOKD_DATABASE_URL"])


async def test_every_answer_matches_its_published_schema(
    server: HookdServer, receiver: Receiver
) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        check = Checked(client, schema)
        await _exercise(check, client, receiver)
    documented = {
        ("GET", template)
        for template, operations in schema.raw_schema["paths"].items()
        if "get" in operations
    }
    # A thin webhook's payload is the sender's JSON: its 200 declares no schema; a bin's stream
    # is server-sent events (tests/integration/test_bins.py reads it).
    assert documented - check.seen == {
        ("GET", "/api/v1/payload/{msg_id}"),
        ("GET", "/api/v1/bin/{bin_id}/stream"),
    }
    assert check.mismatches == [], "\n\n".join(check.mismatches)


async def _exercise(check: Checked, client: httpx.AsyncClient, receiver: Receiver) -> None:
    # Svix's objects, every optional field set.
    app = await check(
        "POST", "/api/v1/app", 201, json={"name": "a", "uid": "app-uid", "metadata": {"k": "v"}}
    )
    a = {"app_id": app["id"]}
    await check("GET", "/api/v1/app", 200)
    await check("GET", "/api/v1/app/{app_id}", 200, **a)
    await check("PATCH", "/api/v1/app/{app_id}", 200, json={"rateLimit": 100}, **a)
    event_type = {
        "name": "user.created",
        "description": "a user",
        "featureFlag": "beta",
        "groupName": "users",
        "schemas": {"1": {"type": "object"}},
    }
    await check("POST", "/api/v1/event-type", 201, json=event_type)
    await check("GET", "/api/v1/event-type", 200, params={"with_content": "true"})
    await check("GET", "/api/v1/event-type/{name}", 200, name="user.created")
    endpoint = await check(
        "POST",
        "/api/v1/app/{app_id}/endpoint",
        201,
        json={
            "url": receiver.url,
            "uid": "ep-uid",
            "description": "d",
            "filterTypes": ["user.created"],
            "channels": ["c1"],
            "metadata": {"a": "b"},
            "rateLimit": 10,
            "headers": {"X-Custom": "1"},
        },
        **a,
    )
    e = a | {"endpoint_id": endpoint["id"]}
    await check("GET", "/api/v1/app/{app_id}/endpoint", 200, **a)
    for suffix in ("", "/secret", "/headers", "/stats", "/transformation", "/health"):
        await check("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}" + suffix, 200, **e)
    await check(
        "POST", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret/rotate", 200, json={}, **e
    )

    # A delivered message and a failed one (no retries), with their attempts.
    receiver.responses = [204, 500]
    sent = {"eventType": "user.created", "payload": {"x": 1}, "channels": ["c1"]}
    first = await check(
        "POST", "/api/v1/app/{app_id}/msg", 201, json=sent | {"tags": ["t"], "eventId": "e1"}, **a
    )
    second = await check("POST", "/api/v1/app/{app_id}/msg", 201, json=sent, **a)
    await receiver.wait_for(2)

    async def attempts_recorded() -> bool:
        for msg in (first, second):
            url = f"/api/v1/app/{a['app_id']}/attempt/msg/{msg['id']}"
            if not (await client.get(url)).json()["data"]:
                return False
        return True

    await eventually(attempts_recorded)
    m = a | {"msg_id": first["id"]}
    await check("GET", "/api/v1/app/{app_id}/msg", 200, params={"with_content": "true"}, **a)
    await check("GET", "/api/v1/app/{app_id}/msg/{msg_id}", 200, **m)
    await check("GET", "/api/v1/app/{app_id}/msg/{msg_id}/endpoint", 200, **m)
    await check("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/msg", 200, **e)
    await check("GET", "/api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}", 200, **e)
    for msg in (first, second):
        page = await check(
            "GET", "/api/v1/app/{app_id}/attempt/msg/{msg_id}", 200, **a, msg_id=msg["id"]
        )
        attempt = a | {"msg_id": msg["id"], "attempt_id": page["data"][0]["id"]}
        await check("GET", "/api/v1/app/{app_id}/msg/{msg_id}/attempt/{attempt_id}", 200, **attempt)
    await check(
        "POST", "/api/v1/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend", 202, **(m | e)
    )
    await check(
        "POST",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}/recover",
        202,
        json={"since": "2026-01-01T00:00:00Z"},
        **e,
    )

    await check("GET", "/api/v1/app/{app_id}/msg", 200, params={"with_content": "false"}, **a)
    await check(
        "GET",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}/msg",
        200,
        **e,
        params={"with_content": "false"},
    )
    await check(
        "PUT",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}",
        200,
        json={"url": receiver.url, "filter": {"x": {"$gt": 0}}, "thin": True},
        **e,
    )
    await check(
        "PATCH",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation",
        204,
        json={"code": "function handler(webhook) { return webhook; }", "enabled": True},
        **e,
    )
    for suffix in ("", "/transformation", "/health", "/stats"):
        await check("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}" + suffix, 200, **e)
    await check("PUT", "/api/v1/app/{app_id}", 200, json={"name": "b"}, **a)
    await check("DELETE", "/api/v1/event-type/{name}", 204, name="user.created")
    await check(
        "GET",
        "/api/v1/event-type",
        200,
        params={"include_archived": "true", "with_content": "false"},
    )

    # Synchronous calls: every call setting, answered, mapped, failed, standing in.
    caller = await check(
        "POST",
        "/api/v1/app/{app_id}/endpoint",
        201,
        json={
            "url": receiver.url,
            "method": "PUT",
            "timeoutMs": 2000,
            "urlTemplate": receiver.url_for("/orders/{{ params.id }}"),
            "bodyTemplate": '{"id": "{{ params.id }}"}',
            "responseMapping": {"status": "$.status"},
            "fallbackResponse": {"status": 200, "body": {"text": "later"}},
            "auth": {"type": "bearer", "token": "secret-token-123456789"},
        },
        **a,
    )
    c = a | {"endpoint_id": caller["id"]}
    await check("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}", 200, **c)
    call = "/api/v1/app/{app_id}/endpoint/{endpoint_id}/call"
    receiver.responses = [
        web.json_response({"status": "shipped"}),
        web.Response(status=503, text="down"),
    ]
    await check("POST", call, 200, json={"params": {"id": "1"}}, **c)
    await check("POST", call, 200, json={"params": {"id": "2"}}, **c)
    plain = await check(
        "POST",
        "/api/v1/app/{app_id}/endpoint",
        201,
        json={"url": receiver.url, "auth": {"type": "basic", "username": "u", "password": "p"}},
        **a,
    )
    receiver.responses = [web.Response(status=500, text="no")]
    failed = await client.post(
        f"/api/v1/app/{a['app_id']}/endpoint/{plain['id']}/call", json={"payload": {}}
    )
    check.validate("POST", call, failed)
    queued = await check(
        "POST",
        "/api/v1/app/{app_id}/endpoint",
        201,
        json={"url": receiver.url, "retryAsync": True},
        **a,
    )
    receiver.responses = [web.Response(status=500, text="no")]
    await check("POST", call, 200, json={"payload": {}}, **a, endpoint_id=queued["id"])
    batched = {"url": receiver.url, "fifo": True, "batchSize": 2, "batchMaxWaitMs": 50}
    await check("POST", "/api/v1/app/{app_id}/endpoint", 201, json=batched, **a)

    # The ingest side: a source, a forwarding endpoint, a verified request forwarded.
    source = await check(
        "POST",
        "/ingest/api/v1/source",
        201,
        json={"name": "s", "uid": "src-uid", "type": "github", "config": {"secret": GITHUB_SECRET}},
    )
    s = {"source_id": source["id"]}
    await check("GET", "/ingest/api/v1/source", 200)
    await check("GET", "/ingest/api/v1/source/{source_id}", 200, **s)
    await check("GET", "/ingest/api/v1/source/{source_id}/secret", 200, **s)
    forward = await check(
        "POST", "/ingest/api/v1/source/{source_id}/endpoint", 201, json={"url": receiver.url}, **s
    )
    se = s | {"endpoint_id": forward["id"]}
    await check("GET", "/ingest/api/v1/source/{source_id}/endpoint", 200, **s)
    for suffix in ("", "/secret", "/headers", "/transformation"):
        await check(
            "GET", "/ingest/api/v1/source/{source_id}/endpoint/{endpoint_id}" + suffix, 200, **se
        )
    body = orjson.dumps({"ref": "refs/heads/main"})
    headers = github_headers(body, GITHUB_SECRET, "push", delivery="d-1")
    before = len(receiver.requests)
    answer = await client.post(source["ingestUrl"], content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    forged = await client.post(source["ingestUrl"], content=b"\xff", headers={"X-A": "b"})
    assert forged.status_code == 401, forged.text
    await receiver.wait_for(before + 1)
    page = await check("GET", "/ingest/api/v1/source/{source_id}/request", 200, **s)
    for record in page["data"]:
        r = s | {"request_id": record["id"]}
        await check("GET", "/ingest/api/v1/source/{source_id}/request/{request_id}", 200, **r)
    r = s | {"request_id": page["data"][-1]["id"]}
    await check("POST", "/ingest/api/v1/source/{source_id}/request/{request_id}/replay", 202, **r)
    await check(
        "POST",
        "/ingest/api/v1/source/{source_id}/request/replay",
        200,
        json={"since": "2026-01-01T00:00:00Z"},
        **s,
    )
    await check(
        "PUT",
        "/ingest/api/v1/source/{source_id}",
        200,
        json={"name": "s2", "type": "github", "config": {"secret": GITHUB_SECRET}},
        **s,
    )
    await check("POST", "/ingest/api/v1/source/{source_id}/token/rotate", 200, **s)
    await check(
        "PATCH",
        "/ingest/api/v1/source/{source_id}/endpoint/{endpoint_id}",
        200,
        json={"description": "d"},
        **se,
    )

    # A source with its own answer and a dedup window, sent a form body (not JSON).
    custom = await check(
        "POST",
        "/ingest/api/v1/source",
        201,
        json={
            "name": "custom",
            "type": "generic-webhook",
            "config": {"auth": "none"},
            "response": {"statusCode": 202, "contentType": "text/plain", "body": "thanks"},
            "dedupWindowSeconds": 60,
        },
    )
    form = await client.post(custom["ingestUrl"], data={"a": "1"})
    assert form.status_code == 202, form.text
    cs = {"source_id": custom["id"]}
    (stored,) = (await check("GET", "/ingest/api/v1/source/{source_id}/request", 200, **cs))["data"]
    await check(
        "GET",
        "/ingest/api/v1/source/{source_id}/request/{request_id}",
        200,
        **cs,
        request_id=stored["id"],
    )
    await check(
        "GET", "/api/v1/app/{app_id}/msg/{msg_id}", 200, app_id=custom["id"], msg_id=stored["msgId"]
    )

    # A request bin: made, sent a binary body on a sub-path, read, replayed, deleted.
    bin_fields = {
        "name": "b",
        "uid": "bin-uid",
        "answer": {"statusCode": 201, "headers": {"X-A": "1"}, "body": "ok", "delayMs": 0},
        "ttlSeconds": 60,
        "metadata": {"k": "v"},
    }
    made = await check("POST", "/api/v1/bin", 201, json=bin_fields)
    b = {"bin_id": made["id"]}
    await check("GET", "/api/v1/bin", 200)
    await check("GET", "/api/v1/bin/{bin_id}", 200, **b)
    await check("PATCH", "/api/v1/bin/{bin_id}", 200, json={"ttlSeconds": 120}, **b)
    captured = await client.put(made["url"] + "/x?y=1", content=b"\xff\x00")
    assert captured.status_code == 201, captured.text
    bins_page = await check("GET", "/api/v1/bin/{bin_id}/request", 200, **b)
    br = b | {"request_id": bins_page["data"][0]["id"]}
    await check("GET", "/api/v1/bin/{bin_id}/request/{request_id}", 200, **br)
    replay = "/api/v1/bin/{bin_id}/request/{request_id}/replay"
    await check("POST", replay, 200, json={"url": receiver.url, "timeoutMs": 5000}, **br)
    await check("POST", replay, 422, json={"url": "ftp://example.com/"}, **br)
    await check("DELETE", "/api/v1/bin/{bin_id}", 204, **b)

    # A relay (hookd listen): made, got, filtered, attached, an application's own, deleted.
    relay = await check("POST", "/api/v1/relay", 201, json={"name": "r", "metadata": {"k": "v"}})
    r = {"relay_id": relay["id"]}
    await check("GET", "/api/v1/relay/{relay_id}", 200, **r)
    filtered = {"filterTypes": ["invoice.paid"], "filter": {"headers": {"x-env": "prod"}}}
    await check("PUT", "/api/v1/relay/{relay_id}", 200, json=filtered, relay_id="relay-uid")
    attach = "/api/v1/relay/{relay_id}/attach"
    await check("POST", attach, 200, json={"app": custom["id"], **filtered}, **r)
    await check("POST", attach, 200, json={"source": s["source_id"]}, **r)
    await check("POST", attach, 422, json={"app": custom["id"], "source": s["source_id"]}, **r)
    await check("POST", "/api/v1/app/{app_id}/relay", 200, json={}, app_id=custom["id"])
    await check("DELETE", "/api/v1/relay/{relay_id}", 204, **r)
    await check("GET", "/api/v1/relay/{relay_id}", 404, **r)

    # Errors: hookd's {"code", "detail"} where the document declares them.
    await check("GET", "/api/v1/app/{app_id}", 404, app_id="app_missing")
    await check("POST", "/api/v1/app", 422, json={"name": 5})
    rejected = s | {"request_id": page["data"][0]["id"]}
    await check(
        "POST", "/ingest/api/v1/source/{source_id}/request/{request_id}/replay", 409, **rejected
    )

    # Operational webhooks, background tasks, health.
    operational = await check(
        "POST",
        "/api/v1/operational-webhook/endpoint",
        201,
        json={"url": receiver.url, "filterTypes": ["message.attempt.exhausted"]},
    )
    o = {"endpoint_id": operational["id"]}
    await check("GET", "/api/v1/operational-webhook/endpoint", 200)
    for suffix in ("", "/secret", "/headers"):
        await check("GET", "/api/v1/operational-webhook/endpoint/{endpoint_id}" + suffix, 200, **o)
    task = await check("POST", "/api/v1/app/{app_id}/msg/expunge-all-contents", 202, **a)
    await check("GET", "/api/v1/background-task", 200)
    await check("GET", "/api/v1/background-task/{task_id}", 200, task_id=task["id"])
    for path in ("/api/v1/health", "/api/v1/health/ready", "/api/v1/health/live"):
        await check("GET", path, 200)

    # Access: API keys and app portal access.
    key = await check(
        "POST",
        "/api/v1/api-key",
        201,
        json={"name": "k", "scope": "application", "appId": app["id"], "expiresAt": "2100-01-01"},
    )
    await check("GET", "/api/v1/api-key", 200)
    await check("GET", "/api/v1/api-key/{key_id}", 200, key_id=key["id"])
    access = {"capabilities": ["ViewBase"], "expiry": 3600, "featureFlags": ["f"]}
    await check("POST", "/api/v1/auth/app-portal-access/{app_id}", 200, json=access, **a)
    await check("POST", "/api/v1/auth/app/{app_id}/expire-all", 204, json={"expiry": 0}, **a)
    await check("POST", "/api/v1/auth/logout", 403)  # the admin token is no portal token
    await check("DELETE", "/api/v1/api-key/{key_id}", 204, key_id=key["id"])

    # Alert channels: a Slack channel's answers and test sends (taken, refused), a webhook
    # channel's secrets and queued test.
    channels = "/api/v1/alert/channel"
    slack = await check(
        "POST",
        channels,
        201,
        json={"name": "ops", "type": "slack", "config": {"url": receiver.url_for("/T0/B0/x")}},
    )
    ch = {"channel_id": slack["id"]}
    await check("GET", channels, 200)
    for suffix in ("", "/secret"):
        await check("GET", channels + "/{channel_id}" + suffix, 200, **ch)
    await check("PATCH", channels + "/{channel_id}", 200, json={"disabled": True}, **ch)
    await check("POST", channels + "/{channel_id}/test", 200, **ch)
    receiver.responses = [web.Response(status=500, text="no")]
    await check("POST", channels + "/{channel_id}/test", 502, **ch)
    hook = await check(
        "POST",
        channels,
        201,
        json={"name": "pager", "type": "webhook", "config": {"url": receiver.url}},
    )
    w = {"channel_id": hook["id"]}
    await check("GET", channels + "/{channel_id}/secret", 200, **w)
    await check("POST", channels + "/{channel_id}/test", 200, **w)
    await check("POST", channels + "/{channel_id}/secret/rotate", 204, json={}, **w)
    await check("DELETE", channels + "/{channel_id}", 204, **w)
    await _statistics_and_alerts(check, client, receiver, e, s)


async def _statistics_and_alerts(
    check: Checked,
    client: httpx.AsyncClient,
    receiver: Receiver,
    e: dict[str, Any],
    s: dict[str, Any],
) -> None:
    """Statistics of the endpoint and source above, and an alert rule with its issue."""
    base = "/api/v1/app/{app_id}/endpoint/{endpoint_id}"
    await check("GET", base + "/attempt-stats", 200, **e)
    await check("GET", base + "/stats/attempts", 200, params={"interval": "minute"}, **e)
    await check("GET", "/ingest/api/v1/source/{source_id}/stats", 200, **s)
    period = {"since": "2026-01-01T00:00:00Z", "until": "2030-01-01T00:00:00Z"}
    await check("POST", "/api/v1/stats/usage/app", 202, json=period | {"appIds": [e["app_id"]]})
    await check("PUT", "/api/v1/stats/usage/event-types", 202)

    watched = await check(
        "POST", "/api/v1/app/{app_id}/endpoint", 201, json={"url": receiver.url}, app_id=e["app_id"]
    )
    rule = await check(
        "POST",
        "/api/v1/alert/rule",
        201,
        json={
            "name": "off",
            "description": "an endpoint was disabled",
            "kind": "endpoint_disabled",
            "scope": "endpoint",
            "scopeId": watched["id"],
            "escalateAfterSeconds": 3600,
            "quietPeriodSeconds": 0,
        },
    )
    r = {"rule_id": rule["id"]}
    await check("GET", "/api/v1/alert/rule", 200)
    await check("GET", "/api/v1/alert/rule/{rule_id}", 200, **r)
    await check("PATCH", "/api/v1/alert/rule/{rule_id}", 200, json={"name": "disabled"}, **r)
    await check(
        "PUT",
        "/api/v1/alert/rule/{rule_id}",
        200,
        json={
            "name": "off",
            "kind": "endpoint_disabled",
            "scope": "endpoint",
            "scopeId": watched["id"],
        },
        **r,
    )
    await check(
        "POST", "/api/v1/alert/rule", 422, json={"name": "x", "kind": "duplicates", "threshold": 0}
    )
    disabled = await client.patch(
        f"/api/v1/app/{e['app_id']}/endpoint/{watched['id']}", json={"disabled": True}
    )
    assert disabled.status_code == 200, disabled.text

    async def opened() -> list[dict[str, Any]]:
        page = await client.get("/api/v1/alert/issue", params={"rule_id": rule["id"]})
        found: list[dict[str, Any]] = page.json()["data"]
        return found

    (issue,) = await eventually(opened, timeout=30)
    i = {"issue_id": issue["id"]}
    await check("GET", "/api/v1/alert/issue", 200, params={"status": "open"})
    await check("GET", "/api/v1/alert/issue/{issue_id}", 200, **i)
    await check("POST", "/api/v1/alert/issue/{issue_id}/acknowledge", 200, **i)
    await check("PATCH", "/api/v1/alert/issue/{issue_id}", 200, json={"status": "open"}, **i)
    await check("POST", "/api/v1/alert/issue/{issue_id}/resolve", 200, **i)
    await check("GET", "/api/v1/alert/issue/{issue_id}", 200, **i)
    await check("POST", "/api/v1/alert/issue/{issue_id}/acknowledge", 409, **i)
    await check("DELETE", "/api/v1/alert/rule/{rule_id}", 204, **r)
