"""Every Redis key and name the queue index uses, in one place (``HOOKD_QUEUE_PREFIX`` first).

Members and stream entries carry endpoint ids only: what is due, how much, and for whom is read
from the database, so losing any of these keys loses no work (see ``index.py`` for the repair).
"""

from __future__ import annotations

from dataclasses import dataclass

# The consumer group every worker reads the ready stream in; each entry goes to one worker.
GROUP = "hookd-workers"
# The stream entry field holding the endpoint id; an empty value only wakes a reader.
FIELD = "e"


@dataclass(frozen=True, slots=True)
class QueueKeys:
    prefix: str

    @property
    def due(self) -> str:
        """Sorted set: endpoint id -> ms when it has work due later (retries, scheduled
        messages, rate-limit and circuit-breaker waits); promoted to ``ready`` when due."""
        return f"{self.prefix}:q:due"

    @property
    def ready(self) -> str:
        """Stream (consumer group ``GROUP``): endpoint ids with work due now."""
        return f"{self.prefix}:q:ready"

    @property
    def queued(self) -> str:
        """Sorted set: endpoint id -> ms it was added to ``ready`` and not yet read, so an
        endpoint waits in the stream once however many messages arrive for it meanwhile."""
        return f"{self.prefix}:q:queued"

    @property
    def epoch(self) -> str:
        """String set once the index was seeded from the database; missing means Redis lost
        its data (a restart without persistence, a flush) and the index must be reseeded."""
        return f"{self.prefix}:q:epoch"

    def all(self) -> list[str]:
        return [self.due, self.ready, self.queued, self.epoch]
