"""The one HTTP client of hookd's commands for hookd's API (httpx, synchronous).

``ApiClient`` sends JSON with the bearer token to a base URL and answers the parsed JSON body
(``None`` for an empty one). Every POST carries an ``Idempotency-Key`` (a uuid4), the same on each
retry of that request, so a retried create is applied once (api/idempotency.py). A 429 or 503 is
retried, at most ``retries`` times, after the ``Retry-After`` the server asked for (seconds or an
HTTP date), or a short backoff without one; an answer that asks for longer than
``max_retry_after`` is not waited for: it fails at once. Connection errors are not retried (a
server that is down is said so at once).

Errors are exceptions that carry their exit code (``ExitCode``): an answer that is not a success
raises an ``ApiError`` with the status, the API's ``code`` and ``detail`` (api/errors.py), and
``NotFound``, ``InvalidInput``, ``AuthFailed`` or ``ServerError`` tell them apart;
``Unreachable`` is a server that did not answer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from hookd import __version__

if TYPE_CHECKING:  # imported when a client is made: `hookd --help` does without httpx
    import httpx

DEFAULT_SERVER = "http://127.0.0.1:8071"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRIED_STATUSES = frozenset({429, 503})
DEFAULT_RETRIES = 3
# Longer than this and the command fails rather than wait (a full disk asks for 30 s).
DEFAULT_MAX_RETRY_AFTER = 60.0
# Without Retry-After: 0.5 s, 1 s, 2 s, ...
BACKOFF_SECONDS = 0.5
DEFAULT_TIMEOUT = 30.0


class ExitCode(IntEnum):
    """What a hookd command's exit status says (docs/cli.md, "Exit codes")."""

    OK = 0
    FAILED = 1  # the command ran and the outcome is a failure (`hookd call`: not answered 2xx)
    INVALID = 2  # bad usage or input: a usage error, or the API answered 400, 409, 413, 422
    NOT_FOUND = 3  # 404
    AUTH = 4  # no token, or the API answered 401 or 403
    SERVER = 5  # 5xx, 429 after the retries, a failed background task, or no answer at all


class CliError(Exception):
    """A command failed: ``message`` goes to stderr, ``exit_code`` is the status."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ApiError(CliError):
    """The API answered an error: its status, ``code`` and ``detail``."""

    def __init__(self, status: int, code: str, detail: Any, exit_code: ExitCode) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(f"{status} {code}: {describe(detail)}", exit_code)


class InvalidInput(ApiError):
    pass


class NotFound(ApiError):
    pass


class AuthFailed(ApiError):
    pass


class ServerError(ApiError):
    pass


class Unreachable(CliError):
    exit_code = ExitCode.SERVER


def describe(detail: Any) -> str:
    """The API's ``detail``: a string, or a 422's list of ``{loc, msg}`` as ``loc: msg; ...``."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                where = ".".join(str(part) for part in item.get("loc", ()))
                message = str(item.get("msg", ""))
                parts.append(f"{where}: {message}" if where else message)
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an error answer."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping) and "detail" in body:
        code, detail = str(body.get("code") or "error"), body["detail"]
    else:
        code, detail = "error", (response.text[:200] or response.reason_phrase)
    if status == 404:
        return NotFound(status, code, detail, ExitCode.NOT_FOUND)
    if status in (401, 403):
        return AuthFailed(status, code, detail, ExitCode.AUTH)
    if status >= 500 or status == 429:
        return ServerError(status, code, detail, ExitCode.SERVER)
    return InvalidInput(status, code, detail, ExitCode.INVALID)


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """The seconds ``Retry-After`` asks for (a number or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ApiClient:
    """hookd's API at ``base_url``, as the holder of ``token``."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        if not base_url.startswith(("http://", "https://")):
            raise CliError(f"the server must be an http:// or https:// URL, not {base_url!r}")
        try:
            if not httpx.URL(base_url).host:
                raise httpx.InvalidURL("no host")
        except httpx.InvalidURL as exc:
            raise CliError(f"the server URL {base_url!r} is not valid: {exc}") from exc
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        headers = {"Accept": "application/json", "User-Agent": f"hookd-cli/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        answers: Collection[int] = (),
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """Send a request; return the status and the JSON body (None when empty).

        A status in ``answers`` is returned like a success (``hookd call``'s 502 and 504 carry
        the call's answer); any other error status raises its ``ApiError``."""
        response = self._send(
            method, path, params=params, json=json, answers=answers, timeout=timeout
        )
        return response.status_code, _body(response)

    def events(self, path: str, **params: Any) -> Iterator[tuple[str, str]]:
        """Follow the server-sent events at ``path`` (a bin's stream): ``(event, data)`` pairs as
        they come, a comment line as ``("", text)``; no read deadline. Opening the stream is
        retried and its errors raised as ``request``'s are; a stream cut off raises
        ``Unreachable``."""
        import httpx

        limits = self._http.timeout
        endless = httpx.Timeout(
            connect=limits.connect, read=None, write=limits.write, pool=limits.pool
        )
        response = self._send("GET", path, params=params, timeout=endless, stream=True)
        try:
            event, data = "message", []
            for line in response.iter_lines():
                if line.startswith(":"):
                    yield "", line[1:].strip()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line and data:
                    yield event, "\n".join(data)
                    event, data = "message", []
        except httpx.TransportError as exc:
            raise Unreachable(f"lost {self.base_url}: {exc}") from exc
        finally:
            response.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        answers: Collection[int] = (),
        timeout: float | httpx.Timeout | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """The response to a request, after the retries; an error status raises (its body
        read first). ``stream``: the body is left to read (the caller closes it)."""
        import httpx

        headers = {}
        if method.upper() == "POST":
            headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            # Made again for each try (its body read afresh), with the same headers: the same
            # Idempotency-Key on every retry.
            request = self._http.build_request(
                method,
                path,
                params=query,
                json=json,
                headers=headers,
                timeout=self._http.timeout if timeout is None else timeout,
            )
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                raise Unreachable(f"{self.base_url} did not answer in time ({exc})") from exc
            except httpx.TransportError as exc:
                raise Unreachable(f"cannot reach {self.base_url}: {exc}") from exc
            retried = response.status_code in RETRIED_STATUSES and attempt < self.retries
            if not retried and (response.is_success or response.status_code in answers):
                return response
            try:
                response.read()
            finally:
                response.close()
            if retried:
                wait = retry_after(response)
                if wait is None:
                    wait = BACKOFF_SECONDS * 2**attempt
                if wait <= self.max_retry_after:
                    attempt += 1
                    self._sleep(wait)
                    continue
            raise error_for(response)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)[1]

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json=body, params=params)[1]

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, json=body)[1]

    def patch(self, path: str, body: Any = None) -> Any:
        return self.request("PATCH", path, json=body)[1]

    def delete(self, path: str, **params: Any) -> Any:
        return self.request("DELETE", path, params=params)[1]


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise ServerError(
            response.status_code,
            "not_json",
            f"the server did not answer JSON: {response.text[:200]!r}",
            ExitCode.SERVER,
        ) from exc
