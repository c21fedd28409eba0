"""A notice the alert evaluator cannot send is logged (its event under ``notice``: ``event`` is
structlog's own) and does not stop the evaluation. The channels themselves, reached through the
evaluator of a real server: tests/integration/test_alerts_end_to_end.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hookd.config import Settings
from hookd.engine.alerts.evaluator import AlertEvaluator
from hookd.services.alerts import rules
from hookd.services.alerts.notice import AlertNotice
from hookd.services.applications import create_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import create_endpoint
from tests.unit.engine.fakes import sqlite_database


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    """A database with a disabled endpoint and an ``endpoint_disabled`` rule: it fires."""
    async with sqlite_database(tmp_path / "alerts.db") as db:
        context = Context(db=db, settings=Settings())
        app, _ = await create_app(context, {"name": "alerts"})
        await create_endpoint(
            context, app.id, {"url": "https://example.com/hook", "disabled": True}
        )
        await rules.create_rule(context, {"name": "off", "kind": "endpoint_disabled"})
        yield context


async def test_a_failing_notice_is_logged_and_the_evaluation_goes_on(ctx: Context) -> None:
    async def broken(ctx: Context, notice: AlertNotice, channels: Sequence[str]) -> None:
        raise RuntimeError("the channel blew up")

    evaluator = AlertEvaluator(ctx, notify=broken, interval=1)
    with capture_logs() as logs:
        result = await evaluator.run_once()
    assert result is not None and [n.event for n, _ in result.notices] == ["opened"]
    [failed] = [entry for entry in logs if entry["event"] == "alert notice failed"]
    assert failed["log_level"] == "warning"
    assert failed["notice"] == "opened" and failed["error"] == "RuntimeError"
    assert failed["issue"] == result.notices[0][0].issue_id
    assert evaluator.evaluations == 1
