"""Svix's transformation sub-resource of an endpoint: ``GET``/``PATCH .../transformation``.

The same value as the endpoint's ``transformation`` field, read and changed on its own:
``{"code": ..., "enabled": ...}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hookd.core.domain import Endpoint, EndpointTransformation
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.services.endpoints.rules import check_transformation
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
