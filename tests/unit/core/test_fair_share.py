"""The sandbox's fair scheduler (hookd.core.fair_share), step by step with no clock."""

from __future__ import annotations

import pytest

from hookd.core.fair_share import FairQueue, Turn, shares


def order(queue: FairQueue[str], slots: int) -> list[str]:
    """Run ``slots`` calls at a time; each finishes as soon as it starts: the order served."""
    served: list[str] = []
    running: list[Turn[str]] = []
    while True:
        while len(running) < slots and (turn := queue.pop()) is not None:
            running.append(turn)
            served.append(turn.item)
        if not running:
            return served
        queue.release(running.pop(0))


def test_shares_leave_one_slot_to_the_others() -> None:
    assert shares(1) == (1, 1)
    assert shares(2) == (1, 1)
    assert shares(3) == (2, 1)
    assert shares(8) == (7, 6)


def test_applications_take_turns_whatever_their_backlog() -> None:
    queue: FairQueue[str] = FairQueue(app_slots=1, endpoint_slots=1)
    for n in range(4):
        queue.push("busy", "e1", f"busy{n}")
    queue.push("quiet", "e2", "quiet0")
    queue.push("other", "e3", "other0")
    assert order(queue, slots=1) == ["busy0", "quiet0", "other0", "busy1", "busy2", "busy3"]


def test_endpoints_of_one_application_take_turns() -> None:
    queue: FairQueue[str] = FairQueue(app_slots=1, endpoint_slots=1)
    for n in range(3):
        queue.push("app", "loop", f"loop{n}")
    queue.push("app", "fine", "fine0")
    assert order(queue, slots=1) == ["loop0", "fine0", "loop1", "loop2"]


def test_runaway_application_holds_its_cap_and_leaves_a_slot_to_a_newcomer() -> None:
    # Two slots, every call of "runaway" never finishes: it holds one slot, never two.
    queue: FairQueue[str] = FairQueue(*shares(2))
    for endpoint in ("a", "b", "c", "d", "e"):
        for n in range(3):
            queue.push("runaway", endpoint, f"{endpoint}{n}")
    first = queue.pop()
    assert first is not None and first.item == "a0"
    assert queue.pop() is None  # the second slot stays free although 14 calls wait
    assert (queue.held("runaway"), queue.waiting("runaway")) == (1, 14)
    queue.push("healthy", "h", "h0")
    healthy = queue.pop()
    assert healthy is not None and healthy.item == "h0"
    queue.release(healthy)
    # When the runaway call's time limit ends it, the next runaway endpoint's call goes next.
    queue.release(first)
    assert [t.item for t in (queue.pop(), queue.pop()) if t is not None] == ["b0"]


def test_runaway_endpoint_leaves_its_application_a_slot() -> None:
    queue: FairQueue[str] = FairQueue(*shares(3))  # app 2, endpoint 1
    for n in range(5):
        queue.push("app", "loop", f"loop{n}")
    loop = queue.pop()
    assert loop is not None and queue.pop() is None
    queue.push("app", "fine", "fine0")
    fine = queue.pop()
    assert fine is not None and fine.item == "fine0"
    assert (queue.held("app"), queue.held("app", "loop"), queue.held("app", "fine")) == (2, 1, 1)
    # The application is at its cap: a third endpoint of it waits, another application not.
    queue.push("app", "third", "third0")
    queue.push("other", "x", "x0")
    other = queue.pop()
    assert other is not None and other.item == "x0"
    assert queue.pop() is None


def test_a_caller_that_gives_up_leaves_the_queue() -> None:
    queue: FairQueue[str] = FairQueue(1, 1)
    queue.push("app", "e", "one")
    queue.push("app", "e", "two")
    assert queue.remove("app", "e", "one")
    assert not queue.remove("app", "e", "one")
    assert not queue.remove("nobody", "e", "one")
    assert order(queue, slots=1) == ["two"]
    assert queue.waiting("app") == 0 and queue.held("app") == 0


def test_caps_are_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        FairQueue(0, 1)
