"""The narrow port between the delivery worker and a queue index (the Redis backend today)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hookd.store.scheduling import Claim, Limits


class Dispatch(Protocol):
    """Tells a worker which endpoints to claim for, instead of it scanning the database.

    While ``active`` is false (the index is unreachable or being rebuilt), the worker claims
    from the database directly and polls, as it does without an index.
    """

    @property
    def active(self) -> bool: ...

    async def claim(self, now: datetime, lease_until: datetime, limits: Limits) -> list[Claim]:
        """A claim round for endpoints the index says are due; ``[]`` when it has none yet
        (it wakes the worker when it has)."""
        ...
