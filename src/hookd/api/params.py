"""Query parameters shared by the list routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from hookd.api.send.models import Time
from hookd.core.domain import DeliveryStatus
from hookd.services.context import Context


@dataclass(frozen=True, slots=True)
class Paging:
    iterator: str | None
    limit: int
    order: Literal["ascending", "descending"] | None

    def descending(self, default: bool) -> bool:
        return default if self.order is None else self.order == "descending"


# The dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in a thread pool,
# which costs a thread hop on every request.
async def paging(
    iterator: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=250)] = 50,
    order: Literal["ascending", "descending"] | None = None,
) -> Paging:
    return Paging(iterator, limit, order)


PagingDep = Annotated[Paging, Depends(paging)]


@dataclass(frozen=True, slots=True)
class AttemptFilter:
    """The ``status``, ``before`` and ``after`` filters of the attempt and delivery lists."""

    status: DeliveryStatus | None
    before: datetime | None
    after: datetime | None


async def attempt_filter(
    status: DeliveryStatus | None = None,
    before: Time | None = None,
    after: Time | None = None,
) -> AttemptFilter:
    return AttemptFilter(status, before, after)


AttemptFilterDep = Annotated[AttemptFilter, Depends(attempt_filter)]


async def context(request: Request) -> Context:
    """The service context the app was built with."""
    found: Context = request.app.state.ctx
    return found


CtxDep = Annotated[Context, Depends(context)]
