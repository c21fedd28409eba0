"""Redis for queue-index tests: key prefixes on the shared server, or a server of the test's own.

A test that restarts Redis uses :class:`PrivateRedis` (a ``redis-server`` on a free loopback
port, keeping nothing on disk, as an install without persistence would); restarting the shared
server would break every other test using it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.support import free_port, require_service

SHARED_URL = "redis://127.0.0.1:6379/0"


def unique_prefix() -> str:
    return f"hookd-test-{uuid.uuid4().hex[:10]}"


def delete_prefix(url: str, prefix: str) -> int:
    """Delete every key under ``prefix`` (what a flush does to one installation)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


def require_shared_redis() -> None:
    require_service("redis", "127.0.0.1", 6379)


class PrivateRedis:
    """A throwaway ``redis-server``; :meth:`restart` kills it and starts it again, empty."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hookd-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: the data (memory only) is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
