"""The HTTP side of ``hookd call``: one request to a hookd API, with the standard library."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

# The API answers within the call's deadline (at most 30 s) plus the time to record it.
CLIENT_TIMEOUT_SECONDS = 60


class CallClientError(Exception):
    """The API could not be reached or did not answer JSON."""


def parse_params(params_json: str | None, pairs: Sequence[str]) -> dict[str, Any]:
    """``--params`` (a JSON object) merged with ``--param k=v`` pairs (string values)."""
    params: dict[str, Any] = {}
    if params_json:
        loaded = json.loads(params_json)
        if not isinstance(loaded, dict):
            raise ValueError("--params must be a JSON object")
        params.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--param {pair!r} is not k=v")
        params[name] = value
    return params


def call_endpoint(
    base_url: str, token: str, app: str, endpoint: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """POST the call; return the HTTP status and the JSON answer (errors included)."""
    url = (
        f"{base_url.rstrip('/')}/api/v1/app/{quote(app, safe='')}"
        f"/endpoint/{quote(endpoint, safe='')}/call"
    )
    if not url.startswith(("http://", "https://")):
        raise CallClientError(f"--url must be http or https, not {base_url!r}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, _json(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _json(exc.read())
    except (urllib.error.URLError, OSError) as exc:
        raise CallClientError(f"cannot reach {base_url}: {exc}") from exc


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise CallClientError(f"the API did not answer JSON: {raw[:200]!r}") from exc
    if not isinstance(value, dict):
        raise CallClientError("the API answered JSON that is not an object")
    return value
