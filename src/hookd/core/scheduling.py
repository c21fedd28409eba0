"""Scheduling decisions: how many deliveries each endpoint may start now, and a fair split.

Pure: the store reads each ready endpoint's state (in flight, health, bucket) and asks these
functions how many of its due deliveries to claim; the global budget is shared round-robin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hookd.core import ratelimit
from hookd.core.breaker import Health, admit
from hookd.core.ratelimit import TokenBucket


@dataclass(frozen=True, slots=True)
class EndpointGate:
    """What limits one endpoint right now."""

    limit: int  # in-flight cap (1 for a FIFO endpoint)
    in_flight: int  # deliveries already being sent, by any worker
    health: Health
    rate: int | None = None  # messages per second, None for unlimited
    bucket: TokenBucket | None = None
    batched: bool = False  # ``limit`` messages go in one request; the next waits for it to end


@dataclass(frozen=True, slots=True)
class Opening:
    """How many deliveries the endpoint could start; when zero, maybe when to look again."""

    wants: int
    wait_until: datetime | None = None  # breaker cool-down or the next token
    bucket: TokenBucket | None = None  # the refilled bucket (rate-limited endpoints)


def opening(gate: EndpointGate, now: datetime) -> Opening:
    """Combine the breaker, the in-flight cap and the token bucket."""
    admission = admit(gate.health, gate.limit, now)
    if admission.retry_at is not None:
        return Opening(0, admission.retry_at)
    wants = max(0, admission.max_in_flight - gate.in_flight)
    if gate.batched and gate.in_flight:
        wants = 0
    if gate.rate is None:
        return Opening(wants)
    bucket = ratelimit.refill(gate.bucket, gate.rate, now)
    tokens = ratelimit.available(bucket)
    if tokens == 0 and wants > 0:
        return Opening(0, ratelimit.next_token_at(bucket, gate.rate), bucket)
    return Opening(min(wants, tokens), None, bucket)


def share_budget(
    wants: Sequence[int], failing: Sequence[bool], budget: int, failing_budget: int
) -> list[int]:
    """Split ``budget`` round-robin, one at a time, in the given order (max-min fair).

    Failing endpoints together get at most ``failing_budget``, so endpoints that time out
    cannot take every slot from healthy ones.
    """
    grants = [0] * len(wants)
    left, failing_left = budget, failing_budget
    progress = True
    while left > 0 and progress:
        progress = False
        for i, want in enumerate(wants):
            if left == 0:
                break
            if grants[i] >= want or (failing[i] and failing_left == 0):
                continue
            grants[i] += 1
            left -= 1
            if failing[i]:
                failing_left -= 1
            progress = True
    return grants


def spend(op: Opening, taken: int) -> TokenBucket | None:
    """The bucket after ``taken`` deliveries started."""
    return None if op.bucket is None else ratelimit.take(op.bucket, taken)


def ready_after(
    gate: EndpointGate,
    op: Opening,
    taken: int,
    *,
    short: bool,
    next_due: datetime | None,
    now: datetime,
) -> datetime | None:
    """When to look at the endpoint again after a round; None: when one of its deliveries ends.

    ``short`` means fewer deliveries were due than granted, so ``next_due`` (its next pending
    delivery, if any) is the next moment it has work.
    """
    if op.wait_until is not None:
        return op.wait_until
    if short:
        return next_due
    cap = admit(gate.health, gate.limit, now).max_in_flight
    if gate.in_flight + taken >= cap or (gate.batched and gate.in_flight + taken):
        return None
    bucket = spend(op, taken)
    if bucket is not None and gate.rate is not None and ratelimit.available(bucket) == 0:
        return ratelimit.next_token_at(bucket, gate.rate)
    return now
