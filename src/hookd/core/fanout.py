"""Fan-out: which endpoints a message goes to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hookd.core.domain import Endpoint


def endpoint_accepts(endpoint: Endpoint, event_type: str, channels: Sequence[str] | None) -> bool:
    """Svix's rule: enabled, event type in ``filterTypes`` (if set), channels intersect (if set)."""
    if endpoint.disabled:
        return False
    if endpoint.filter_types is not None and event_type not in endpoint.filter_types:
        return False
    if endpoint.channels is not None:
        return bool(channels) and not set(endpoint.channels).isdisjoint(channels or ())
    return True


def subscribed(
    endpoints: Iterable[Endpoint], event_type: str, channels: Sequence[str] | None
) -> list[Endpoint]:
    """The endpoints that receive a message of ``event_type`` on ``channels``."""
    return [ep for ep in endpoints if endpoint_accepts(ep, event_type, channels)]
