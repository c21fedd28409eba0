"""The narrow port between the delivery worker and a queue index (the Redis backend today)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Connection

from hookd.core.domain import Claim, Endpoint, Message
from hookd.store.scheduling import Limits


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What a claim round found: its limits, its claims with their messages and endpoints (read
    in the same transaction), and the next time an endpoint becomes ready (ms)."""

    limits: Limits
    claims: list[Claim]
    messages: dict[str, Message]
    endpoints: dict[str, Endpoint]
    next_ready_ms: int | None


# The worker's claim round, run in one write transaction: given the endpoints to look at
# (None: every ready one).
ClaimRound = Callable[[Connection, list[str] | None], RoundResult]


class Dispatch(Protocol):
    """Tells a worker which endpoints to claim for, instead of it scanning the database.

    While ``active`` is false (the index is unreachable or being rebuilt), the worker claims
    from the database directly and polls, as it does without an index.
    """

    @property
    def active(self) -> bool: ...

    async def claim(self, claim_round: ClaimRound, limits: Limits) -> RoundResult | None:
        """Run ``claim_round`` for endpoints the index says are due; None when it has none yet
        (it wakes the worker when it has)."""
        ...
