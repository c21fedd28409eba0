"""Shared fixtures: one hookd server for the session, fresh receivers, the official Svix SDK."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, settings
from svix.api import ApplicationIn, SvixAsync, SvixOptions

from hookd.store import sealing
from tests import launcher
from tests.pg import PrivateCluster, create_database, drop_database, migrate_database
from tests.support import MAIN_KEY, TOKEN, HookdServer, NewServer, Received, Receiver

# Hypothesis's own timing checks (a deadline per example, "input generation is slow") measure
# the machine rather than the code, and a loaded machine (parallel workers) trips them; the
# suite asserts no timing.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

# The longest tests (each tens of seconds: PostgreSQL and Redis fault injection, schemathesis,
# the docs' examples, processes killed and replaced, the rasa-sdk oracle) run first. Parallel
# workers (`make test`, pytest-xdist's worksteal) then share the short ones that remain, instead
# of one worker starting a long test while the other has nothing left to run.
LONGEST_FIRST = (
    "tests/integration/test_faults_pg.py",
    "tests/integration/test_openapi_fuzz.py",
    "tests/integration/test_docs_examples.py",
    "tests/fulfillment/test_rasa_sdk_oracle.py",
    "tests/integration/inbound/test_door.py::test_every_2xx_is_stored_when_killed_right_after",
    "tests/integration/test_bin_commands.py",
    "tests/integration/test_delivery_processes.py",
    "tests/integration/test_alerts.py::test_one_evaluator_at_a_time_across_processes",
    "tests/integration/test_queue_redis.py",
    "tests/integration/test_response_schemas.py",
    "tests/integration/test_hostile_clients.py",
)


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by their fixtures' params
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))  # stable


def pytest_sessionfinish() -> None:
    """Stop the fork server that hookd commands ran in (tests/launcher.py), leaving no process."""
    launcher.shutdown()


@pytest.fixture(autouse=True)
def suite_keyring() -> None:
    """Services and stores used in the test process seal and open secrets with the main key the
    suite's servers get (tests.support.MAIN_KEY), so both read what the other wrote; a test
    that installs a keyring of its own has it until the next test."""
    sealing.install(sealing.Keyring(sealing.parse_main_keys(MAIN_KEY)))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def hookd(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HookdServer]:
    """One server per database kind: every test that uses it runs on SQLite and PostgreSQL."""
    env: dict[str, str] = {}
    if request.param == "postgresql":
        env["HOOKD_DATABASE_URL"] = create_database()
    server = HookdServer(tmp_path_factory.mktemp(f"hookd-{request.param}"), env=env)
    server.start()
    yield server
    server.stop()
    if request.param == "postgresql":
        drop_database(env["HOOKD_DATABASE_URL"])


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    """A PostgreSQL server of the test's own (migrated), to stop and start as an outage."""
    cluster = PrivateCluster()
    cluster.start()
    try:
        migrate_database(cluster.url)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def new_server(tmp_path: Path) -> Iterator[NewServer]:
    """Start extra servers with their own settings; all are stopped after the test."""
    started: list[HookdServer] = []

    def make(env: dict[str, str] | None = None, name: str = "server") -> HookdServer:
        server = HookdServer(tmp_path / name, env=env or {})
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def svix_for(server: HookdServer) -> SvixAsync:
    return SvixAsync(TOKEN, SvixOptions(server_url=server.url, retry_schedule=[]))


@pytest.fixture
def svix(hookd: HookdServer) -> SvixAsync:
    return svix_for(hookd)


@pytest.fixture
async def api(hookd: HookdServer) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client for what the SDK cannot send (bad input, odd headers)."""
    async with httpx.AsyncClient(
        base_url=hookd.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    await rec.start()
    yield rec
    await rec.stop()


@pytest.fixture
async def slow_receiver() -> AsyncIterator[Receiver]:
    """A receiver that takes a few milliseconds per request, so attempts are really in flight."""

    async def answer(_: Received) -> web.Response:
        await asyncio.sleep(0.005)
        return web.Response(status=204)

    receiver = Receiver()
    receiver.default = answer
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def app_id(svix: SvixAsync) -> str:
    app = await svix.application.create(
        ApplicationIn(name="test app", uid=f"app-{uuid.uuid4().hex[:12]}")
    )
    return app.id
