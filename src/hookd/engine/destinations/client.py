"""The destination port: what the worker calls to hand a webhook to a broker.

A destination never raises for broker trouble. :func:`publish_attempt` turns whatever a
publish raises into an :class:`AttemptResult` with a human reason, so retries and attempt
records work exactly as they do for HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import orjson
import structlog

from hookd.core.delivery import AttemptResult, Failure
from hookd.core.destinations import DestinationTarget
from hookd.engine import durations
from hookd.engine.http.names import AddressRefused

log = structlog.get_logger("hookd.destinations")

# The status an accepted publish is recorded with: the broker acknowledged the message.
PUBLISHED_STATUS = 200

# Both Standard Webhooks header styles hookd signs with (HOOKD_SIGNATURE_HEADERS).
WEBHOOK_HEADER_PREFIXES = ("webhook-", "svix-")


class BrokerClient(Protocol):
    """A broker a webhook can be published to."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(
        self,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination, not per call site
    ) -> AttemptResult: ...


class BrokerRejected(Exception):
    """The broker answered but did not take the message; the text says why."""


def webhook_id(headers: Mapping[str, str]) -> str | None:
    """The message id hookd signed (``webhook-id`` or ``svix-id``), used for broker dedup."""
    for name, value in headers.items():
        if name.lower() in ("webhook-id", "svix-id"):
            return value
    return None


def content_type(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return "application/json"


def headers_json(headers: Mapping[str, str]) -> bytes:
    return orjson.dumps(dict(headers))


def receipt(**fields: object) -> bytes:
    """What the attempt record keeps as the "response": the broker's acknowledgement."""
    return orjson.dumps(fields)


async def publish_attempt(
    target: DestinationTarget,
    timeout: float,  # noqa: ASYNC109 - see BrokerClient.send
    publish: Callable[[], Awaitable[bytes]],
    unreachable: tuple[type[Exception], ...] = (),
) -> AttemptResult:
    """Run one publish under ``timeout`` and report it as an attempt, never raising.

    ``unreachable`` names the client library's own connection errors, reported like OSError.
    """
    connection_errors: tuple[type[Exception], ...] = (OSError, *unreachable)
    started = durations.mark()
    try:
        async with asyncio.timeout(timeout):
            acknowledgement = await publish()
    except TimeoutError:
        reason = f"timed out after {timeout:g} s publishing to {_where(target)}"
        return _failed(started, reason, Failure.TIMEOUT)
    except AddressRefused as exc:
        return _failed(started, str(exc), Failure.REFUSED)
    except BrokerRejected as exc:
        return _failed(started, f"{_where(target)} rejected the message: {exc}", Failure.REJECTED)
    except connection_errors as exc:
        reason = f"connection failed: {_where(target)}: {_describe(exc, target)}"
        return _failed(started, reason, Failure.CONNECTION)
    except Exception as exc:
        # Client libraries raise their own exception trees for connection and protocol trouble;
        # all of it is a failed attempt to be retried, never a crashed worker.
        log.debug("publish failed", destination=target.display_url, exc_info=True)
        reason = f"publish to {_where(target)} failed: {_describe(exc, target)}"
        return _failed(started, reason, Failure.ERROR)
    return AttemptResult(PUBLISHED_STATUS, acknowledgement, durations.elapsed_ms(started))


def _where(target: DestinationTarget) -> str:
    return f"{target.kind.value} {target.display_url}"


def _describe(exc: BaseException, target: DestinationTarget) -> str:
    text = str(exc) or repr(exc)
    if target.password:
        # Some clients put the connection URL, password included, into their messages.
        text = text.replace(target.password, "***")
    return f"{type(exc).__name__}: {text}"


def _failed(started: float, reason: str, failure: Failure) -> AttemptResult:
    return AttemptResult.no_response(reason, durations.elapsed_ms(started), failure=failure)
