"""Schemathesis against hookd's own OpenAPI: no input, however odd, gets a 5xx.

The server runs with ``--role api`` so that generated endpoint URLs are never contacted.

CI runs a derandomized search (the same examples for the same code, so a stop never fails on a
lucky draw); set ``HOOKD_FUZZ_EXAMPLES=500 HOOKD_FUZZ_RANDOM=1`` to hunt for new failures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.support import TOKEN, HookdServer


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookdServer]:
    server = HookdServer(Path(tmp_path_factory.mktemp("fuzz")), env={"HOOKD_ROLE": "api"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def openapi(fuzz_server: HookdServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")


EXAMPLES = int(os.environ.get("HOOKD_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("HOOKD_FUZZ_RANDOM") == "1"


def errors_have_code_and_detail(response: schemathesis.Response) -> None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert "code" in body and "detail" in body, body


def test_no_server_errors(openapi: schemathesis.BaseSchema, fuzz_server: HookdServer) -> None:
    # Driven by hand (not schemathesis' pytest plugin) to stay independent of pytest internals.
    headers = {"Authorization": f"Bearer {TOKEN}"}
    operations = [result.ok() for result in openapi.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=not RANDOM,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=fuzz_server.url, headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            errors_have_code_and_detail(response)

        run()
