"""/api/v1/background-task: recover and the bulk operations, by their qtask_ id (Svix's API)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookd.api.auth import PrincipalDep
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import BackgroundTaskOut, BackgroundTaskStatus, ListResponse
from hookd.api.send.serialize import JSON, page_out, task_out
from hookd.services import background_tasks as service

router = APIRouter(prefix="/api/v1/background-task", tags=["Background Task"])


@router.get(
    "",
    response_model=ListResponse[BackgroundTaskOut],
    summary="List background tasks, newest first",
)
async def list_tasks(
    ctx: CtxDep,
    query: ListQueryDep,
    status: BackgroundTaskStatus | None = None,
    task: str | None = None,
) -> Response:
    page = await service.list_tasks(ctx, query, status=status, task=task)
    return JSON(page_out(page, task_out))


@router.get("/{task_id}", response_model=BackgroundTaskOut, summary="Get a background task")
async def get_task(ctx: CtxDep, principal: PrincipalDep, task_id: str) -> Response:
    # An application's principal reads its application's tasks only (api/access/rules.py).
    task = await service.get_task(ctx, task_id, app_id=principal.app_id)
    return JSON(task_out(task))
