"""The HTTP side of ``hookd call``: one call through hookd's API, on the commands' client."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hookd.commands.client import ExitCode, ServerError

if TYPE_CHECKING:
    from hookd.commands.client import ApiClient

# The API answers within the call's deadline (at most 30 s) plus the time to record it.
CLIENT_TIMEOUT_SECONDS = 60
# A call that failed (the endpoint unreachable, or past its deadline) is answered 502 or 504
# with the call's own answer: printed like a 200's.
CALL_ANSWERS = (502, 504)


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
    client: ApiClient, app: str, endpoint: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """POST the call; return the HTTP status and the call's answer (a 502's or 504's too)."""
    path = f"/api/v1/app/{quote(app, safe='')}/endpoint/{quote(endpoint, safe='')}/call"
    status, answer = client.request(
        "POST", path, json=body, answers=CALL_ANSWERS, timeout=CLIENT_TIMEOUT_SECONDS
    )
    if not isinstance(answer, dict):
        raise ServerError(
            status, "not_json", "the API answered JSON that is not an object", ExitCode.SERVER
        )
    return status, answer
