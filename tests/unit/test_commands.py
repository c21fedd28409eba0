"""The API commands' pure parts: times, JSON options, Retry-After, the profiles file and the
connection's precedence (commands.config)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from hookd.commands import config
from hookd.commands.client import ApiClient, CliError, ExitCode, retry_after
from hookd.commands.inputs import body, json_value, moment, pairs
from hookd.commands.output import cell, lookup

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_moment_reads_durations_back_from_now_and_iso_times() -> None:
    assert moment("2h", "--since", NOW) == "2026-03-01T10:00:00Z"
    assert moment("90s", "--since", NOW) == "2026-03-01T11:58:30Z"
    assert moment("1w", "--since", NOW) == "2026-02-22T12:00:00Z"
    assert moment("30d", "--expires", NOW, ahead=True) == "2026-03-31T12:00:00Z"
    assert moment("2026-01-02T03:04:05", "--since", NOW) == "2026-01-02T03:04:05Z"
    assert moment("2026-01-02T03:04:05+01:00", "--since", NOW) == "2026-01-02T02:04:05Z"
    assert moment(None, "--since") is None
    with pytest.raises(CliError, match="--since must be a duration"):
        moment("yesterday", "--since", NOW)


def test_json_options(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text('{"a": 1}')
    assert json_value(f"@{path}", "--data") == {"a": 1}
    assert json_value("[1]", "--data") == [1]
    with pytest.raises(CliError, match="--data is not valid JSON"):
        json_value("{", "--data")
    with pytest.raises(CliError, match="cannot read"):
        json_value(f"@{tmp_path / 'missing'}", "--data")
    assert body('{"a": 1, "b": 2}', {"b": 3, "c": None}) == {"a": 1, "b": 3}
    assert pairs(["k=v", "x=a=b"], "--metadata") == {"k": "v", "x": "a=b"}
    with pytest.raises(CliError):
        pairs(["novalue"], "--metadata")


def test_retry_after_in_seconds_or_a_date() -> None:
    def response(value: str) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": value})

    assert retry_after(response("7")) == 7.0
    assert retry_after(response("Sun, 01 Mar 2026 12:00:30 GMT"), NOW) == 30.0
    assert retry_after(response("Sun, 01 Mar 2026 11:00:00 GMT"), NOW) == 0.0
    assert retry_after(response("soon")) is None
    assert retry_after(httpx.Response(503)) is None


def test_the_client_retries_with_the_same_key_and_maps_errors() -> None:
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(503, headers={"Retry-After": "2"}, json={"code": "x", "detail": "y"}),
        httpx.Response(404, json={"code": "not_found", "detail": "no such app"}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    waited: list[float] = []
    client = ApiClient(
        "http://hookd.test", "hk_t", transport=httpx.MockTransport(handler), sleep=waited.append
    )
    with pytest.raises(CliError) as raised:
        client.post("/api/v1/app", {"name": "a"})
    assert raised.value.exit_code is ExitCode.NOT_FOUND
    assert str(raised.value) == "404 not_found: no such app"
    assert waited == [2.0]
    assert seen[0].headers["Idempotency-Key"] == seen[1].headers["Idempotency-Key"]
    with pytest.raises(CliError, match="http:// or https://"):
        ApiClient("ftp://x", None)
    with pytest.raises(CliError, match="is not valid"):
        ApiClient("http://[::1", None)


def test_the_client_follows_server_sent_events() -> None:
    stream = b': following bin_1\n\nevent: request\ndata: {"a":\ndata: 1}\n\ndata: x\n\n'
    answers = [
        httpx.Response(429, headers={"Retry-After": "0"}, json={"code": "r", "detail": "slow"}),
        httpx.Response(200, content=stream, headers={"Content-Type": "text/event-stream"}),
        httpx.Response(404, json={"code": "not_found", "detail": "no such bin"}),
    ]
    client = ApiClient(
        "http://hookd.test",
        "hk_t",
        transport=httpx.MockTransport(lambda _: answers.pop(0)),
        sleep=lambda _: None,
    )
    assert list(client.events("/api/v1/bin/bin_1/stream")) == [
        ("", "following bin_1"),
        ("request", '{"a":\n1}'),
        ("message", "x"),
    ]
    with pytest.raises(CliError) as raised:
        list(client.events("/api/v1/bin/nope/stream"))
    assert raised.value.exit_code is ExitCode.NOT_FOUND


def test_cells_and_lookups() -> None:
    assert cell(None) == "" and cell(True) == "true" and cell(["a", "b"]) == "a, b"
    assert cell({"a": 1}) == '{"a":1}'
    assert lookup({"a": {"b": 2}}, "a.b") == 2 and lookup({"a": 1}, "a.b") is None


def test_profiles_file_and_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    for name in ("HOOKD_URL", "HOOKD_TOKEN", "HOOKD_PROFILE", "HOOKD_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOOKD_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'hookd.db'}")

    assert config.resolve() == config.Connection("http://127.0.0.1:8071", None)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "admin_token").write_text("hk_local\n")
    assert config.resolve().token == "hk_local"  # the local server's own token
    assert config.resolve(server="https://remote.example").token is None  # never sent away

    path = config.save_profile("default", config.Profile("https://a.example", 'hk_"a"'))
    config.save_profile("b", config.Profile("https://b.example", "hk_b"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert config.load_profiles() == {
        "default": config.Profile("https://a.example", 'hk_"a"'),
        "b": config.Profile("https://b.example", "hk_b"),
    }
    assert config.resolve() == config.Connection("https://a.example", 'hk_"a"')
    assert config.resolve(profile="b") == config.Connection("https://b.example", "hk_b")
    assert config.resolve(token="hk_flag").token == "hk_flag"
    environ = {"HOOKD_URL": "https://env.example", "HOOKD_ADMIN_TOKEN": "hk_admin"}
    assert config.resolve(environ=environ) == config.Connection("https://env.example", "hk_admin")
    environ = {"HOOKD_URL": "https://a.example/", "HOOKD_TOKEN": "hk_env"}
    assert config.resolve(environ=environ).token == "hk_env"
    assert config.resolve(environ={"HOOKD_URL": "https://a.example/"}).token == 'hk_"a"'
    with pytest.raises(CliError, match="no profile 'c'"):
        config.resolve(profile="c")


def test_help_imports_no_server_module() -> None:
    """`hookd --help` (and every API command's start) stays light: the settings, the store,
    uvicorn, structlog and httpx are imported by the commands that use them."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "sys.argv = ['hookd', '--help']\n"
        "from hookd.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('hookd.config', 'hookd.store', 'hookd.api', 'hookd.engine', 'uvicorn',\n"
        "         'sqlalchemy', 'structlog', 'httpx', 'pydantic', 'yaml')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert "serve" in done.stdout and "endpoint" in done.stdout


def test_serve_flags_are_exported_for_the_processes_serve_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hookd.commands.serve_options import export
    from hookd.config import Settings

    given = {"retry_schedule": "1,2.5", "log_sql": True, "metrics": False, "port": "9123"}
    environ: dict[str, str] = {}
    export(given, environ)
    assert environ == {
        "HOOKD_RETRY_SCHEDULE": "1,2.5",
        "HOOKD_LOG_SQL": "true",
        "HOOKD_METRICS": "false",
        "HOOKD_PORT": "9123",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert Settings() == Settings(**given)  # type: ignore[arg-type]
