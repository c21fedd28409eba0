"""``hookd serve`` as a child process on a fresh SQLite file, plus the API calls a run needs."""

from __future__ import annotations

import asyncio
import secrets
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench.procs import free_port, python_module, spawn, stop, wait_http_ok

TOKEN = "bench-admin-token"
# One main key for every server of a run: API and worker processes on one database share it.
MAIN_KEY = secrets.token_urlsafe(32)
ATTEMPTS_BY_STATUS = "SELECT status, count(*) FROM attempts GROUP BY status"
DELIVERIES_BY_STATUS = "SELECT status, count(*) FROM deliveries GROUP BY status"


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """What hookd recorded, read from its SQLite file after it stopped."""

    attempts_by_status: dict[int, int]
    deliveries_by_status: dict[int, int]

    @property
    def successful_attempts(self) -> int:
        return self.attempts_by_status.get(0, 0)


class HookdServer:
    """One ``hookd serve`` process; ``env`` adds or overrides ``HOOKD_*`` settings."""

    def __init__(
        self,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        database_url: str | None = None,
        module: str = "hookd.cli",
    ) -> None:
        self.workdir = workdir
        self.module = module  # what runs `serve` (bench.plain_secrets: the secrets baseline)
        self.db_path = workdir / "hookd.db"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._env = {
            "HOOKD_DATABASE_URL": self.database_url,
            "HOOKD_ADMIN_TOKEN": TOKEN,
            "HOOKD_MAIN_KEY": MAIN_KEY,
            "HOOKD_ALLOW_NETWORKS": "127.0.0.0/8",
            **(env or {}),
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self.launched_at = 0.0

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def launch(self) -> None:
        """Start the process without waiting for it (``wait_ready`` does)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.launched_at = time.time()
        self._proc = spawn(
            python_module(self.module, "serve", "--port", str(self.port)),
            log=self.workdir / "hookd.log",
            env=self._env,
        )

    def wait_ready(self, *, timeout: float = 60.0) -> float:
        """Wait for the health check to pass; return the seconds since ``launch``."""
        wait_http_ok(f"{self.base_url}/api/v1/health", timeout=timeout, proc=self._proc)
        return time.time() - self.launched_at

    def start(self, *, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_ready(timeout=timeout)

    def restart(self, env: dict[str, str]) -> None:
        """Stop, change or add these ``HOOKD_*`` settings, start again (same port, same file)."""
        self.stop()
        self._env.update(env)
        self.start()

    def stop(self) -> None:
        if self._proc is not None:
            # SIGINT is uvicorn's graceful stop: the worker flushes finished attempts.
            stop(self._proc, sig=signal.SIGINT, grace=30)
            self._proc = None

    def call_api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One management API call with the admin token; the decoded JSON answer."""
        return self._call(method, path, body)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else orjson.dumps(body),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return orjson.loads(response.read() or b"null")

    def create_app(self, uid: str) -> str:
        return str(self._call("POST", "/api/v1/app", {"name": uid, "uid": uid})["id"])

    def create_endpoint(self, app_id: str, url: str, **fields: Any) -> str:
        """An endpoint; ``fields`` adds API fields (``transformation``, ...)."""
        body = {"url": url, **fields}
        return str(self._call("POST", f"/api/v1/app/{app_id}/endpoint", body)["id"])

    def create_source(self, uid: str, source_type: str, config: dict[str, Any]) -> str:
        """An ingest source; returns its ingest URL."""
        body = {"name": uid, "uid": uid, "type": source_type, "config": config}
        return str(self._call("POST", "/ingest/api/v1/source", body)["ingestUrl"])

    def count_attempts_via_api(self, app_id: str, endpoint_id: str) -> int:
        """Page through an endpoint's attempts (slow for big runs: used as a spot check)."""
        total, iterator = 0, None
        while True:
            query = "?limit=250" + (f"&iterator={iterator}" if iterator else "")
            page = self._call("GET", f"/api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}{query}")
            total += len(page["data"])
            if page.get("done", True):
                return total
            iterator = page["iterator"]

    def count_rows(self, table: str, where: str = "1 = 1") -> int:
        """Rows of ``table`` in the SQLite file (call after ``stop``); trusted arguments only."""
        with sqlite3.connect(self.db_path) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])

    def stored_outcome(self) -> StoredOutcome:
        """Count attempts and deliveries in the database (call after ``stop``)."""
        if self.database_url.startswith("postgresql"):
            return asyncio.run(_postgres_outcome(self.database_url))
        with sqlite3.connect(self.db_path) as conn:
            attempts = Counter(dict(conn.execute(ATTEMPTS_BY_STATUS)))
            deliveries = Counter(dict(conn.execute(DELIVERIES_BY_STATUS)))
        return StoredOutcome(dict(attempts), dict(deliveries))

    def __enter__(self) -> HookdServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


async def _postgres_outcome(url: str) -> StoredOutcome:
    conn = await asyncpg.connect(url)
    try:
        attempts = dict(list(row) for row in await conn.fetch(ATTEMPTS_BY_STATUS))
        deliveries = dict(list(row) for row in await conn.fetch(DELIVERIES_BY_STATUS))
    finally:
        await conn.close()
    return StoredOutcome(attempts, deliveries)
