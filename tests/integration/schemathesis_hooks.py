"""Schemathesis hooks for test_openapi_fuzz (loaded by the CLI through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def errors_have_code_and_detail(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Every 4xx answer is hookd's ``{"code", "detail"}``."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and "code" in body and "detail" in body, body
    return None


# A synchronous call is a gateway: its 502 (the endpoint failed) and 504 (it did not answer
# within the deadline, which the fuzzer may set to a few milliseconds) report the called
# endpoint, not hookd (docs/calls.md). Any other 5xx is hookd's own failure.
GATEWAY_ANSWERS = {502: "call_failed", 504: "timeout"}


@schemathesis.check
def no_server_error_of_hookds(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """``not_a_server_error``, but for a call's gateway answers."""
    if response.status_code < 500:
        return None
    if case.path.endswith("/call") and response.status_code in GATEWAY_ANSWERS:
        body = response.json()
        if isinstance(body, dict) and body.get("code") == GATEWAY_ANSWERS[response.status_code]:
            return None
    raise AssertionError(f"server error {response.status_code}: {response.text[:500]}")
