"""The sandbox worker process: ``python -m hookd.engine.transformations.child OFF_HEAP_LIMIT``.

Runs JavaScript transformations in V8 (mini-racer) for the pool in
``engine.transformations.sandbox``, which
starts it and talks to it: one JSON request per stdin line, one JSON reply per stdout line, one
call at a time. It writes ``READY`` once V8 is loaded and its memory limit is set. Every call
gets a fresh V8 context, so no state survives from one call (or endpoint) to the next.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from typing import Any

import orjson

from hookd.core.transformations import ErrorKind, TransformError

# The first line a worker writes, once ready for calls.
READY = b'{"ready":true}'
_SOURCE_URL = "transformation.js"

# Runs after the user's code: calls handler on a fresh copy of the input and reports whether
# the body came back untouched, so its original bytes (and signatures over them) can be kept.
_CALL = """(function (request) {
  const bodyBefore = JSON.stringify(request.body);
  const result = handler(request);
  if (result && typeof result.then === "function") {
    throw new TypeError("handler returned a Promise; transformations are synchronous");
  }
  const bodyUnchanged = result !== null && typeof result === "object" &&
    JSON.stringify(result.body) === bodyBefore;
  return JSON.stringify(result === undefined ? { undefined: true } : { result, bodyUnchanged });
})(JSON.parse(%s))
//# sourceURL=hookd-call.js"""
# WebAssembly memories live outside the V8 heap and could be grown past any heap limit.
_PRELUDE = "delete globalThis.WebAssembly;"


def failure(kind: ErrorKind, message: str) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "message": message}


def _serve(off_heap_limit: int) -> None:
    """Worker main loop: one JSON request per stdin line, one JSON reply per stdout line."""
    from py_mini_racer import mini_racer

    # mini-racer drives every isolate through an asyncio loop; one shared loop thread makes a
    # fresh context cost ~3 ms instead of ~11 ms with a loop thread per context.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    with mini_racer(loop) as warm:
        warm.eval("0")  # the first context maps V8's shared memory; count it in the baseline
    _limit_off_heap_memory(off_heap_limit)
    sys.stdout.buffer.write(READY + b"\n")
    sys.stdout.buffer.flush()
    for line in sys.stdin.buffer:
        call = orjson.loads(line)
        try:
            reply = {"ok": True, **_evaluate(loop, call)}
        except TransformError as exc:
            reply = failure(exc.kind, exc.message)
        sys.stdout.buffer.write(orjson.dumps(reply) + b"\n")
        sys.stdout.buffer.flush()


def _limit_off_heap_memory(extra: int) -> None:
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        baseline = int(fields["VmData"].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (baseline + extra, baseline + extra))
    except (ImportError, OSError, KeyError, ValueError):
        pass  # not Linux: the parent's deadline and kill remain the backstop


def _evaluate(loop: asyncio.AbstractEventLoop, call: dict[str, Any]) -> dict[str, Any]:
    from py_mini_racer import mini_racer

    started = time.monotonic()
    budget: float = call["timeout_ms"] / 1000

    def remaining() -> float:
        return max(0.001, budget - (time.monotonic() - started))

    stage = "prelude"
    with mini_racer(loop) as racer:
        racer.set_hard_memory_limit(call["max_memory"])
        try:
            racer.eval(_PRELUDE)
            stage = "define"
            racer.eval(f"{call['code']}\n//# sourceURL={_SOURCE_URL}", timeout_sec=remaining())
            stage = "call"
            if call["op"] == "compile":
                if racer.eval("typeof handler") != "function":
                    raise TransformError("code", "the code must define function handler(request)")
                return {}
            literal = json.dumps(call["input"])  # a JS string literal holding the JSON text
            return {"result": racer.eval(_CALL % literal, timeout_sec=remaining())}
        except TransformError:
            raise
        except Exception as exc:
            text = str(exc)
            if stage == "define":
                # A syntax error stops V8 before it reads the sourceURL comment.
                text = text.replace("<anonymous>:", f"{_SOURCE_URL}:", 1)
            raise _translate(exc, text, call, racer.was_hard_memory_limit_reached()) from None


def _translate(exc: Exception, text: str, call: dict[str, Any], memory_hit: bool) -> TransformError:
    from py_mini_racer import JSOOMException, JSParseException, JSTimeoutException

    if isinstance(exc, JSOOMException) or memory_hit:
        return TransformError("memory", f"exceeded {call['max_memory'] // (1024 * 1024)} MB")
    if isinstance(exc, JSTimeoutException):
        return TransformError("timeout", f"timed out after {call['timeout_ms']} ms")
    kind: ErrorKind = "syntax" if isinstance(exc, JSParseException) else "runtime"
    return TransformError(kind, describe_js_error(text))


def describe_js_error(text: str) -> str:
    """``transformation.js:3: TypeError: x is null`` -> ``TypeError: x is null at line 3``."""
    first = text.split("\n", 1)[0]
    source, _, rest = first.partition(":")
    line, _, message = rest.partition(": ")
    if source == _SOURCE_URL and line.isdigit():
        return f"{message} at line {line}"
    if line.isdigit():
        return message  # thrown by hookd's own call wrapper, e.g. an unserialisable result
    return first


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
