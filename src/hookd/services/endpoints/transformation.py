"""Svix's transformation sub-resource of an endpoint: ``GET``/``PATCH .../transformation``.

The same value as the endpoint's ``transformation`` field, read and changed on its own:
``{"code": ..., "enabled": ...}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookd.core.domain import Endpoint, EndpointTransformation
from hookd.core.transformations import (
    Cancelled,
    Transformation,
    TransformError,
    TransformInput,
)
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.services.endpoints.rules import MIB, check_transformation
from hookd.services.errors import Invalid
from hookd.services.operational import endpoint_changed
from hookd.store import endpoints as store


async def patch_transformation(
    ctx: Context, app_id: str, endpoint_id: str, fields: Mapping[str, Any]
) -> Endpoint:
    """``code`` (null removes the transformation) and/or ``enabled``; the code is checked first."""
    checked: EndpointTransformation | None = None
    if fields.get("code") is not None:
        enabled = fields.get("enabled")
        checked = await check_transformation(
            {"code": fields["code"], "enabled": True if enabled is None else enabled},
            ctx,
            loc=("body", "code"),
        )
    now = ctx.clock()
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        current = endpoint.transformation
        if "code" in fields:
            if checked is not None and current is not None and fields.get("enabled") is None:
                checked = dataclasses.replace(checked, enabled=current.enabled)
            new = checked
        elif fields.get("enabled") is not None:
            if current is None:
                raise Invalid("the endpoint has no transformation code", loc=("body", "enabled"))
            new = dataclasses.replace(current, enabled=bool(fields["enabled"]))
        else:
            new = current
        updated = dataclasses.replace(endpoint, transformation=new, updated_at=now)
        await store.save_endpoint(conn, updated)
        await endpoint_changed(conn, app, endpoint, updated, now)
    return updated


@dataclass(frozen=True, slots=True)
class TrialRun:
    """What a transformation made of a sample delivery: the request it would send, or why it
    would send nothing (``cancelled``)."""

    method: str
    url: str
    headers: dict[str, str]
    body: str
    cancelled: str | None = None


async def try_transformation(
    ctx: Context,
    code: str,
    *,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    app_id: str = "",
) -> TrialRun:
    """Run ``code`` on ``payload`` as a delivery to ``url`` with ``headers`` would run it (a
    JSON ``POST``), in the runtime's sandbox with the same limits. Nothing is saved or sent.

    Code that does not compile, or a run that throws, times out or returns something unusable,
    is an Invalid whose ``loc`` is ``("body", "transformation", "code")``."""
    loc = ("body", "transformation", "code")
    await check_transformation({"code": code}, ctx, loc=loc)
    sandbox, settings = ctx.sandbox, ctx.settings
    if sandbox is None:
        raise RuntimeError("this context has no transformation sandbox (see engine.runtime)")
    request = TransformInput.from_http(
        "POST", url, {**headers, "Content-Type": "application/json"}, payload
    )
    try:
        outcome = await sandbox.apply(
            Transformation(code),
            request,
            timeout_ms=settings.transform_timeout_ms,
            max_memory=settings.transform_max_memory_mb * MIB,
            app=app_id,
        )
    except TransformError as exc:
        raise Invalid(exc.message, loc=loc) from None
    if isinstance(outcome, Cancelled):
        return TrialRun("POST", url, dict(headers), "", cancelled=outcome.reason)
    return TrialRun(
        outcome.method,
        outcome.url,
        dict(outcome.headers),
        outcome.body_bytes(payload).decode("utf-8", errors="replace"),
    )
