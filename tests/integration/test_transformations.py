"""JavaScript transformations in real V8 (mini-racer) sandbox worker processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("py_mini_racer", reason="mini-racer (the transformations extra) is missing")

from hookd.core.filters.match import json_equal
from hookd.core.transformations import (
    Cancelled,
    TransformedRequest,
    TransformError,
    TransformInput,
)
from hookd.engine.transformations.child import describe_js_error
from hookd.engine.transformations.sandbox import TransformSandbox

BODY = b'{"order": {"id": 7, "total": 12.5}, "big": 1152921504606846977}'
REQUEST = TransformInput.from_http(
    "POST",
    "https://shop.example/hooks/in?tag=a&tag=b&x=1",
    {"Content-Type": "application/json", "X-Signature": "abc"},
    BODY,
)


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[TransformSandbox]:
    pool = TransformSandbox(workers=2)
    yield pool
    await pool.close()


async def run(sandbox: TransformSandbox, code: str, **limits: Any) -> Any:
    transformation = await sandbox.compile(code)
    return await sandbox.apply(transformation, REQUEST, **limits)


async def test_handler_sees_the_request_shape(sandbox: TransformSandbox) -> None:
    outcome = await run(
        sandbox,
        """function handler(request) {
          request.body = {seen: [request.method, request.url, request.path, request.query,
                                 request.headers["x-signature"], typeof request.body.order]};
          return request;
        }""",
    )
    assert isinstance(outcome, TransformedRequest)
    assert outcome.body == {
        "seen": [
            "POST",
            "https://shop.example/hooks/in?tag=a&tag=b&x=1",
            "/hooks/in",
            {"tag": ["a", "b"], "x": "1"},
            "abc",
            "object",
        ]
    }


async def test_changes_body_method_url_and_headers(sandbox: TransformSandbox) -> None:
    outcome = await run(
        sandbox,
        """function handler(request) {
          request.body = {id: request.body.order.id, cents: request.body.order.total * 100};
          request.method = "put";
          request.url = "https://api.example/orders";
          request.headers["x-source"] = "hookd";
          delete request.headers["x-signature"];
          return request;
        }""",
    )
    assert isinstance(outcome, TransformedRequest)
    assert outcome.method == "PUT"
    assert outcome.url == "https://api.example/orders"
    assert outcome.headers == {"content-type": "application/json", "x-source": "hookd"}
    assert outcome.body_changed
    assert orjson.loads(outcome.body_bytes(BODY)) == {"id": 7, "cents": 1250}


async def test_path_and_query_edits_rewrite_the_url(sandbox: TransformSandbox) -> None:
    outcome = await run(
        sandbox,
        """function handler(request) {
          request.path = "/v2" + request.path;
          request.query = {page: 2};
          return request;
        }""",
    )
    assert isinstance(outcome, TransformedRequest)
    assert outcome.url == "https://shop.example/v2/hooks/in?page=2"


async def test_untouched_body_keeps_its_exact_bytes(sandbox: TransformSandbox) -> None:
    # The big integer would lose precision as a JS number; the original bytes survive.
    outcome = await run(sandbox, "function handler(r) { r.headers['x-extra'] = '1'; return r; }")
    assert isinstance(outcome, TransformedRequest)
    assert not outcome.body_changed
    assert outcome.body_bytes(BODY) == BODY


async def test_string_body_is_sent_verbatim(sandbox: TransformSandbox) -> None:
    outcome = await run(sandbox, "function handler(r) { r.body = 'a=1&b=2'; return r; }")
    assert isinstance(outcome, TransformedRequest)
    assert outcome.body_bytes(BODY) == b"a=1&b=2"


@pytest.mark.parametrize(
    "code",
    ["function handler(r) { return null; }", "function handler(r) { return {cancel: true}; }"],
)
async def test_cancel(sandbox: TransformSandbox, code: str) -> None:
    assert isinstance(await run(sandbox, code), Cancelled)


async def test_infinite_loop_stops_at_the_time_limit(sandbox: TransformSandbox) -> None:
    with pytest.raises(TransformError, match="timed out after 200 ms") as caught:
        await run(sandbox, "function handler(r) { while (true) {} }", timeout_ms=200)
    assert caught.value.kind == "timeout"


async def test_top_level_loop_is_caught_at_compile_time(sandbox: TransformSandbox) -> None:
    with pytest.raises(TransformError, match="timed out"):
        await sandbox.compile("while (true) {}\nfunction handler(r) { return r; }", timeout_ms=200)


async def test_memory_bomb_stops_at_the_memory_limit(sandbox: TransformSandbox) -> None:
    code = "function handler(r) { const a = []; while (true) a.push(new Array(1e5).fill(1)); }"
    with pytest.raises(TransformError, match="exceeded 32 MB") as caught:
        await run(sandbox, code, max_memory=32 * 1024 * 1024)
    assert caught.value.kind == "memory"


async def test_off_heap_buffers_are_bounded(sandbox: TransformSandbox) -> None:
    code = """function handler(r) {
      const keep = [];
      for (let i = 0; i < 40; i++) keep.push(new Uint8Array(2 ** 28).fill(1));
      return r;
    }"""
    with pytest.raises(TransformError, match="Array buffer allocation failed"):
        await run(sandbox, code, timeout_ms=5_000)


async def test_a_v8_fatal_error_does_not_take_hookd_down(sandbox: TransformSandbox) -> None:
    # V8 aborts its process on this; only the sandbox worker dies and is replaced.
    with pytest.raises(TransformError) as caught:
        await run(sandbox, "function handler(r) { new Array(2 ** 28).fill(1); }", timeout_ms=200)
    assert caught.value.kind in ("timeout", "memory")
    assert isinstance(await run(sandbox, "function handler(r) { return r; }"), TransformedRequest)


async def test_a_crashed_worker_is_replaced_before_its_call_returns() -> None:
    # The replacement starts in the crashing call's turn: the next caller, maybe another
    # application, does not wait for a process to start.
    pool = TransformSandbox(workers=1)
    try:
        with pytest.raises(TransformError):
            await run(pool, "function handler(r) { new Array(2 ** 28).fill(1); }", timeout_ms=200)
        assert pool.running() == 1
    finally:
        await pool.close()
    assert pool.running() == 0


async def test_runtime_errors_name_the_line(sandbox: TransformSandbox) -> None:
    with pytest.raises(TransformError) as caught:
        await run(sandbox, "function handler(r) {\n  return r.nope.deeper;\n}")
    assert caught.value.kind == "runtime"
    assert caught.value.message == (
        "TypeError: Cannot read properties of undefined (reading 'deeper') at line 2"
    )


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("function handler(r) {\n  return r +;\n}", "syntax", "SyntaxError: Unexpected token"),
        ("const x = 1;", "code", "must define function handler"),
        ("   ", "code", "empty"),
        ("throw new Error('nope')", "runtime", "Error: nope at line 1"),
    ],
)
async def test_bad_code_is_rejected_at_compile_time(
    sandbox: TransformSandbox, code: str, kind: str, words: str
) -> None:
    with pytest.raises(TransformError) as caught:
        await sandbox.compile(code)
    assert caught.value.kind == kind
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("returns", "words"),
    [
        ("undefined", "returned undefined"),
        ("42", "got number"),
        ("{...r, method: 'TRACE'}", "method must be one of"),
        ("{...r, url: 'ftp://x.example/'}", "absolute http"),
        ("{...r, url: 'https://x.example/a b'}", "no whitespace"),
        ("{...r, headers: {'x-n': 1}}", "must be a string"),
        ("{...r, headers: {'bad name': 'v'}}", "not a valid HTTP token"),
        ("{...r, headers: {'x-a': 'v\\r\\nx-b: w'}}", "line break"),
        ("{...r, body: 10n}", "serialize a BigInt"),
        ("Promise.resolve(r)", "transformations are synchronous"),
    ],
)
async def test_bad_output_says_what_is_wrong(
    sandbox: TransformSandbox, returns: str, words: str
) -> None:
    with pytest.raises(TransformError, match=words):
        await run(sandbox, f"function handler(r) {{ return {returns}; }}")


async def test_no_require_fetch_process_or_webassembly(sandbox: TransformSandbox) -> None:
    outcome = await run(
        sandbox,
        """function handler(r) {
          r.body = [typeof require, typeof fetch, typeof process, typeof XMLHttpRequest,
                    typeof WebAssembly, typeof Deno, typeof Bun, typeof importScripts];
          return r;
        }""",
    )
    assert isinstance(outcome, TransformedRequest)
    assert outcome.body == ["undefined"] * 8


async def test_dynamic_import_is_not_available(sandbox: TransformSandbox) -> None:
    with pytest.raises(TransformError):
        await run(sandbox, "function handler(r) { return import('fs'); }")


async def test_state_does_not_leak_between_calls(sandbox: TransformSandbox) -> None:
    code = """var calls = (globalThis.calls || 0) + 1; globalThis.calls = calls;
    Object.prototype.polluted = 'yes';
    function handler(r) { r.body = {calls, polluted: ({}).polluted}; return r; }"""
    probe = "function handler(r) { r.body = {polluted: ({}).polluted ?? null}; return r; }"
    for _ in range(3):
        outcome = await run(sandbox, code)
        assert isinstance(outcome, TransformedRequest)
        assert outcome.body == {"calls": 1, "polluted": "yes"}
        other = await run(sandbox, probe)
        assert isinstance(other, TransformedRequest)
        assert other.body == {"polluted": None}


async def test_fifty_concurrent_calls(sandbox: TransformSandbox) -> None:
    transformation = await sandbox.compile(
        "function handler(r) { r.headers['x-n'] = String(r.body.n); return r; }"
    )

    async def one(n: int) -> str:
        request = TransformInput.from_http(
            "POST", "https://a.example/", {"content-type": "application/json"}, b'{"n": %d}' % n
        )
        outcome = await sandbox.apply(transformation, request)
        assert isinstance(outcome, TransformedRequest)
        return outcome.headers["x-n"]

    assert await asyncio.gather(*(one(n) for n in range(50))) == [str(n) for n in range(50)]


# --- sharing the pool fairly -------------------------------------------------------------------

RUNAWAY = "function handler(r) { while (true) {} }"
HEALTHY = "function handler(r) { r.headers['x-ok'] = '1'; return r; }"


async def runaway_then_healthy(
    pool: TransformSandbox, endpoints: int, healthy_app: str
) -> tuple[asyncio.Task[Any], list[asyncio.Task[Any]]]:
    """``endpoints`` endpoints of app "runaway" loop forever, three calls each; then a healthy
    call of endpoint "fine" in ``healthy_app``.

    Returns once the healthy call or any runaway call is over, whichever comes first.
    """
    forever = await pool.compile(RUNAWAY)
    runaway = [
        asyncio.create_task(
            pool.apply(forever, REQUEST, timeout_ms=20_000, app="runaway", endpoint=f"loop{n}")
        )
        for n in range(endpoints)
        for _ in range(3)
    ]
    # Every runaway call runs or waits for a worker before the healthy one arrives.
    while pool.held("runaway") + pool.waiting("runaway") < len(runaway):
        await asyncio.sleep(0.01)
    healthy = asyncio.create_task(
        pool.apply(await pool.compile(HEALTHY), REQUEST, app=healthy_app, endpoint="fine")
    )
    await asyncio.wait([healthy, *runaway], return_when=asyncio.FIRST_COMPLETED)
    return healthy, runaway


async def stop(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_runaway_application_leaves_a_worker_to_the_others() -> None:
    pool = TransformSandbox(workers=2)  # one worker per application at most
    try:
        healthy, runaway = await runaway_then_healthy(pool, 5, "healthy")
        # The healthy call finished while every runaway call still runs or waits: the runaway
        # application held its one worker, never both.
        assert healthy.done() and not any(task.done() for task in runaway)
        outcome = healthy.result()
        assert isinstance(outcome, TransformedRequest) and outcome.headers["x-ok"] == "1"
        assert (pool.held("runaway"), pool.waiting("runaway")) == (1, 14)
        assert pool.held("healthy") == 0
        await stop(runaway)
        assert (pool.held("runaway"), pool.waiting("runaway")) == (0, 0)
    finally:
        await pool.close()


async def test_runaway_endpoint_leaves_a_worker_to_its_application() -> None:
    # Three workers: an application holds two at most, one endpoint one.
    pool = TransformSandbox(workers=3)
    try:
        healthy, runaway = await runaway_then_healthy(pool, 1, "runaway")
        assert healthy.done() and not any(task.done() for task in runaway)
        assert isinstance(healthy.result(), TransformedRequest)
        assert (pool.held("runaway", "loop0"), pool.waiting("runaway", "loop0")) == (1, 2)
        await stop(runaway)
    finally:
        await pool.close()


def test_error_text_is_reduced_to_message_and_line() -> None:
    assert (
        describe_js_error("transformation.js:4: RangeError: x\nmore") == "RangeError: x at line 4"
    )
    assert describe_js_error("hookd-call.js:2: TypeError: y\n") == "TypeError: y"


# --- identity round-trip ----------------------------------------------------------------------

# JavaScript numbers are doubles: integers beyond 2**53 cannot round-trip as numbers (the
# untouched-body path above keeps them as bytes instead).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=15,
)


@pytest.fixture(scope="module")
def identity_runner() -> Iterator[Any]:
    # Hypothesis drives plain functions, so this test runs its own loop and sandbox.
    loop = asyncio.new_event_loop()
    pool = TransformSandbox(workers=1)
    transformation = loop.run_until_complete(
        pool.compile(
            "function handler(r) { r.body = JSON.parse(JSON.stringify(r.body)); return r; }"
        )
    )

    def run_identity(body: object) -> object:
        request = TransformInput.from_http(
            "POST", "https://a.example/", {"content-type": "application/json"}, orjson.dumps(body)
        )
        return loop.run_until_complete(pool.apply(transformation, request))

    yield run_identity
    loop.run_until_complete(pool.close())
    loop.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_values)
def test_identity_round_trips_any_json_body(identity_runner: Any, body: object) -> None:
    outcome = identity_runner(body)
    assert isinstance(outcome, TransformedRequest)
    assert json_equal(outcome.body, body)  # strict: true stays true, not 1
    assert not outcome.body_changed
