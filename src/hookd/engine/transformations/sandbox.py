"""Run JavaScript transformations in V8 (mini-racer) inside sandbox worker processes.

Why processes and not threads: a single JavaScript statement such as
``new Array(2**28).fill(1)`` makes V8 abort the whole process ("Fatal JavaScript out of
memory"), which no in-process limit can catch. So V8 only ever runs in small worker processes
(``python -m hookd.engine.transformations.child``, their own program) that talk newline-delimited
JSON over stdin/stdout, one call at a time each. This module is the parent's pool: a crashed
or stuck worker is killed and replaced; only its own call fails.

Limits, from the inside out: mini-racer's timeout and hard heap limit per call; the worker's
``RLIMIT_DATA`` for memory outside the V8 heap (ArrayBuffers); the parent's deadline, which
kills a worker that does not answer within the time limit plus a grace period.
Every call gets a fresh V8 context, so no state survives from one call (or endpoint) to the next.

Sharing: the pool is one per process (the runtime's, ``engine.runtime.Runtime.sandbox``, closed
when the runtime stops), shared by every application. Calls wait per application
and endpoint and get workers in turns, and no application (endpoint) holds more than its share
of the workers at once (``hookd.core.fair_share``), so one application's runaway code occupies
only its own share until its time limit kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from hookd.core.fair_share import FairQueue, Turn, shares
from hookd.core.transformations import (
    ErrorKind,
    Transformation,
    TransformError,
    TransformInput,
    TransformOutcome,
    code_problem,
    parse_outcome,
)
from hookd.engine.transformations.child import READY, failure

# The worker imports hookd from where this file is, whether or not hookd is installed.
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
DEFAULT_TIMEOUT_MS = 1_000
DEFAULT_MAX_MEMORY = 64 * 1024 * 1024
DEFAULT_WORKERS = 2
# Memory a worker may use outside the V8 heap (ArrayBuffer backing stores), on top of its
# baseline; V8 does not count those against the heap limit.
DEFAULT_OFF_HEAP_LIMIT = 512 * 1024 * 1024
# Context creation, teardown and the pipe on top of the script's own time limit.
_GRACE_SECONDS = 1.0
# A worker says it is ready (V8 loaded, limits set) before its first call; one that does not
# within this time failed to start.
_START_SECONDS = 30.0
_PIPE_LIMIT = 256 * 1024 * 1024


class TransformSandbox:
    """A small pool of V8 worker processes; create one per process and ``close`` it.

    ``app_slots`` and ``endpoint_slots`` cap the workers one application (endpoint) holds at
    once; by default each level leaves one worker to the others (``fair_share.shares``).
    """

    def __init__(
        self,
        workers: int = DEFAULT_WORKERS,
        *,
        off_heap_limit: int = DEFAULT_OFF_HEAP_LIMIT,
        app_slots: int | None = None,
        endpoint_slots: int | None = None,
    ) -> None:
        self._size = workers
        self._off_heap_limit = off_heap_limit
        default_app, default_endpoint = shares(workers)
        self._queue: FairQueue[asyncio.Future[_Worker]] = FairQueue(
            app_slots or default_app, endpoint_slots or default_endpoint
        )
        self._idle: list[_Worker] | None = None
        self._all: set[_Worker] = set()

    def held(self, app: str, endpoint: str | None = None) -> int:
        """Workers running a call of ``app`` (or of one of its endpoints) now."""
        return self._queue.held(app, endpoint)

    def waiting(self, app: str, endpoint: str | None = None) -> int:
        """Calls of ``app`` (or of one of its endpoints) waiting for a worker."""
        return self._queue.waiting(app, endpoint)

    def running(self) -> int:
        """Worker processes running now (they start on first use)."""
        return sum(1 for worker in self._all if worker.running)

    async def compile(
        self,
        code: str,
        *,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        max_memory: int = DEFAULT_MAX_MEMORY,
        app: str = "",
    ) -> Transformation:
        """Check ``code`` parses, runs and defines ``handler``; ``TransformError`` if not.

        ``app`` is whose turn the check takes; by default every save-time check shares one.
        """
        problem = code_problem(code)
        if problem is not None:
            raise TransformError("code", problem)
        await self._call({"op": "compile", "code": code}, timeout_ms, max_memory, app, "")
        return Transformation(code)

    async def apply(
        self,
        transformation: Transformation,
        request: TransformInput,
        *,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        max_memory: int = DEFAULT_MAX_MEMORY,
        app: str = "",
        endpoint: str = "",
    ) -> TransformOutcome:
        """Run the handler on ``request``: the request to send instead, or ``Cancelled``.

        ``app`` and ``endpoint`` say whose turn and share the call takes.
        """
        call = {"op": "apply", "code": transformation.code, "input": request.to_json().decode()}
        reply = await self._call(call, timeout_ms, max_memory, app, endpoint)
        if reply.get("undefined"):
            raise TransformError(
                "output", "handler returned undefined; return the request, or null to cancel"
            )
        return parse_outcome(
            reply.get("result"), request, body_unchanged=bool(reply.get("bodyUnchanged"))
        )

    async def close(self) -> None:
        """Stop every worker."""
        workers, self._all, self._idle = self._all, set(), None
        for worker in workers:
            await worker.stop()

    async def _call(
        self, call: dict[str, Any], timeout_ms: int, max_memory: int, app: str, endpoint: str
    ) -> Any:
        turn = await self._acquire(app, endpoint)
        worker = turn.item.result()
        try:
            reply = await worker.call(
                {**call, "timeout_ms": timeout_ms, "max_memory": max_memory},
                deadline=timeout_ms / 1000 + _GRACE_SECONDS,
                max_memory=max_memory,
            )
            if not worker.running and worker in self._all:
                # Crashed or killed: its replacement starts in this call's turn, so the next
                # caller (maybe another application) gets a ready worker.
                with contextlib.suppress(TransformError):
                    await worker.start()
        finally:
            self._release(turn, worker)
        if not reply.get("ok"):
            kind: ErrorKind = reply.get("kind", "runtime")
            raise TransformError(kind, str(reply.get("message")))
        return orjson.loads(reply["result"]) if "result" in reply else None

    async def _acquire(self, app: str, endpoint: str) -> Turn[asyncio.Future[_Worker]]:
        """Wait for this application's and endpoint's turn and a free worker."""
        if self._idle is None:
            self._idle = [_Worker(self._off_heap_limit) for _ in range(self._size)]
            self._all = set(self._idle)
        waiter: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._queue.push(app, endpoint, waiter)
        self._dispatch()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Handed a worker just as the caller gave up: give it back.
                self._release(Turn(app, endpoint, waiter), waiter.result())
            else:
                self._queue.remove(app, endpoint, waiter)
            raise
        return Turn(app, endpoint, waiter)

    def _release(self, turn: Turn[asyncio.Future[_Worker]], worker: _Worker) -> None:
        self._queue.release(turn)
        if self._idle is not None and worker in self._all:  # not closed meanwhile
            self._idle.append(worker)
            self._dispatch()

    def _dispatch(self) -> None:
        """Hand free workers to the waiting calls whose turn it is."""
        idle = self._idle
        while idle:
            turn = self._queue.pop()
            if turn is None:
                return
            if turn.item.done():  # its caller gave up after queueing
                self._queue.release(turn)
                continue
            turn.item.set_result(idle.pop())


class _Worker:
    """One sandbox process, started on first use and replaced after a crash or a kill."""

    def __init__(self, off_heap_limit: int) -> None:
        self._off_heap_limit = off_heap_limit
        self._process: asyncio.subprocess.Process | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Start the process unless it runs; ``TransformError`` if it cannot start."""
        if not self.running:
            self._process = await self._start()

    async def call(self, call: dict[str, Any], *, deadline: float, max_memory: int) -> Any:
        await self.start()
        process = self._process
        assert process is not None
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(orjson.dumps(call) + b"\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), deadline)
        except TimeoutError:
            await self.stop()
            return failure("timeout", f"timed out after {call['timeout_ms']} ms")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            line = b""
        except asyncio.CancelledError:
            # The caller gave up mid-call: the worker's answer would confuse the next call.
            await self.stop()
            raise
        if not line:
            await self.stop()
            mib = max_memory // (1024 * 1024)
            return failure("memory", f"crashed the sandbox (most likely exceeded {mib} MB)")
        return orjson.loads(line)

    async def _start(self) -> asyncio.subprocess.Process:
        if importlib.util.find_spec("py_mini_racer") is None:
            # Without this check the worker would die on import and look like a crash.
            raise TransformError(
                "runtime", "JavaScript transformations need mini-racer: hookd[transformations]"
            )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE_ROOT, env.get("PYTHONPATH")]))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hookd.engine.transformations.child",
            str(self._off_heap_limit),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # V8's own fatal-error dumps are not useful to hookd's users; the caller gets a
            # TransformError instead.
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=_PIPE_LIMIT,
        )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), _START_SECONDS)
        except (TimeoutError, ConnectionError, ValueError):
            line = b""
        except asyncio.CancelledError:
            await _kill(process)
            raise
        if line.strip() != READY:
            await _kill(process)
            raise TransformError("runtime", "the sandbox process did not start")
        return process

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await _kill(process)


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()
