"""Every family of the API's commands against a live `hookd serve`: the real entry point, JSON
output parsed (tests/integration/cli_support.py). The commands only speak HTTP, so the server
is the SQLite one."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from standardwebhooks import Webhook

from tests.integration.cli_support import Cli
from tests.support import TOKEN, HookdServer, Receiver, eventually

pytestmark = pytest.mark.parametrize("hookd", ["sqlite"], indirect=True)


@pytest.fixture
def cli(hookd: HookdServer, tmp_path: Path) -> Cli:
    return Cli(tmp_path / "cli", server=hookd.url, in_process=True)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ids(page: dict[str, Any], key: str = "id") -> list[Any]:
    return [item[key] for item in page["data"]]


def test_app(cli: Cli) -> None:
    uid = unique("app")
    created = cli.json("app", "create", "Acme", "--uid", uid, "--metadata", "tier=gold")
    assert (created["name"], created["uid"], created["metadata"]) == ("Acme", uid, {"tier": "gold"})
    assert cli.json("app", "get", uid)["id"] == created["id"]
    assert created["id"] in ids(cli.json("app", "list", "--limit", "250"))
    again = cli.json("app", "create", "Other", "--uid", uid, "--get-if-exists")
    assert again["id"] == created["id"]

    updated = cli.json("app", "update", uid, "--name", "Acme Corp", "--rate-limit", "7")
    assert (updated["name"], updated["rateLimit"], updated["uid"]) == ("Acme Corp", 7, uid)
    # The table is for people; YAML for scripts that prefer it.
    table = cli.run("app", "get", uid)
    assert table.returncode == 0 and "Acme Corp" in table.stdout
    assert yaml.safe_load(cli.run("app", "get", uid, "-o", "yaml").stdout)["rateLimit"] == 7

    deleted = cli.run("app", "delete", uid)
    assert deleted.returncode == 0, deleted.stderr
    gone = cli.run("app", "get", uid)
    assert gone.returncode == 3
    assert "404" in gone.stderr and "not found" in gone.stderr


async def test_endpoint(cli: Cli, receiver: Receiver) -> None:
    app = unique("app")
    await cli.ajson("app", "create", "Shop", "--uid", app)
    created = await cli.ajson(
        "endpoint", "create", app, "--url", receiver.url, "--uid", "main",
        "--event-type", "order.paid", "--description", "orders",
    )  # fmt: skip
    assert (created["url"], created["filterTypes"]) == (receiver.url, ["order.paid"])
    assert (await cli.ajson("endpoint", "get", app, "main"))["id"] == created["id"]
    assert ids(await cli.ajson("endpoint", "list", app)) == [created["id"]]
    disabled = await cli.ajson("endpoint", "update", app, "main", "--disabled")
    assert disabled["disabled"] is True and disabled["description"] == "orders"
    enabled = await cli.ajson("endpoint", "update", app, "main", "--enabled")
    assert enabled["disabled"] is False

    secret = (await cli.ajson("endpoint", "secret", app, "main"))["key"]
    assert secret.startswith("whsec_")
    rotated = (await cli.ajson("endpoint", "secret", app, "main", "--rotate"))["key"]
    assert rotated.startswith("whsec_") and rotated != secret
    assert (await cli.ajson("endpoint", "secret", app, "main"))["key"] == rotated

    # A message the endpoint failed to take is sent again by recover, which follows its task.
    receiver.responses = [500, 500, 500, 500]
    await cli.ajson("msg", "send", app, "order.paid", "--payload", '{"n": 1}')

    async def failed_for_good() -> bool:
        # The first attempt and the schedule's three retries, all recorded.
        page = await cli.ajson("attempt", "list", app, "--endpoint", "main", "--status", "fail")
        return len(page["data"]) == 4

    await eventually(failed_for_good, timeout=30)
    recovered = await cli.arun("endpoint", "recover", app, "main", "--since", "1h", "-o", "json")
    assert recovered.returncode == 0, recovered.stderr
    task = json.loads(recovered.stdout)
    assert (task["task"], task["status"]) == ("endpoint.recover", "finished")
    assert task["data"] == {"messagesSent": 1}
    assert f"endpoint.recover {task['id']} finished messagesSent=1" in recovered.stderr
    delivered = await receiver.wait_for(5)
    Webhook(rotated).verify(delivered[-1].body, delivered[-1].headers)

    assert (await cli.arun("endpoint", "delete", app, "main")).returncode == 0
    assert (await cli.arun("endpoint", "get", app, "main")).returncode == 3


def test_event_type(cli: Cli) -> None:
    name = unique("invoice") + ".paid"
    schema = {"type": "object", "required": ["amount"]}
    created = cli.json(
        "event-type", "create", name, "--description", "an invoice was paid",
        "--schema", json.dumps(schema), "--group", "billing",
    )  # fmt: skip
    assert (created["schemas"], created["groupName"]) == ({"1": schema}, "billing")
    assert cli.json("event-type", "get", name)["description"] == "an invoice was paid"
    assert name in ids(cli.json("event-type", "list", "--limit", "250"), "name")
    assert cli.json("event-type", "update", name, "--deprecated")["deprecated"] is True

    assert cli.run("event-type", "delete", name).returncode == 0
    assert cli.json("event-type", "get", name)["archived"] is True
    listed = ids(cli.json("event-type", "list", "--limit", "250"), "name")
    assert name not in listed
    assert name in ids(
        cli.json("event-type", "list", "--limit", "250", "--include-archived"), "name"
    )


async def test_msg_and_attempt(cli: Cli, receiver: Receiver, tmp_path: Path) -> None:
    app = unique("app")
    await cli.ajson("app", "create", "Shop", "--uid", app)
    endpoint = await cli.ajson("endpoint", "create", app, "--url", receiver.url)
    payload = tmp_path / "payload.json"
    payload.write_text('{"amount": 1250, "currency": "EUR"}')

    sent = await cli.ajson(
        "msg", "send", app, "invoice.paid", "--payload", f"@{payload}",
        "--event-id", "evt-1", "--tag", "vip",
    )  # fmt: skip
    assert sent["payload"] == {"amount": 1250, "currency": "EUR"}
    (first,) = await receiver.wait_for(1)
    assert json.loads(first.body)["amount"] == 1250
    assert first.headers["webhook-id"] == sent["id"]

    listed = await cli.ajson("msg", "list", app, "--event-type", "invoice.paid", "--after", "1h")
    assert ids(listed) == [sent["id"]]
    assert (await cli.ajson("msg", "get", app, "evt-1"))["id"] == sent["id"]

    resent = await cli.arun("msg", "resend", app, sent["id"], endpoint["id"])
    assert resent.returncode == 0, resent.stderr
    second = (await receiver.wait_for(2))[1]
    assert second.headers["webhook-id"] == sent["id"]

    async def two_attempts() -> Any:
        page = await cli.ajson("attempt", "list", app, "--msg", sent["id"])
        return page if len(page["data"]) == 2 else None

    by_message = await eventually(two_attempts)
    assert {a["endpointId"] for a in by_message["data"]} == {endpoint["id"]}
    by_endpoint = await cli.ajson("attempt", "list", app, "--endpoint", endpoint["id"])
    assert sorted(ids(by_endpoint)) == sorted(ids(by_message))
    successes = await cli.ajson(
        "attempt", "list", app, "--endpoint", endpoint["id"], "--status", "success"
    )
    assert len(successes["data"]) == 2
    attempt = by_message["data"][0]
    shown = await cli.ajson("attempt", "get", app, sent["id"], attempt["id"])
    assert (shown["id"], shown["responseStatusCode"]) == (attempt["id"], 204)

    expunged = await cli.arun("msg", "expunge", app, sent["id"])
    assert expunged.returncode == 0, expunged.stderr
    assert (await cli.ajson("msg", "get", app, sent["id"]))["payload"] != sent["payload"]


async def test_source_and_request(cli: Cli) -> None:
    uid = unique("src")
    source = await cli.ajson(
        "source", "create", "Webhooks in", "--type", "generic-webhook", "--uid", uid,
        "--config", '{"auth": "none"}',
    )  # fmt: skip
    assert source["uid"] == uid and source["ingestUrl"].startswith("http")
    assert (await cli.ajson("source", "get", uid))["id"] == source["id"]
    assert source["id"] in ids(await cli.ajson("source", "list", "--limit", "250"))
    renamed = await cli.ajson("source", "update", uid, "--name", "Renamed")
    assert (renamed["name"], renamed["config"], renamed["type"]) == (
        "Renamed",
        source["config"],
        "generic-webhook",
    )
    assert isinstance(await cli.ajson("source", "secret", uid), dict)

    async with httpx.AsyncClient() as client:
        posted = await client.post(source["ingestUrl"], content=b'{"event": "ping"}')
    assert posted.status_code == 200, posted.text
    requests = await cli.ajson("request", "list", uid)
    (request,) = requests["data"]
    assert request["outcome"] == "accepted"
    detail = await cli.ajson("request", "get", uid, request["id"])
    assert detail["bodyText"] == '{"event": "ping"}'

    one = await cli.ajson("request", "replay", uid, request["id"])
    assert one == {"deliveriesQueued": 0}  # no endpoint to forward to
    bulk = await cli.arun("request", "replay", uid, "--since", "1h", "-o", "json")
    assert bulk.returncode == 0, bulk.stderr
    task = json.loads(bulk.stdout)
    assert (task["task"], task["status"]) == ("source.replay", "finished")
    assert task["data"]["requestsReplayed"] == 1 and task["data"]["done"] is True
    assert f"source.replay {task['id']} finished requestsReplayed=1" in bulk.stderr
    # On a terminal, a progress bar follows the task and ends on its result.
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    followed = await cli.arun("request", "replay", uid, "--since", "1h", env=terminal)
    assert followed.returncode == 0, followed.stderr
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", followed.stderr)
    assert re.search(r"done +source\.replay qtask_\S+ finished\b.*\brequestsReplayed=1", shown)
    everything = await cli.ajson("request", "replay", uid, "--all", "--no-wait")
    assert everything["data"]["requestsReplayed"] == 1
    # Replaying many needs a range; one request's id takes no filter.
    assert (await cli.arun("request", "replay", uid)).returncode == 2
    assert (await cli.arun("request", "replay", uid, request["id"], "--all")).returncode == 2

    rotated = await cli.ajson("source", "rotate-url", uid)
    assert rotated["ingestUrl"] != source["ingestUrl"]
    assert (await cli.arun("source", "delete", uid)).returncode == 0
    assert (await cli.arun("source", "get", uid)).returncode == 3


def test_key(cli: Cli, hookd: HookdServer) -> None:
    name = unique("ci")
    created = cli.json("key", "create", name, "--scope", "read_only", "--expires", "30d")
    assert created["scope"] == "read_only" and created["token"]
    assert cli.json("key", "get", created["id"])["name"] == name
    assert created["id"] in ids(cli.json("key", "list", "--limit", "250"))
    # The new key reads, and may not write.
    as_key = Cli(cli.home, server=hookd.url, token=created["token"])
    assert isinstance(as_key.json("app", "list"), dict)
    refused = as_key.run("app", "create", "nope")
    assert refused.returncode == 4 and "403" in refused.stderr

    assert cli.run("key", "delete", created["id"]).returncode == 0
    revoked = as_key.run("app", "list")
    assert revoked.returncode == 4 and "401" in revoked.stderr


async def test_alert(cli: Cli, receiver: Receiver) -> None:
    channel = await cli.ajson(
        "alert", "channel", "create", unique("ops"), "--type", "webhook",
        "--config", json.dumps({"url": receiver.url}),
    )  # fmt: skip
    assert channel["type"] == "webhook"
    assert channel["id"] in ids(await cli.ajson("alert", "channel", "list", "--limit", "250"))
    tested = await cli.ajson("alert", "channel", "test", channel["id"])
    assert tested["ok"] is True
    renamed = await cli.ajson("alert", "channel", "update", channel["id"], "--name", "ops-2")
    assert renamed["name"] == "ops-2"

    # Scoped to an application with no traffic: the shared server's other tests fail on purpose,
    # and a global rule would open an issue from their attempts.
    quiet = await cli.ajson("app", "create", "Quiet", "--uid", unique("quiet"))
    rule = await cli.ajson(
        "alert", "rule", "create", unique("failing"), "--kind", "failure_rate",
        "--threshold", "50", "--channel", channel["id"],
        "--scope", "application", "--scope-id", quiet["id"],
    )  # fmt: skip
    assert (rule["kind"], rule["threshold"], rule["channels"]) == (
        "failure_rate",
        50.0,
        [channel["id"]],
    )
    assert (await cli.ajson("alert", "rule", "get", rule["id"]))["id"] == rule["id"]
    assert rule["id"] in ids(await cli.ajson("alert", "rule", "list", "--limit", "250"))
    assert (await cli.ajson("alert", "rule", "update", rule["id"], "--disabled"))[
        "enabled"
    ] is False
    issues = await cli.ajson("alert", "issue", "list", "--rule", rule["id"])
    assert issues["data"] == []
    assert (await cli.arun("alert", "issue", "ack", "alrtiss_missing")).returncode == 3

    # A channel a rule names is not deleted (409: invalid input), then it is.
    in_use = await cli.arun("alert", "channel", "delete", channel["id"])
    assert in_use.returncode == 2 and "409" in in_use.stderr
    assert (await cli.arun("alert", "rule", "delete", rule["id"])).returncode == 0
    assert (await cli.arun("alert", "channel", "delete", channel["id"])).returncode == 0


async def test_task(cli: Cli, receiver: Receiver) -> None:
    app = unique("app")
    await cli.ajson("app", "create", "Shop", "--uid", app)
    await cli.ajson("endpoint", "create", app, "--url", receiver.url, "--uid", "main")
    started = await cli.ajson("endpoint", "recover", app, "main", "--since", "1h", "--no-wait")
    listed = await cli.ajson("task", "list", "--task", "endpoint.recover", "--limit", "250")
    assert started["id"] in ids(listed)
    followed = await cli.arun("task", "get", started["id"], "--wait", "-o", "json")
    assert followed.returncode == 0, followed.stderr
    assert json.loads(followed.stdout)["status"] == "finished"
    assert (await cli.arun("task", "get", "qtask_missing")).returncode == 3


def test_login_saves_a_private_profile(cli: Cli, hookd: HookdServer) -> None:
    anonymous = Cli(cli.home)  # no HOOKD_URL, no HOOKD_TOKEN
    refused = anonymous.run("login", "--server", hookd.url, "--token", "hk_wrong")
    assert refused.returncode == 4
    assert not (anonymous.config_home / "hookd" / "config.toml").exists()

    saved = anonymous.run("login", "--server", hookd.url, "--token", TOKEN, "--profile", "ci")
    assert saved.returncode == 0, saved.stderr
    path = anonymous.config_home / "hookd" / "config.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert TOKEN not in saved.stderr + saved.stdout

    assert isinstance(anonymous.json("app", "list", "--profile", "ci"), dict)
    with_env = anonymous.run("app", "list", "-o", "json", env={"HOOKD_PROFILE": "ci"})
    assert with_env.returncode == 0, with_env.stderr
    # No default profile yet; an unknown one is a usage error.
    assert anonymous.run("app", "list", "--profile", "nope").returncode == 2
