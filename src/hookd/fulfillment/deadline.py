"""Run a handler within the platform's time budget, or give up on it in time to answer.

Platforms drop a webhook answer that comes late (Dialogflow after 5 s by default), so an
overrunning handler is abandoned shortly before the budget ends and the app answers with
its timeout reply. Abandoning means cancelling: an ``async`` handler gets
``CancelledError`` at its current ``await``; a sync handler runs in a worker thread, which
Python cannot interrupt, so it runs to completion in the background and its result is
discarded.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hookd.fulfillment.reply import Reply

__all__ = ["DeadlineExceeded", "DeadlineGuard", "Handler", "HandlerReturnedNoReply"]

logger = logging.getLogger("hookd.fulfillment")

Handler = Callable[[Any], Reply | Awaitable[Reply]]

# Answer this long before the budget ends, so the reply still crosses the network in time.
MAX_SAFETY_MARGIN_SECONDS = 0.5


class DeadlineExceeded(Exception):
    """The handler did not answer within the budget."""


class HandlerReturnedNoReply(TypeError):
    """A handler returned something other than a :class:`Reply`."""


def _is_async(handler: Handler) -> bool:
    # Callable objects count too: their async-ness is on the type's __call__.
    call = type(handler).__call__
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


async def call_handler(handler: Handler, request: Any) -> Reply:
    """Await an async handler, or run a sync one in a worker thread."""
    if _is_async(handler):
        result: Any = await handler(request)  # type: ignore[misc]
    else:
        result = await asyncio.to_thread(handler, request)
        if inspect.isawaitable(result):
            result = await result
    if not isinstance(result, Reply):
        raise HandlerReturnedNoReply(
            f"a handler must return a Reply, {handler!r} returned {type(result).__name__}"
        )
    return result


class DeadlineGuard:
    """Runs handlers with a time budget in seconds."""

    def __init__(self, budget_seconds: float) -> None:
        if budget_seconds <= 0:
            raise ValueError("the deadline budget must be positive")
        self.budget_seconds = budget_seconds
        self.guard_seconds = budget_seconds - min(MAX_SAFETY_MARGIN_SECONDS, budget_seconds / 10)
        self._abandoned: set[asyncio.Task[Reply]] = set()

    async def run(self, handler: Handler, request: Any) -> Reply:
        """The handler's reply; raise :class:`DeadlineExceeded` once the guard time passes."""
        task = asyncio.create_task(call_handler(handler, request))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.guard_seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task in done:
            return task.result()
        task.cancel()
        # Held until it settles: asyncio keeps only weak references to tasks.
        self._abandoned.add(task)
        task.add_done_callback(self._settled)
        raise DeadlineExceeded(f"the handler ran past {self.guard_seconds:.2f} s")

    def _settled(self, task: asyncio.Task[Reply]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("an abandoned handler failed later", exc_info=task.exception())
