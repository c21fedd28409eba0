"""What every API command shares: exit codes, retries on 429/503 after Retry-After, the
Idempotency-Key on POST, configuration from flags, environment and profiles; `hookd serve
--help`, `hookd --version` and shell completion."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from hookd import __version__
from hookd.commands import serve_options
from hookd.config import OTHER_SETTINGS, SETTING_GROUPS, Settings
from tests.integration.cli_support import Cli
from tests.support import TOKEN, HookdServer, Received, Receiver, free_port

APP: dict[str, object] = {
    "id": "app_1",
    "uid": None,
    "name": "x",
    "rateLimit": None,
    "throttleRate": None,
    "metadata": {},
    "createdAt": "2026-01-01T00:00:00Z",
    "updatedAt": "2026-01-01T00:00:00Z",
}


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def always(
    status: int, body: object, headers: dict[str, str] | None = None
) -> Callable[[Received], Awaitable[web.Response]]:
    """The fake's answer to every request (a response object answers once)."""

    async def respond(_: Received) -> web.Response:
        return answer(status, body, headers)

    return respond


@pytest.fixture
async def fake() -> AsyncIterator[Receiver]:
    """A stand-in for hookd's API: it answers what the test queues and records every request."""
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


def fake_cli(tmp_path: Path, fake: Receiver) -> Cli:
    return Cli(tmp_path / "cli", server=f"http://127.0.0.1:{fake.port}")


async def test_503_and_429_are_retried_after_retry_after_with_one_idempotency_key(
    tmp_path: Path, fake: Receiver
) -> None:
    unavailable = {"code": "database_unavailable", "detail": "retry"}
    fake.responses = [
        answer(503, unavailable, {"Retry-After": "1"}),
        answer(429, {"code": "rate_limited", "detail": "slow down"}, {"Retry-After": "0"}),
        answer(201, APP),
    ]
    created = await fake_cli(tmp_path, fake).ajson("app", "create", "x")

    assert created == APP
    assert [r.method for r in fake.requests] == ["POST"] * 3
    keys = {r.headers.get("Idempotency-Key") for r in fake.requests}
    assert len(keys) == 1, keys  # the retries are the same request
    (key,) = keys
    assert key is not None and uuid.UUID(key).version == 4
    assert {r.headers["Authorization"] for r in fake.requests} == {f"Bearer {TOKEN}"}
    assert json.loads(fake.requests[0].body) == {"name": "x"}


async def test_every_post_has_its_own_idempotency_key_and_no_get_has_one(
    tmp_path: Path, fake: Receiver
) -> None:
    fake.responses = [answer(201, APP), answer(201, APP), answer(200, APP)]
    cli = fake_cli(tmp_path, fake)
    await cli.ajson("app", "create", "x")
    await cli.ajson("app", "create", "x")
    await cli.ajson("app", "get", "app_1")

    posts, get = fake.requests[:2], fake.requests[2]
    assert len({r.headers["Idempotency-Key"] for r in posts}) == 2
    assert get.method == "GET" and "Idempotency-Key" not in get.headers


async def test_a_retry_after_past_the_cap_fails_at_once(tmp_path: Path, fake: Receiver) -> None:
    fake.default = always(
        503, {"code": "storage_unavailable", "detail": "disk full"}, {"Retry-After": "3600"}
    )
    done = await fake_cli(tmp_path, fake).arun("app", "list")

    assert done.returncode == 5
    assert "503 storage_unavailable: disk full" in done.stderr
    assert len(fake.requests) == 1


async def test_retries_end(tmp_path: Path, fake: Receiver) -> None:
    fake.default = always(
        429, {"code": "rate_limited", "detail": "slow down"}, {"Retry-After": "0"}
    )
    done = await fake_cli(tmp_path, fake).arun("app", "list")

    assert done.returncode == 5
    assert len(fake.requests) == 4  # the request and three retries


@pytest.mark.parametrize("hookd", ["sqlite"], indirect=True)
async def test_exit_codes_tell_outcomes_apart(tmp_path: Path, hookd: HookdServer) -> None:
    cli = Cli(tmp_path / "cli", server=hookd.url)
    missing = await cli.arun("app", "get", "app-that-is-not")
    assert missing.returncode == 3, missing.stderr
    assert "hookd: 404 not_found" in missing.stderr and missing.stdout == ""

    invalid = await cli.arun("endpoint", "create", "app-that-is-not", "--url", "x", "--data", "[]")
    assert invalid.returncode == 2 and "--data must be a JSON object" in invalid.stderr
    app = f"app-{uuid.uuid4().hex[:8]}"
    assert (await cli.arun("app", "create", "A", "--uid", app)).returncode == 0
    refused = await cli.arun("endpoint", "create", app, "--url", "not a url")
    assert refused.returncode == 2 and "422" in refused.stderr
    usage = await cli.arun("app", "get")
    assert usage.returncode == 2
    bad_time = await cli.arun("msg", "list", app, "--after", "yesterday")
    assert bad_time.returncode == 2 and "--after" in bad_time.stderr

    wrong = await cli.arun("app", "list", "--token", "hk_wrong")
    assert wrong.returncode == 4 and "401" in wrong.stderr
    anonymous = await Cli(tmp_path / "anonymous", server=hookd.url, token=None).arun("app", "list")
    assert anonymous.returncode == 4 and "no token" in anonymous.stderr

    down = await cli.arun("app", "list", "--server", f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 5 and "cannot reach" in down.stderr


async def test_a_server_error_exits_5(tmp_path: Path, fake: Receiver) -> None:
    fake.default = always(500, {"code": "internal_error", "detail": "boom"})
    done = await fake_cli(tmp_path, fake).arun("app", "list")
    assert done.returncode == 5 and "500 internal_error: boom" in done.stderr


@pytest.mark.parametrize("command", [("bin", "list"), ("bin", "tail", "bin_1"), ("demo",)])
async def test_bin_and_demo_exit_5_on_a_server_error(
    tmp_path: Path, fake: Receiver, command: tuple[str, ...]
) -> None:
    fake.default = always(500, {"code": "internal_error", "detail": "boom"})
    done = await fake_cli(tmp_path, fake).arun(*command)
    assert done.returncode == 5, done.stderr
    assert "500 internal_error: boom" in done.stderr


async def test_bin_create_is_retried_with_one_idempotency_key(
    tmp_path: Path, fake: Receiver
) -> None:
    made = {"id": "src_1", "name": "b", "url": "http://127.0.0.1:1/in/x"}
    fake.responses = [
        answer(503, {"code": "database_unavailable", "detail": "retry"}, {"Retry-After": "0"}),
        answer(201, made),
    ]
    created = await fake_cli(tmp_path, fake).ajson("bin", "create", "--name", "b")
    assert created == made
    assert [r.method for r in fake.requests] == ["POST", "POST"]
    assert len({r.headers["Idempotency-Key"] for r in fake.requests}) == 1


async def test_flags_win_over_the_environment_and_a_profile_token_stays_with_its_server(
    tmp_path: Path, fake: Receiver
) -> None:
    cli = Cli(tmp_path / "cli", server=None, token=None)
    profile = cli.config_home / "hookd"
    profile.mkdir(parents=True)
    (profile / "config.toml").write_text(
        f'[profiles.default]\nserver = "http://127.0.0.1:{fake.port}"\ntoken = "hk_profile"\n'
    )
    (profile / "config.toml").chmod(0o600)
    fake.default = always(200, {"data": [], "iterator": None, "prevIterator": None, "done": True})

    await cli.ajson("app", "list")
    await cli.ajson("app", "list", env={"HOOKD_TOKEN": "hk_env"})
    await cli.ajson("app", "list", "--token", "hk_flag", env={"HOOKD_TOKEN": "hk_env"})
    await cli.ajson("--token", "hk_root", "app", "list")
    tokens = [r.headers.get("Authorization") for r in fake.requests]
    assert tokens == ["Bearer hk_profile", "Bearer hk_env", "Bearer hk_flag", "Bearer hk_root"]

    # Another server named on the command line never gets the profile's token.
    other = Receiver()
    await other.start()
    try:
        other.default = always(401, {"code": "authentication_failed", "detail": "no token"})
        done = await cli.arun("app", "list", "--server", f"http://127.0.0.1:{other.port}")
    finally:
        await other.stop()
    assert done.returncode == 4 and "no token" in done.stderr
    assert other.requests == []


def test_a_profile_file_others_may_read_is_warned_of(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "cli", server=None, token=None)
    (cli.config_home / "hookd").mkdir(parents=True)
    path = cli.config_home / "hookd" / "config.toml"
    path.write_text('[profiles.default]\nserver = "http://127.0.0.1:1"\ntoken = "hk_x"\n')
    path.chmod(0o644)
    done = cli.run("app", "list")
    assert done.returncode == 5
    assert "open to other users (mode 0644)" in done.stderr


async def test_call_prints_a_failed_call_and_exits_1(tmp_path: Path, fake: Receiver) -> None:
    failed = {"status": 0, "error": "connection refused", "fallback": False}
    fake.default = always(502, failed)
    done = await fake_cli(tmp_path, fake).arun("call", "bank", "balance", "--param", "a=1")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == failed
    (request,) = fake.requests
    assert request.path == "/api/v1/app/bank/endpoint/balance/call"
    assert json.loads(request.body) == {"params": {"a": "1"}}
    assert "Idempotency-Key" in request.headers


def test_serve_help_lists_every_setting_grouped_with_its_variable_and_default(
    tmp_path: Path,
) -> None:
    done = Cli(tmp_path).run("serve", "--help")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description"
        assert serve_options.group_of(name) != OTHER_SETTINGS, f"{name} has no group"
        option = serve_options.option_name(name)
        assert re.search(rf"{re.escape(option)}\b", text), option
        assert f"env var: {serve_options.env_var(name)}" in text, name
    for group in SETTING_GROUPS:
        assert f" {group} " in text, group
    assert "[default: 8071]" in text and "[default: 5,300,1800" in text
    assert "--log-sql" in text and "<bool>" not in text
    # Plain flags print without a value placeholder anywhere.
    assert "<bool>" not in Cli(tmp_path).run("--help").stdout
    assert "<bool>" not in Cli(tmp_path).run("prune", "--help").stdout


def test_serve_takes_a_setting_from_a_flag_over_its_variable(tmp_path: Path) -> None:
    done = Cli(tmp_path).run(
        "serve", "--port", "not-a-port", env={"HOOKD_PORT": "8071"}
    )  # a flag is validated as the setting it sets
    assert done.returncode == 2
    assert "port" in done.stderr


def test_version(tmp_path: Path) -> None:
    done = Cli(tmp_path).run("--version")
    assert (done.returncode, done.stdout.strip()) == (0, __version__)


def test_shell_completion_completes_commands_and_verbs(tmp_path: Path) -> None:
    env = {"_HOOKD_COMPLETE": "complete_bash", "COMP_WORDS": "hookd endpoint re", "COMP_CWORD": "2"}
    done = Cli(tmp_path).run(env=env)
    assert done.returncode == 0, done.stderr
    assert "recover" in done.stdout.split()


def test_the_completion_script_is_installed_and_completes_in_bash(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cli = Cli(tmp_path / "cli")
    installed = cli.run("--install-completion", "bash", env={"HOME": str(home)})
    assert installed.returncode == 0, installed.stderr
    script = home / ".bash_completions" / "hookd.sh"
    assert f"source '{script}'" in (home / ".bashrc").read_text()
    shown = cli.run("--show-completion", "bash")
    assert shown.returncode == 0 and shown.stdout.strip() == script.read_text().strip()

    # bash itself completes through the script, calling `hookd` from the PATH as a shell would.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "hookd"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m hookd "$@"\n')
    shim.chmod(0o755)
    env = cli.environment({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    words = "COMP_WORDS=(hookd endpoint re); COMP_CWORD=2"
    done = subprocess.run(
        [
            "bash",
            "-c",
            f'source {script}; {words}; _hookd_completion hookd; echo "${{COMPREPLY[@]}}"',
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "recover" in done.stdout.split(), done.stdout
