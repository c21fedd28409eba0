"""The runtime builds the running system in one place: an immutable Context with its parts, a
ledger open only while the worker runs, a wake-up routed once everything started, and one
sandbox closed once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from hookd.config import Settings
from hookd.engine.runtime import Runtime
from hookd.services.context import Context
from hookd.store.db import Database
from tests.unit.engine.fakes import sqlite_database
from tests.unit.engine.test_handoff import item


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path / "runtime.db") as db:
        yield db


def test_the_context_cannot_be_rewired(database: Database) -> None:
    ctx = Runtime(Settings(), database).ctx
    with pytest.raises(FrozenInstanceError):
        ctx.wake_worker = lambda: None  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        ctx.handoff = None  # type: ignore[misc]


def test_the_services_get_the_runtimes_parts(database: Database) -> None:
    runtime = Runtime(Settings(role="all"), database)
    ctx = runtime.ctx
    assert ctx.handoff is runtime.handoff
    assert ctx.sandbox is runtime.sandbox
    assert ctx.telemetry is runtime.telemetry
    assert ctx.wake_worker == runtime.wake
    # Another process takes the creates: nothing is handed to this one's worker.
    assert Runtime(Settings(role="worker"), database).ctx.handoff is None


async def test_hand_offs_only_while_the_worker_runs_and_one_sandbox_close(
    database: Database,
) -> None:
    runtime = Runtime(Settings(role="all", database_url=database.url), database)
    closes: list[None] = []
    close = runtime.sandbox.close

    async def counted_close() -> None:
        closes.append(None)
        await close()

    runtime.sandbox.close = counted_close  # type: ignore[method-assign]
    ledger = runtime.handoff
    runtime.wake()  # before it runs: goes nowhere, and does not fail
    assert not ledger.offer(item("a"))
    async with runtime.running(deliver=True) as worker:
        assert worker is not None and worker.handoff is ledger
        assert ledger.offer(item("a"))
        ledger.after_transaction(committed=False)
        runtime.wake()
    assert not ledger.offer(item("a"))
    assert closes == [None]


async def test_an_api_only_runtime_runs_no_worker(database: Database) -> None:
    runtime = Runtime(Settings(role="api", database_url=database.url), database)
    ctx: Context = runtime.ctx
    async with runtime.running(deliver=False) as worker:
        assert worker is None
        ctx.wake_worker()  # SQLite: no other process to wake
        assert not runtime.handoff.offer(item("a"))  # and no hand-offs
