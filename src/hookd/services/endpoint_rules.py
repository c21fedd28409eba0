"""An endpoint's filter and transformation: checked when saved, so they never fail on a message.

A filter must compile (``hookd.core.filters``); a transformation must parse, run its top-level
code within the limits and define ``handler``, checked by the engine's sandbox, which the API
installs at start (:func:`use_sandbox`: services do not import the engine). Either problem is a
422 whose ``loc`` names the spot: ``("body", "filter", "body", "amount", "$gt")`` or
``("body", "transformation", "code")``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from hookd.config import Settings
from hookd.core.domain import EndpointTransformation
from hookd.core.filters import FilterError, compile_filter
from hookd.core.transformations import TransformError
from hookd.services.errors import Invalid

MIB = 1024 * 1024


class TransformationSandbox(Protocol):
    """What saving an endpoint needs of ``hookd.engine.transform.TransformSandbox``."""

    async def compile(self, code: str, *, timeout_ms: int, max_memory: int) -> object: ...


# The process-wide sandbox by its number of workers (``engine.transform.default_sandbox``).
_sandbox: Callable[[int], TransformationSandbox] | None = None


def use_sandbox(sandbox: Callable[[int], TransformationSandbox]) -> None:
    """Install the sandbox that checks transformations (the API does, when it is built)."""
    global _sandbox  # one sandbox per process, as in engine.transform
    _sandbox = sandbox


async def checked_rules(fields: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """``fields`` with ``filter`` and ``transformation`` validated and in domain form."""
    checked = dict(fields)
    if checked.get("filter") is not None:
        check_filter(checked["filter"])
    transformation = checked.get("transformation")
    if transformation is not None:
        checked["transformation"] = await check_transformation(transformation, settings)
    return checked


def check_filter(document: Any) -> None:
    try:
        compile_filter(document)
    except FilterError as exc:
        raise Invalid(str(exc), loc=("body", "filter", *exc.path)) from None


async def check_transformation(
    transformation: Mapping[str, Any],
    settings: Settings,
    loc: tuple[str, ...] = ("body", "transformation", "code"),
) -> EndpointTransformation:
    """``{"code": ..., "enabled": ...}`` (enabled defaults to true) as a checked domain value."""
    code = transformation["code"]
    if _sandbox is None:
        raise RuntimeError("no transformation sandbox installed (endpoint_rules.use_sandbox)")
    sandbox = _sandbox(settings.transform_workers)
    try:
        await sandbox.compile(
            code,
            timeout_ms=settings.transform_timeout_ms,
            max_memory=settings.transform_max_memory_mb * MIB,
        )
    except TransformError as exc:
        raise Invalid(exc.message, loc=loc) from None
    return EndpointTransformation(code=code, enabled=bool(transformation.get("enabled", True)))
