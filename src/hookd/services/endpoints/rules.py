"""An endpoint's filter and transformation: checked when saved, so they never fail on a message.

A filter must compile (``hookd.core.filters.match``); a transformation must parse, run its top-level
code within the limits and define ``handler`` (in ``ctx.sandbox``, the runtime's). Either
problem is a 422 whose ``loc`` names the spot: ``("body", "filter", "body", "amount", "$gt")`` or
``("body", "transformation", "code")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookd.core.domain import EndpointTransformation
from hookd.core.filters.match import FilterError, compile_filter
from hookd.core.transformations import TransformError
from hookd.services.context import Context
from hookd.services.errors import Invalid

MIB = 1024 * 1024


async def checked_rules(fields: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """``fields`` with ``filter`` and ``transformation`` validated and in domain form."""
    checked = dict(fields)
    if checked.get("filter") is not None:
        check_filter(checked["filter"])
    transformation = checked.get("transformation")
    if transformation is not None:
        checked["transformation"] = await check_transformation(transformation, ctx)
    return checked


def check_filter(document: Any) -> None:
    try:
        compile_filter(document)
    except FilterError as exc:
        raise Invalid(str(exc), loc=("body", "filter", *exc.path)) from None


async def check_transformation(
    transformation: Mapping[str, Any],
    ctx: Context,
    loc: tuple[str, ...] = ("body", "transformation", "code"),
) -> EndpointTransformation:
    """``{"code": ..., "enabled": ...}`` (enabled defaults to true) as a checked domain value."""
    code = transformation["code"]
    settings, sandbox = ctx.settings, ctx.sandbox
    if sandbox is None:
        raise RuntimeError("this context has no transformation sandbox (see engine.runtime)")
    try:
        await sandbox.compile(
            code,
            timeout_ms=settings.transform_timeout_ms,
            max_memory=settings.transform_max_memory_mb * MIB,
        )
    except TransformError as exc:
        raise Invalid(exc.message, loc=loc) from None
    return EndpointTransformation(code=code, enabled=bool(transformation.get("enabled", True)))
