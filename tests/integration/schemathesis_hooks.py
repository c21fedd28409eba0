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
