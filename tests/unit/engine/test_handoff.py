"""The worker's in-flight ledger (engine.handoff): what a create transaction may hand off."""

from __future__ import annotations

from datetime import UTC, datetime

from hookd.core.domain import Claim, Endpoint, Message
from hookd.engine.handoff import HandOff
from hookd.services.handoff import HandedOff

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def item(endpoint_id: str, n: int = 0) -> HandedOff:
    claim = Claim(f"dlv_{endpoint_id}_{n}", f"msg_{n}", endpoint_id, "app_1", 0, False)
    # The ledger reads only the claim; message and endpoint ride along for the worker.
    return HandedOff(claim, Message.__new__(Message), Endpoint.__new__(Endpoint))


def ledger(started: list[list[HandedOff]], *, concurrency: int = 3, per: int = 2) -> HandOff:
    handoff = HandOff(concurrency=concurrency, per_endpoint=per, lease_seconds=30)
    handoff.open(started.append)
    return handoff


def test_closed_until_opened_and_after_close() -> None:
    handoff = HandOff(concurrency=3, per_endpoint=2, lease_seconds=30)
    assert not handoff.offer(item("a"))  # the worker does not run yet
    started: list[list[HandedOff]] = []
    handoff.open(started.append)
    assert handoff.offer(item("a"))
    handoff.close()
    assert not handoff.offer(item("a", 1))
    assert handoff.in_flight == 1


def test_offers_stop_at_the_worker_and_endpoint_caps() -> None:
    started: list[list[HandedOff]] = []
    handoff = ledger(started, concurrency=3, per=2)
    assert [handoff.offer(item("a", n)) for n in range(3)] == [True, True, False]
    assert handoff.offer(item("b"))
    assert not handoff.offer(item("c"))  # the worker is full
    assert handoff.in_flight == 3


def test_committed_hand_offs_start_after_the_transaction() -> None:
    started: list[list[HandedOff]] = []
    handoff = ledger(started)
    first, second = item("a"), item("b")
    handoff.offer(first)
    handoff.offer(second)
    assert started == []  # nothing starts inside the transaction
    handoff.after_transaction(committed=True)
    assert started == [[first, second]]
    assert handoff.in_flight == 2  # held until the worker finishes them
    handoff.finished(["a", "b"])
    assert handoff.in_flight == 0


def test_a_failed_transaction_gives_its_slots_back() -> None:
    started: list[list[HandedOff]] = []
    handoff = ledger(started, concurrency=1)
    handoff.offer(item("a"))
    handoff.after_transaction(committed=False)
    assert started == []
    assert handoff.in_flight == 0
    assert handoff.offer(item("a", 1))  # the slot is free again


def test_claims_and_hand_offs_share_the_counts() -> None:
    started: list[list[HandedOff]] = []
    handoff = ledger(started, concurrency=3, per=2)
    handoff.started(["a", "a"])  # a claim round took two of endpoint a's deliveries
    assert not handoff.offer(item("a"))
    assert handoff.offer(item("b"))
    assert not handoff.offer(item("c"))
    handoff.finished(["a"])
    assert handoff.in_flight == 2
    assert handoff.offer(item("a", 1))


def test_a_transaction_without_hand_offs_starts_nothing() -> None:
    started: list[list[HandedOff]] = []
    handoff = ledger(started)
    handoff.after_transaction(committed=True)
    assert started == []
