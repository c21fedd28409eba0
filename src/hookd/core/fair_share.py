"""Who gets the next free slot of a shared pool (the transformation sandbox's worker processes).

Waiting calls queue per application and, inside it, per endpoint. A free slot goes to the
applications in turn (round robin over those with a waiting call) and, inside the chosen
application, to its endpoints in turn. On top of the turns, caps: one application holds at most
``app_slots`` slots at once and one endpoint at most ``endpoint_slots``, so code that runs until
its time limit kills it (an infinite loop) only ever occupies its own share, and a slot stays
free for everyone else. ``shares`` derives the caps from the pool size.

Pure bookkeeping: no I/O, no clock. The caller pops when a slot is free and releases when the
call is over.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


def shares(slots: int) -> tuple[int, int]:
    """The (per application, per endpoint) caps for a pool of ``slots``.

    Each level leaves one slot to the others: an application may hold all but one slot of the
    pool, an endpoint all but one of its application's share (never less than one). With the
    default two sandbox workers that is one each.
    """
    app = max(1, slots - 1)
    return app, max(1, app - 1)


@dataclass(frozen=True, slots=True)
class Turn(Generic[T]):
    """A waiting call that got a slot; ``FairQueue.release(turn)`` when it is over."""

    app: str
    endpoint: str
    item: T


class FairQueue(Generic[T]):
    """Per-application and per-endpoint queues served round robin, with per-level caps."""

    def __init__(self, app_slots: int, endpoint_slots: int) -> None:
        if app_slots < 1 or endpoint_slots < 1:
            raise ValueError("every application and endpoint needs at least one slot")
        self.app_slots = app_slots
        self.endpoint_slots = endpoint_slots
        # Insertion order is the turn order: a served application or endpoint moves to the end.
        self._waiting: dict[str, dict[str, deque[T]]] = {}
        self._held_apps: dict[str, int] = {}
        self._held_endpoints: dict[tuple[str, str], int] = {}

    def push(self, app: str, endpoint: str, item: T) -> None:
        """Queue ``item`` behind the earlier calls of the same endpoint."""
        self._waiting.setdefault(app, {}).setdefault(endpoint, deque()).append(item)

    def pop(self) -> Turn[T] | None:
        """The next call to run in a free slot (now counted as held), or None.

        None when nothing waits, or when every waiting call belongs to an application or
        endpoint that already holds its cap: the slot then stays free for the next newcomer.
        """
        for app, endpoints in self._waiting.items():
            if self._held_apps.get(app, 0) >= self.app_slots:
                continue
            for endpoint, queue in endpoints.items():
                if self._held_endpoints.get((app, endpoint), 0) >= self.endpoint_slots:
                    continue
                item = queue.popleft()
                # Served: this endpoint and this application go to the back of their turns.
                del endpoints[endpoint]
                if queue:
                    endpoints[endpoint] = queue
                del self._waiting[app]
                if endpoints:
                    self._waiting[app] = endpoints
                self._held_apps[app] = self._held_apps.get(app, 0) + 1
                key = (app, endpoint)
                self._held_endpoints[key] = self._held_endpoints.get(key, 0) + 1
                return Turn(app, endpoint, item)
        return None

    def release(self, turn: Turn[T]) -> None:
        """The call of ``turn`` is over: its slot counts for its application no more."""
        _decrement(self._held_apps, turn.app)
        _decrement(self._held_endpoints, (turn.app, turn.endpoint))

    def remove(self, app: str, endpoint: str, item: T) -> bool:
        """Take a waiting ``item`` out of its queue (its caller gave up); False if not waiting."""
        endpoints = self._waiting.get(app)
        queue = endpoints.get(endpoint) if endpoints is not None else None
        if endpoints is None or queue is None or item not in queue:
            return False
        queue.remove(item)
        if not queue:
            del endpoints[endpoint]
            if not endpoints:
                del self._waiting[app]
        return True

    def held(self, app: str, endpoint: str | None = None) -> int:
        """Slots ``app`` (or one of its endpoints) holds now."""
        if endpoint is None:
            return self._held_apps.get(app, 0)
        return self._held_endpoints.get((app, endpoint), 0)

    def waiting(self, app: str, endpoint: str | None = None) -> int:
        """Calls of ``app`` (or of one of its endpoints) waiting for a slot."""
        endpoints = self._waiting.get(app, {})
        if endpoint is not None:
            return len(endpoints.get(endpoint, ()))
        return sum(len(queue) for queue in endpoints.values())


def _decrement(counts: dict[T, int], key: T) -> None:
    left = counts.get(key, 0) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)
