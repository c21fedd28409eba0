"""The API's commands in the tests: the real `hookd` entry point (tests/launcher.py) against a
server, with a configuration directory of the test's own and nothing of the caller's HOOKD_*."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.launcher import run_hookd
from tests.support import TOKEN


@dataclass
class Cli:
    """`hookd ...` with HOOKD_URL and HOOKD_TOKEN set for ``server`` (None: unset)."""

    home: Path
    server: str | None = None
    token: str | None = TOKEN
    env: dict[str, str] = field(default_factory=dict)
    # In the test process (typer's CliRunner) instead of a new one: the same command code, and
    # CI's coverage, which measures the test process only, counts it. The entry point itself is
    # tested as a process elsewhere (test_cli_behaviour, test_bin_commands).
    in_process: bool = False

    @property
    def config_home(self) -> Path:
        return self.home / "config"

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKD_")}
        env["XDG_CONFIG_HOME"] = str(self.config_home)
        env["COLUMNS"] = "200"
        if self.server is not None:
            env["HOOKD_URL"] = self.server
        if self.token is not None:
            env["HOOKD_TOKEN"] = self.token
        env.update(self.env)
        env.update(extra or {})
        return env

    def run(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.in_process:
            return self._run_here(list(args), self.environment(env))
        return run_hookd(list(args), env=self.environment(env), cwd=self.home)

    @staticmethod
    def _run_here(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        from typer.testing import CliRunner

        from hookd.cli import cli

        # The runner sets these for the command's duration; HOOKD_* the test process has and
        # the command must not see are unset (None).
        given: dict[str, str | None] = {k: None for k in os.environ if k.startswith("HOOKD_")}
        given.update(env)
        result = CliRunner().invoke(cli, args, env=given, prog_name="hookd")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(
            ["hookd", *args], result.exit_code, result.stdout, result.stderr
        )

    def json(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        """Run with ``-o json``; it must succeed; its stdout parsed."""
        done = self.run(*args, "-o", "json", env=env)
        assert done.returncode == 0, f"hookd {' '.join(args)}: {done.returncode}\n{done.stderr}"
        return json.loads(done.stdout)

    async def arun(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``run`` in a thread: for a command that reaches a server of this event loop."""
        return await asyncio.to_thread(self.run, *args, env=env)

    async def ajson(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        return await asyncio.to_thread(self.json, *args, env=env)
