"""/api/v1/health: unauthenticated liveness and database check."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from hookd.api.models import HealthOut
from hookd.api.params import CtxDep
from hookd.api.serialize import JSON

router = APIRouter(tags=["Health"])


@router.get("/api/v1/health", response_model=HealthOut, summary="Health")
@router.head("/api/v1/health", include_in_schema=False)
async def health(ctx: CtxDep) -> Response:
    try:
        async with ctx.db.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return JSON({"status": "error", "database": "unreachable"}, status_code=503)
    return JSON({"status": "ok", "database": "ok"})
