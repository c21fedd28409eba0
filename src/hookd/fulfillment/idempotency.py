"""Answer a repeated platform call with the stored reply instead of running the handler again.

Platforms retry on timeouts and network errors, and a handler may have side effects (a
transfer, an order), so a call seen within the window gets the bytes it got the first time.
The memory is per process, bounded (least recently used entries go first) and forgets
after ``window``.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "ReplyMemo", "StoredAnswer", "utc_now"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An HTTP answer exactly as it was sent."""

    status: int
    body: bytes


class ReplyMemo:
    """Remembered answers by idempotency key, plus the calls still running."""

    def __init__(
        self,
        *,
        window: timedelta = timedelta(minutes=10),
        max_entries: int = 10_000,
        clock: Clock = utc_now,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.window = window
        self.max_entries = max_entries
        self._clock = clock
        self._answers: OrderedDict[str, tuple[datetime, StoredAnswer]] = OrderedDict()
        self._running: dict[str, asyncio.Future[StoredAnswer]] = {}

    def __len__(self) -> int:
        return len(self._answers)

    def recall(self, key: str) -> StoredAnswer | None:
        """The answer stored for ``key`` within the window, if any."""
        entry = self._answers.get(key)
        if entry is None:
            return None
        stored_at, answer = entry
        if self._clock() - stored_at >= self.window:
            del self._answers[key]
            return None
        self._answers.move_to_end(key)
        return answer

    def remember(self, key: str, answer: StoredAnswer) -> None:
        """Store ``answer`` for ``key``, evicting the least recently used beyond the bound."""
        self._answers[key] = (self._clock(), answer)
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_entries:
            self._answers.popitem(last=False)

    async def once(
        self, key: str, produce: Callable[[], Awaitable[tuple[StoredAnswer, bool]]]
    ) -> StoredAnswer:
        """Run ``produce`` unless ``key`` was answered or is being answered right now.

        ``produce`` returns the answer and whether it may be reused; error and deadline
        answers are not, so a retry gets a fresh chance. A duplicate that arrives while the
        first call still runs waits for it rather than running the handler a second time.
        """
        stored = self.recall(key)
        if stored is not None:
            return stored
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[StoredAnswer] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            answer, reusable = await produce()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            # Nobody may be waiting; reading the exception keeps asyncio from warning.
            future.exception()
            raise
        finally:
            del self._running[key]
        if reusable:
            self.remember(key, answer)
        future.set_result(answer)
        return answer
