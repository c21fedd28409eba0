"""Secret rotation: the new secret always counts, the previous one until its expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

__all__ = ["RotatingSecret"]

KeyT = TypeVar("KeyT")


@dataclass(frozen=True, slots=True)
class RotatingSecret(Generic[KeyT]):
    """A current key plus, during a grace period, the key it replaced."""

    current: KeyT
    previous: KeyT | None = None
    previous_expires_at: datetime | None = None

    def active(self, now: datetime) -> tuple[KeyT, ...]:
        """The keys a request may be signed with at ``now``, the current one first."""
        if (
            self.previous is not None
            and self.previous_expires_at is not None
            and now < self.previous_expires_at
        ):
            return (self.current, self.previous)
        return (self.current,)
