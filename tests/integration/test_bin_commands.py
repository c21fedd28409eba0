"""`hookd bin` and `hookd demo` against a live server: every bin command (its JSON output
parsed), the exit codes, and the demo on a fresh data directory with the default SSRF guard."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import standardwebhooks
import yaml

from tests.launcher import run_hookd, start_hookd
from tests.support import TOKEN, HookdServer, NewServer, Receiver, eventually


def _env(**extra: str) -> dict[str, str]:
    """The environment without the suite's HOOKD_* settings (a user's shell)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HOOKD_")} | extra


async def _hookd(
    server: HookdServer, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`hookd ARGS --server URL --token TOKEN`, off the event loop (receivers keep answering)."""
    command = [*args, "--server", server.url, "--token", TOKEN]
    return await asyncio.to_thread(run_hookd, command, env=_env(), cwd=cwd)


async def _json(server: HookdServer, *args: str) -> Any:
    done = await _hookd(server, *args, "--output", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_every_bin_command(hookd: HookdServer, receiver: Receiver, tmp_path: Path) -> None:
    answer_file = tmp_path / "answer.json"
    answer_file.write_text('{"ok": "from a file"}')
    made = await _json(
        hookd,
        "bin",
        "create",
        "--name",
        "cli",
        "--status",
        "202",
        "--header",
        "Content-Type: application/json",
        "-H",
        "X-Bin: cli",
        "--body-file",
        str(answer_file),
        "--ttl-seconds",
        "600",
    )
    assert made["name"] == "cli"
    assert made["answer"] == {
        "statusCode": 202,
        "headers": {"content-type": "application/json", "x-bin": "cli"},
        "body": '{"ok": "from a file"}',
        "delayMs": 0,
    }
    assert made["ttlSeconds"] == 600
    bin_id, url = made["id"], made["url"]
    listed = await _json(hookd, "bin", "list", "--limit", "250")
    assert bin_id in {b["id"] for b in listed["data"]}
    assert (await _json(hookd, "bin", "get", bin_id)) == made
    as_yaml = await _hookd(hookd, "bin", "get", bin_id, "-o", "yaml")
    assert as_yaml.returncode == 0 and yaml.safe_load(as_yaml.stdout) == made
    table = await _hookd(hookd, "bin", "list", "--limit", "250")
    assert table.returncode == 0 and bin_id in table.stdout and url in table.stdout

    updated = await _json(hookd, "bin", "update", bin_id, "--status", "201")
    assert updated["answer"] == {**made["answer"], "statusCode": 201}  # the rest kept

    # tail: started first, it prints the request sent once it follows the bin.
    out, err = tmp_path / "tail.out", tmp_path / "tail.err"
    command = ["bin", "tail", bin_id, "--count", "1", "--output", "json"]
    tail = start_hookd(
        [*command, "--server", hookd.url, "--token", TOKEN],
        env=_env(),
        cwd=tmp_path,
        stdout=out,
        stderr=err,
    )

    async def following() -> bool:
        return err.exists() and "following" in err.read_text()

    await eventually(following)
    async with httpx.AsyncClient(timeout=10) as client:
        sent = await client.post(f"{url}/cli/path?q=1", content=b"\x00\x01 from the cli test")
        assert sent.status_code == 201
        assert sent.json() == {"ok": "from a file"}
    assert await asyncio.to_thread(tail.wait, 30) == 0, err.read_text()
    tailed = json.loads(out.read_text())
    assert (tailed["method"], tailed["path"], tailed["query"]) == ("POST", "/cli/path", "q=1")
    assert base64.b64decode(tailed["body"]) == b"\x00\x01 from the cli test"

    page = await _json(hookd, "bin", "requests", bin_id)
    assert [r["id"] for r in page["data"]] == [tailed["id"]]
    one = await _json(hookd, "bin", "requests", bin_id, tailed["id"])
    assert one == tailed
    shown = await _hookd(hookd, "bin", "requests", bin_id, tailed["id"])
    assert shown.returncode == 0 and "POST" in shown.stdout and "/cli/path?q=1" in shown.stdout

    receiver.default = 204
    replayed = await _json(
        hookd, "bin", "replay", bin_id, tailed["id"], "--to", receiver.url_for("/local")
    )
    assert (replayed["statusCode"], replayed["error"]) == (204, None)
    (arrived,) = await receiver.wait_for(1)
    assert (arrived.method, arrived.path) == ("POST", "/local")
    assert arrived.body == b"\x00\x01 from the cli test"
    receiver.default = 500
    failed = await _hookd(hookd, "bin", "replay", bin_id, tailed["id"], "--to", receiver.url)
    assert failed.returncode == 1 and "500" in failed.stdout

    deleted = await _hookd(hookd, "bin", "delete", bin_id)
    assert deleted.returncode == 0, deleted.stderr
    missing = await _hookd(hookd, "bin", "get", bin_id)
    assert missing.returncode == 3 and "not found" in missing.stderr


async def test_exit_codes_tell_failures_apart(hookd: HookdServer) -> None:
    invalid = await _hookd(hookd, "bin", "create", "--status", "99")
    assert invalid.returncode == 2
    assert "statusCode" in invalid.stderr
    bad_header = await _hookd(hookd, "bin", "create", "--header", "no colon")
    assert bad_header.returncode == 2
    refused = await asyncio.to_thread(
        run_hookd,
        ["bin", "list", "--server", hookd.url, "--token", "hk_wrong"],
        env=_env(),
    )
    assert refused.returncode == 4
    nobody = await asyncio.to_thread(
        run_hookd,
        ["bin", "list", "--server", "http://127.0.0.1:1", "--token", TOKEN],
        env=_env(),
    )
    assert nobody.returncode == 5  # no server: as every API command
    assert "cannot reach" in nobody.stderr


async def test_demo_on_a_fresh_data_directory(new_server: NewServer) -> None:
    """`hookd serve` as a newcomer runs it (its own data directory, a generated admin token,
    the default SSRF guard), then `hookd demo` in the same directory with no settings."""
    server = new_server(
        {
            "HOOKD_DATABASE_URL": "",  # ./.hookd/hookd.db in the server's directory
            "HOOKD_ADMIN_TOKEN": "",  # generated, stored in ./.hookd/admin_token
            "HOOKD_MAIN_KEY": "",
            "HOOKD_ALLOW_NETWORKS": "",
        }
    )
    server.start()
    # Not a terminal: the first steps are one line of the JSON log stream.
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line]
    [steps] = [line for line in lines if line.get("event") == "first steps"]
    assert steps["console"] == f"{server.url}/console"
    assert steps["admin token"] == "in .hookd/admin_token"
    assert steps["try"].startswith(f"hookd demo --server {server.url}")
    token = (server.data_dir / ".hookd" / "admin_token").read_text().strip()

    summaries = []
    for output_format in ("table", "table", "json"):  # later runs reuse what the first made
        done = await asyncio.to_thread(
            run_hookd,
            ["demo", "--server", server.url, "-o", output_format],
            env=_env(),
            cwd=server.data_dir,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        if output_format == "json":  # the steps on stderr, a summary on stdout
            summaries.append(json.loads(done.stdout))
            output = done.stderr
        else:
            output = done.stdout
        assert "delivered" in output and "the bin answered 200" in output
        assert "signature    verified with the endpoint's secret" in output
        assert f"{server.url}/console/apps/app_" in output

    # What the demo printed is true: checked here with the standardwebhooks library.
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as api:
        apps = (await api.get("/api/v1/app")).json()["data"]
        assert [a["uid"] for a in apps] == ["hookd-demo"]
        bins = (await api.get("/api/v1/bin")).json()["data"]
        assert [b["uid"] for b in bins] == ["hookd-demo"]
        (endpoint,) = (await api.get(f"/api/v1/app/{apps[0]['id']}/endpoint")).json()["data"]
        assert (endpoint["uid"], endpoint["url"]) == ("hookd-demo", bins[0]["url"])
        path = f"/api/v1/app/{apps[0]['id']}/endpoint/{endpoint['id']}/secret"
        secret = (await api.get(path)).json()
        captures = (await api.get(f"/api/v1/bin/{bins[0]['id']}/request")).json()["data"]
        assert len(captures) == 3
        [summary] = summaries
        assert summary["appId"] == apps[0]["id"] and summary["signatureVerified"] is True
        assert summary["requestId"] in {capture["id"] for capture in captures}
        for capture in captures:
            body = base64.b64decode(capture["body"])
            standardwebhooks.Webhook(secret["key"]).verify(body, dict(capture["headers"]))
            assert capture["path"] == ""


async def test_demo_without_a_server_says_what_to_do(tmp_path: Path) -> None:
    done = await asyncio.to_thread(
        run_hookd,
        ["demo", "--server", "http://127.0.0.1:1", "--token", TOKEN],
        env=_env(),
        cwd=tmp_path,
    )
    assert done.returncode == 5
    assert "cannot reach" in done.stderr and "hookd serve" in done.stderr
