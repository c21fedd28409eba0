"""Test support: a real `hookd serve` process, real receivers, service availability checks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from aiohttp import web

from tests.launcher import HookdProcess, start_hookd

REPO = Path(__file__).resolve().parent.parent
TOKEN = "hk_test_token"
# Every server of the suite shares one main key (as API and worker processes must); a test sets
# HOOKD_MAIN_KEY="" for none (a key generated into the data directory).
MAIN_KEY = "aG9va2QgdGVzdCBzdWl0ZSBtYWluIGtleSAzMiBieXQ"


class NewServer(Protocol):
    """The ``new_server`` fixture: a server with its own settings and data directory (not started
    yet), stopped after the test."""

    def __call__(self, env: dict[str, str] | None = None, name: str = "server") -> HookdServer: ...


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a service is unreachable, or fail when HOOKD_REQUIRE_SERVICES=1."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError as exc:
        message = f"{name} is not reachable on {host}:{port}: {exc}"
    if os.environ.get("HOOKD_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class HookdServer:
    """A `hookd serve` process on a loopback port with its own data directory.

    It runs in a fork of the tests' fork server (tests/launcher.py: the same process as `python -m
    hookd serve`, without ~3 s of imports per start); ``fresh_interpreter`` (or
    HOOKD_TEST_SUBPROCESS=1) starts a real `python -m hookd serve` subprocess instead.
    """

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    fresh_interpreter: bool = False
    process: HookdProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def log_lines(self) -> list[dict[str, Any]]:
        """The server's JSON log lines, parsed (other lines, a traceback's, are left out)."""
        return parsed_log_lines(self.log_path.read_text())

    def start(self, timeout: float = 20.0, *, wait_healthy: bool = True) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "HOOKD_DATABASE_URL": f"sqlite:///{self.data_dir / 'hookd.db'}",
            "HOOKD_ADMIN_TOKEN": TOKEN,
            "HOOKD_MAIN_KEY": MAIN_KEY,
            "HOOKD_ALLOW_NETWORKS": "127.0.0.0/8,::1/128",
            "HOOKD_RETRY_SCHEDULE": "1,1,1",
            "HOOKD_REQUEST_TIMEOUT": "5",
            "HOOKD_POLL_INTERVAL": "0.2",
            # Tests that retry on purpose would otherwise trip the circuit breaker.
            "HOOKD_BREAKER_FAILURES": "1000",
            **self.env,
        }
        self.process = start_hookd(
            ["serve", "--port", str(self.port)],
            env=env,
            cwd=self.data_dir,
            stdout=self.log_path,
            fresh_interpreter=self.fresh_interpreter,
        )
        if not wait_healthy:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hookd exited: {self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"hookd did not start: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: a crash, nothing gets to clean up."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def terminate(self, timeout: float = 15.0) -> float:
        """SIGTERM and wait; returns how long the shutdown took."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.terminate()
            if self.process.poll() is None:
                self.kill()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


Responder = Callable[[Received], Any]


class Receiver:
    """A real aiohttp webhook receiver on a loopback port that records every request.

    ``responses`` is consumed one per request (an int status, or a ``web.Response``, or an
    async callable); when empty, ``default`` answers.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Received] = []
        self.responses: list[Any] = []
        self.default: Any = 204
        self._runner: web.AppRunner | None = None
        self._event = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received = Received(
            request.method, request.path, dict(request.headers), await request.read(), time.time()
        )
        self.requests.append(received)
        self._event.set()
        answer = self.responses.pop(0) if self.responses else self.default
        if callable(answer):
            answer = await answer(received)
        if isinstance(answer, int):
            return web.Response(status=answer)
        assert isinstance(answer, web.StreamResponse)
        return answer

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def drained(self, timeout: float = 15.0) -> None:
        """Wait until no connection is open: every request of a sender that is gone (killed,
        stopped) has been read and handled."""
        assert self._runner is not None and self._runner.server is not None
        server = self._runner.server

        async def closed() -> bool:
            return not server.connections

        await eventually(closed, timeout=timeout, interval=0.02)

    async def wait_for(
        self, count: int, timeout: float = 15.0, path: str | None = None
    ) -> list[Received]:
        """Wait until ``count`` requests (to ``path`` if given) have arrived."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            matching = [r for r in self.requests if path is None or r.path == path]
            if len(matching) >= count:
                return matching
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"expected {count} requests, got {len(matching)}")
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)


async def eventually(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll an async ``check`` until it returns something truthy without raising."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: BaseException | None = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            result = await check()
            if result:
                return result
        except AssertionError as exc:
            last = exc
        await asyncio.sleep(interval)
    if last:
        raise last
    raise AssertionError("condition not met in time")


def parsed_log_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a log stream, one a line (what is not one is left out)."""
    parsed = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                parsed.append(json.loads(line))
            except ValueError:
                continue
    return parsed
