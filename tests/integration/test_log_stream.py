"""The log stream of a real `hookd serve` (docs/observability.md, "Logs").

One JSON line per request with its request id (the one given when well-formed, else a new one,
returned on every answer); one warning per failed attempt naming the request that created the
message, and the breaker, disable and exhaustion lines (counted in the metrics too); nothing per
successful delivery at info.
And at debug level, after a scenario that sets and presents every kind of secret, none of them
(nor their base64 forms) is anywhere in the log.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.inbound.signers import github_headers
from tests.integration.test_secrets_at_rest import Planted, token, whsec
from tests.support import MAIN_KEY, TOKEN, HookdServer, NewServer, Receiver, eventually

AUTH = {"Authorization": f"Bearer {TOKEN}"}
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ACCESS = "request served"


def lines_of(server: HookdServer) -> list[dict[str, Any]]:
    """Every line of the server's output, each parsed as JSON (a line that is not fails)."""
    return [json.loads(line) for line in server.log_path.read_text().splitlines() if line]


def events(lines: list[dict[str, Any]], event: str, **fields: Any) -> list[dict[str, Any]]:
    return [
        line
        for line in lines
        if line["event"] == event and all(line.get(k) == v for k, v in fields.items())
    ]


async def logged(server: HookdServer, event: str, count: int = 1, **fields: Any) -> None:
    """Wait until the server has logged ``count`` lines of ``event`` with these fields."""

    async def enough() -> bool:
        return len(events(lines_of(server), event, **fields)) >= count

    await eventually(enough, timeout=30)


async def receiver_answering(*answers: int, default: int) -> Receiver:
    receiver = Receiver()
    receiver.responses = list(answers)
    receiver.default = default
    await receiver.start()
    return receiver


async def test_one_access_line_per_request_and_one_warning_per_failed_attempt(
    new_server: NewServer,
) -> None:
    server = new_server(
        {
            "HOOKD_LOG_FORMAT": "json",
            "HOOKD_LOG_LEVEL": "info",
            "HOOKD_BREAKER_FAILURES": "2",
            "HOOKD_BREAKER_COOLDOWN": "0.5",
            "HOOKD_MAX_PAYLOAD_BYTES": "2000",  # bodies over 2000 + 64 KiB are refused
        }
    )
    server.start()
    failing = await receiver_answering(default=500)  # every attempt fails: exhausted
    recovering = await receiver_answering(500, 500, default=204)  # circuit opens, then closes
    working = await receiver_answering(default=204)
    gone = await receiver_answering(default=410)  # the endpoint is disabled
    receivers = (failing, recovering, working, gone)
    # Each answer, with the method asked and the route template its line must name.
    answered: list[tuple[httpx.Response, str, str]] = []

    async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as api:

        async def ask(method: str, path: str, route: str, **kwargs: Any) -> httpx.Response:
            answer = await api.request(method, path, **kwargs)
            answered.append((answer, method, route))
            return answer

        given = "client-42.a:b_c"
        made = await ask(
            "POST",
            "/api/v1/app",
            "/api/v1/app",
            json={"name": "logs"},
            headers={"X-Request-Id": given},
        )
        assert made.status_code == 201 and made.headers["x-request-id"] == given
        app = made.json()["id"]
        endpoints = []
        for receiver in receivers:
            created = await ask(
                "POST",
                f"/api/v1/app/{app}/endpoint",
                "/api/v1/app/{app_id}/endpoint",
                json={"url": receiver.url},
            )
            assert created.status_code == 201, created.text
            endpoints.append(created.json()["id"])
        malformed = "not well formed!"
        sent = await ask(
            "POST",
            f"/api/v1/app/{app}/msg",
            "/api/v1/app/{app_id}/msg",
            json={"eventType": "order.paid", "payload": {"n": 1}},
            headers={"X-Request-Id": malformed},
        )
        assert sent.status_code == 201, sent.text
        create_id = sent.headers["x-request-id"]
        assert create_id != malformed and WELL_FORMED.fullmatch(create_id)
        too_long = "a" * 129
        listed = await ask("GET", "/api/v1/app", "/api/v1/app", headers={"X-Request-Id": too_long})
        assert listed.status_code == 200
        assert listed.headers["x-request-id"] != too_long
        missing = await ask("GET", "/api/v1/app/app_nothere", "/api/v1/app/{app_id}")
        assert missing.status_code == 404
        assert (await ask("DELETE", "/api/v1/app", "/api/v1/app")).status_code == 405
        big = b"{" + b" " * 100_000 + b"}"
        # Refused by its Content-Length before any route matched.
        assert (await ask("POST", "/api/v1/app", "", content=big)).status_code == 413
        wrong = {"Authorization": "Bearer hk_wrong_token"}
        assert (await ask("GET", "/api/v1/app", "/api/v1/app", headers=wrong)).status_code == 401
        unknown = await ask("POST", "/in/no-such-source", "/in/{source}", content=b"{}")
        assert unknown.status_code == 404
        source = await ask(
            "POST",
            "/ingest/api/v1/source",
            "/ingest/api/v1/source",
            json={"name": "s", "type": "generic-webhook", "config": {"auth": "none"}},
        )
        assert source.status_code == 201, source.text
        ingest_url = source.json()["ingestUrl"]
        ingest_token = ingest_url.rsplit("/", 1)[1]
        accepted = await ask("POST", ingest_url, "/in/{source}", content=b'{"a": 1}')
        assert accepted.status_code < 300, accepted.text
        # Another method than GET or HEAD reaches the application.
        assert (await ask("DELETE", "/api/v1/health", "/api/v1/health")).status_code == 405
        # Answered by the HTTP protocol before the application: an id, no line.
        probe = await api.get("/api/v1/health", headers={"X-Request-Id": "probe-1"})
        assert probe.status_code == 200 and probe.headers["x-request-id"] == "probe-1"

        await failing.wait_for(4)  # the first attempt and three retries ("1,1,1")
        await recovering.wait_for(3)
        await working.wait_for(1)
        await gone.wait_for(1)
    a_failing, a_recovering, a_working, a_gone = endpoints
    await logged(server, "message exhausted", endpoint_id=a_failing)
    await logged(server, "circuit closed", endpoint_id=a_recovering)
    await logged(server, "endpoint disabled", endpoint_id=a_gone)
    # The same events, counted: each circuit that opened (the failing one, probes keeping it
    # open; the recovering one) and closed, the disabled endpoint, the two exhausted messages
    # (the failing endpoint's, out of retries; the gone one's, answered 410).
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as api:
        scraped = await api.get("/metrics")
    assert scraped.status_code == 200
    answered.append((scraped, "GET", "/metrics"))
    counted = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
    }
    assert counted[("hookd_breaker_transitions_total", (("state", "open"),))] == 2
    assert counted[("hookd_breaker_transitions_total", (("state", "closed"),))] == 1
    assert counted[("hookd_endpoints_disabled_total", (("reason", "receiver"),))] == 1
    assert counted[("hookd_endpoints_disabled_total", (("reason", "failing"),))] == 0
    assert counted[("hookd_messages_exhausted_total", ())] == 2
    server.terminate()
    for receiver in receivers:
        await receiver.stop()

    lines = lines_of(server)  # every line is JSON, uvicorn's and alembic's included
    assert {line["logger"] for line in lines} >= {"hookd", "hookd.api", "uvicorn.error"}
    access = events(lines, ACCESS)
    ids = [answer.headers["x-request-id"] for answer, _, _ in answered]
    assert all(WELL_FORMED.fullmatch(request_id) for request_id in ids)
    assert Counter(line["request_id"] for line in access) == Counter(ids)
    assert len(set(ids)) == len(ids)
    by_id = {line["request_id"]: line for line in access}
    for answer, method, route in answered:
        line = by_id[answer.headers["x-request-id"]]
        expected = (method, route, answer.status_code, "127.0.0.1")
        assert (line["method"], line["route"], line["status"], line["client"]) == expected
        assert line["level"] == "info" and isinstance(line["duration_ms"], int | float)
    routes = [line["route"] for line in access]
    assert by_id[create_id]["principal"] == "admin"
    assert [line["principal"] for line in access if line["status"] == 401] == [None]
    ingested = by_id[accepted.headers["x-request-id"]]
    assert ingested["route"] == "/in/{source}" and ingested["source_id"] == source.json()["id"]
    text = server.log_path.read_text()
    assert app not in "".join(routes) and ingest_token not in text
    assert malformed not in text and too_long not in text and "probe-1" not in text

    def attempts(endpoint_id: str) -> list[dict[str, Any]]:
        return [line for line in lines if line.get("endpoint_id") == endpoint_id]

    failed = events(lines, "attempt failed", endpoint_id=a_failing)
    assert [line["attempt"] for line in failed] == [1, 2, 3, 4]
    assert [line["outcome"] for line in failed] == ["retrying"] * 3 + ["failed"]
    assert {(line["level"], line["status"], line["msg_id"], line["app_id"]) for line in failed} == {
        ("warning", 500, sent.json()["id"], app)
    }
    # Each names the request that created the message, and its attempt's id and duration.
    assert {line["request_id"] for line in failed} == {create_id}
    assert all(line["attempt_id"].startswith("atmpt_") for line in failed)
    assert all(isinstance(line["duration_ms"], int) for line in failed)
    assert all("next_attempt_at" in line for line in failed[:3])
    [exhausted] = events(lines, "message exhausted", endpoint_id=a_failing)
    assert (exhausted["level"], exhausted["attempts"]) == ("warning", 4)
    assert exhausted["request_id"] == create_id
    assert len(events(lines, "circuit opened", endpoint_id=a_failing)) == 1  # probes keep it open
    assert events(lines, "circuit closed", endpoint_id=a_failing) == []
    assert [line["event"] for line in attempts(a_recovering)] == [
        "attempt failed",
        "attempt failed",
        "circuit opened",
        "circuit closed",
    ]
    [gone_line] = events(lines, "attempt failed", endpoint_id=a_gone)
    assert (gone_line["status"], gone_line["outcome"]) == (410, "failed")
    [disabled] = events(lines, "endpoint disabled", endpoint_id=a_gone)
    assert (disabled["level"], disabled["reason"], disabled["app_id"]) == (
        "warning",
        "receiver",
        app,
    )
    # Nothing at info per successful delivery.
    assert attempts(a_working) == []


def credentials(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_no_secret_reaches_a_debug_log(new_server: NewServer, tmp_path: Path) -> None:
    server = new_server({"HOOKD_LOG_LEVEL": "debug", "HOOKD_LOG_FORMAT": "json"})
    server.start()
    planted = Planted()
    planted.add("admin token", TOKEN)
    planted.add("main key", MAIN_KEY)
    receiver = await receiver_answering(default=204)
    failing = await receiver_answering(default=500)
    access_token = planted.add("OAuth access token", token("access"))

    async def issue(_: Any) -> web.Response:
        return web.json_response(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600}
        )

    idp = Receiver()
    idp.default = issue
    await idp.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as api:
            await secrets_scenario(api, planted, receiver, failing, idp)
            key_id = await access_scenario(api, planted)
            wrong = planted.add("wrong admin token", "hk_" + secrets.token_urlsafe(24))
            refused = await api.get("/api/v1/app", headers={"Authorization": f"Bearer {wrong}"})
            assert refused.status_code == 401
        await logged(server, "attempt failed", count=4)  # 2 answered 500, 2 refused
    finally:
        server.stop()
        for stopped in (receiver, failing, idp):
            await stopped.stop()
    lines = lines_of(server)
    assert {line["level"] for line in lines} >= {"debug", "info", "warning"}
    assert events(lines, "attempt succeeded")  # debug lines of deliveries are there
    log = server.log_path.read_bytes()
    assert [name for name, needle in planted.needles() if needle in log] == []
    # An API key's and a portal token's requests name them by id.
    principals = {line["request_id"]: line["principal"] for line in events(lines, ACCESS)}
    assert principals["as-key"] == key_id
    assert principals["as-portal"].startswith("ptok_")


async def access_scenario(api: httpx.AsyncClient, planted: Planted) -> str:
    """An API key and an app portal token (docs/access.md), each used once; the key's id."""
    app = (await api.post("/api/v1/app", json={"name": "access"})).json()["id"]
    key = await api.post(
        "/api/v1/api-key", json={"name": "backend", "scope": "application", "appId": app}
    )
    assert key.status_code == 201, key.text
    key_token = planted.add("API key", key.json()["token"])
    portal = await api.post(f"/api/v1/auth/app-portal-access/{app}", json={})
    assert portal.status_code == 200, portal.text
    portal_token = planted.add("app portal token", portal.json()["token"])
    planted.add("app portal URL fragment", portal.json()["url"].split("#key=", 1)[1])
    for bearer, request_id in ((key_token, "as-key"), (portal_token, "as-portal")):
        headers = {"Authorization": f"Bearer {bearer}", "X-Request-Id": request_id}
        used = await api.get(f"/api/v1/app/{app}/endpoint", headers=headers)
        assert used.status_code == 200, used.text
    key_id: str = key.json()["id"]
    return key_id


async def secrets_scenario(
    api: httpx.AsyncClient, planted: Planted, receiver: Receiver, failing: Receiver, idp: Receiver
) -> None:
    """Endpoints with every kind of credential, messages that reach them (one fails), sources
    with secrets and requests that present them, rightly and wrongly."""
    app = (await api.post("/api/v1/app", json={"name": "secrets"})).json()["id"]

    async def endpoint(**fields: Any) -> None:
        answer = await api.post(f"/api/v1/app/{app}/endpoint", json=fields)
        assert answer.status_code == 201, answer.text

    await endpoint(
        url=receiver.url_for("/hmac"),
        secret=planted.add("endpoint secret", whsec()),
        headers={"X-Api-Key": planted.add("custom header value", token("header"))},
    )
    password = planted.add("basic password", token("pw"))
    planted.add("basic credentials (base64)", credentials("bot", password))
    await endpoint(
        url=receiver.url_for("/basic"),
        auth={"type": "basic", "username": "bot", "password": password},
    )
    await endpoint(
        url=receiver.url_for("/bearer"),
        auth={"type": "bearer", "token": planted.add("bearer token", token("bearer"))},
    )
    client_secret = planted.add("OAuth client secret", token("oauth"))
    planted.add("OAuth client credentials (base64)", credentials("client", client_secret))
    await endpoint(
        url=receiver.url_for("/oauth"),
        auth={
            "type": "oauth2",
            "tokenUrl": idp.url_for("/token"),
            "clientId": "client",
            "clientSecret": client_secret,
        },
    )
    url_password = planted.add("URL password", token("urlpw"))
    planted.add("URL credentials (base64)", credentials("urluser", url_password))
    await endpoint(url=f"http://urluser:{url_password}@127.0.0.1:{receiver.port}/userinfo")
    refused_password = planted.add("URL password (refused)", token("urlpw"))
    await endpoint(url=f"http://urluser:{refused_password}@127.0.0.1:9/closed")  # nothing listens
    await endpoint(
        url=failing.url,
        secret=planted.add("failing endpoint secret", whsec()),
        auth={"type": "bearer", "token": planted.add("failing bearer token", token("bearer"))},
    )
    for n in range(2):
        sent = await api.post(
            f"/api/v1/app/{app}/msg", json={"eventType": "order.paid", "payload": {"n": n}}
        )
        assert sent.status_code == 201, sent.text
    await receiver.wait_for(10)  # 5 endpoints, 2 messages
    await idp.wait_for(1)
    await failing.wait_for(2)

    github_secret = planted.add("GitHub source secret", token("gh"))
    made = await api.post(
        "/ingest/api/v1/source",
        json={"name": "gh", "type": "github", "config": {"secret": github_secret}},
    )
    assert made.status_code == 201, made.text
    ingest_url = made.json()["ingestUrl"]
    planted.add("ingest URL token", ingest_url.rsplit("/", 1)[1])
    bearer_source = await api.post(
        "/ingest/api/v1/source",
        json={
            "name": "b",
            "type": "generic-webhook",
            "config": {"auth": "bearer", "secret": planted.add("source bearer", token("sb"))},
        },
    )
    assert bearer_source.status_code == 201, bearer_source.text
    planted.add("bearer ingest URL token", bearer_source.json()["ingestUrl"].rsplit("/", 1)[1])
    body = b'{"zen": "Keep it logically awesome."}'
    wrong_secret = planted.add("wrong GitHub secret", token("gh"))
    async with httpx.AsyncClient(timeout=10) as provider:
        good = await provider.post(
            ingest_url, content=body, headers=github_headers(body, github_secret, "push")
        )
        bad = await provider.post(
            ingest_url, content=body, headers=github_headers(body, wrong_secret, "push")
        )
        wrong_bearer = planted.add("wrong source bearer", token("sb"))
        refused = await provider.post(
            bearer_source.json()["ingestUrl"],
            content=body,
            headers={"Authorization": f"Bearer {wrong_bearer}"},
        )
    assert (good.status_code, bad.status_code, refused.status_code) == (200, 401, 401)


@pytest.mark.parametrize("log_format", ["console", "auto"])
async def test_console_lines_for_people(
    new_server: NewServer, tmp_path: Path, log_format: str
) -> None:
    """``console`` renders lines for people (no colour off a terminal); ``auto`` off a terminal
    (the tests' log file) is JSON."""
    server = new_server({"HOOKD_LOG_FORMAT": log_format})
    server.start()
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as api:
        answer = await api.get("/api/v1/app", headers={"X-Request-Id": "console-1"})
    assert answer.headers["x-request-id"] == "console-1"
    server.terminate()
    text = server.log_path.read_text()
    [line] = [line for line in text.splitlines() if "console-1" in line]
    if log_format == "console":
        assert "request served" in line and "route=/api/v1/app" in line and "\x1b[" not in text
        assert not line.startswith("{")
    else:
        assert json.loads(line)["route"] == "/api/v1/app"


async def test_a_generated_admin_token_is_not_logged(new_server: NewServer) -> None:
    """Off a terminal, stderr is the log stream: the token is only in its 0600 file."""
    server = new_server({"HOOKD_ADMIN_TOKEN": ""})  # none configured: generated
    server.start()
    server.terminate()
    generated = (server.data_dir / "admin_token").read_text().strip()
    assert generated.startswith("hk_") and generated not in server.log_path.read_text()
    [line] = events(lines_of(server), "admin token generated")
    assert line["path"].endswith("admin_token")
