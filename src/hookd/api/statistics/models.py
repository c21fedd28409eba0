"""Request and response shapes of the statistics routes: Svix's usage statistics and attempt
statistics, and hookd's series of an endpoint's attempts and a source's requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from hookd.api.send.models import BackgroundTaskStatus, CamelModel, Time

Interval = Literal["minute", "hour", "day"]


class AppUsageStatsIn(CamelModel):
    since: Time
    until: Time
    app_ids: list[Annotated[str, Field(min_length=1, max_length=256)]] | None = Field(
        default=None,
        max_length=1000,
        description="application ids or uids (default: every application that sent something)",
    )


class AppUsageStatsOut(CamelModel):
    id: str
    status: BackgroundTaskStatus
    task: str = Field(description="application.stats")
    updated_at: datetime
    unresolved_app_ids: list[str] = Field(
        description="the appIds that name no application (counted for the others)"
    )


class AggregateEventTypesOut(CamelModel):
    id: str
    status: BackgroundTaskStatus
    task: str = Field(description="event-type.aggregate")
    updated_at: datetime


class EndpointAttemptStatsOut(CamelModel):
    """Attempts in the period, over whole hours (Svix's EndpointAttemptStats)."""

    success: int
    fail: int
    canceled: int


class AttemptCountsOut(CamelModel):
    start: datetime = Field(description="the interval's start")
    success: int
    fail: int = Field(description="failed attempts, of which the next four by cause")
    canceled: int
    fail_4xx: int = Field(alias="fail4xx", description="failed with a 4xx answer")
    fail_5xx: int = Field(alias="fail5xx", description="failed with a 5xx answer")
    fail_no_response: int = Field(
        description="failed without an HTTP answer (connection, timeout, transformation, "
        "disabled endpoint, expunged payload)"
    )
    transform_failures: int = Field(description="the endpoint's transformation failed")
    destinations: int = Field(description="messages attempted for the first time")


class AttemptSeriesOut(CamelModel):
    """An endpoint's attempts per interval (hookd; not part of Svix's API)."""

    interval: Interval
    since: datetime = Field(description="the first interval's start")
    until: datetime
    data: list[AttemptCountsOut]


class RequestCountsOut(CamelModel):
    start: datetime = Field(description="the interval's start")
    accepted: int
    duplicate: int
    rejected: int
    handshake: int


class RequestSeriesOut(CamelModel):
    """A source's inbound requests per interval and outcome (hookd)."""

    interval: Interval
    since: datetime = Field(description="the first interval's start")
    until: datetime
    data: list[RequestCountsOut]
