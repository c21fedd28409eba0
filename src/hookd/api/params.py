"""Query parameters shared by the list routes, and the service context."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from hookd.api.send.models import Time
from hookd.core.domain import DeliveryStatus, ListQuery
from hookd.services.context import Context


# The dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in a thread pool,
# which costs a thread hop on every request.
async def list_query(
    iterator: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=250)] = 50,
    order: Literal["ascending", "descending"] | None = None,
) -> ListQuery:
    """Every list's page: ``iterator``, ``limit`` and ``order``."""
    return ListQuery(limit, iterator, order)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


async def attempt_list_query(
    query: ListQueryDep,
    status: DeliveryStatus | None = None,
    before: Time | None = None,
    after: Time | None = None,
) -> ListQuery:
    """The attempt and delivery lists' page, with their ``status``, ``before`` and ``after``."""
    return dataclasses.replace(query, status=status, before=before, after=after)


AttemptListQueryDep = Annotated[ListQuery, Depends(attempt_list_query)]


async def context(request: Request) -> Context:
    """The service context the app was built with."""
    found: Context = request.app.state.ctx
    return found


CtxDep = Annotated[Context, Depends(context)]
