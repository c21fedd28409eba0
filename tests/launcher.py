"""hookd commands for the tests, run in forks of a fork server that has already imported hookd.

A `python -m hookd serve` spends ~3 s importing before hookd runs a line, and the suite starts
some sixty servers and runs `hookd migrate` for every PostgreSQL database it creates. A
multiprocessing fork server imports the heavy modules once (``PRELOAD``); each command then runs
in a fresh fork of it, set up as a new `python -m hookd ...` process would be: its own
environment and working directory, stdin on /dev/null, stdout and stderr in files, the signal
handlers a fresh interpreter has, and the command's exit status (or the signal that killed it)
as its return code.

``HOOKD_TEST_SUBPROCESS=1`` makes every command a real `python -m hookd` subprocess instead (what
the suite did before; to rule the launcher out when a test behaves oddly).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from multiprocessing import forkserver, resource_tracker
from multiprocessing.context import ForkServerProcess
from pathlib import Path
from typing import Protocol

# What `hookd serve`, `migrate` and `prune` import, early and late (`python -X importtime`); a
# fork imports almost nothing more. None of them starts a thread or an event loop on import,
# which a fork would not survive. "__main__" is multiprocessing's default: a fork server that
# already holds the main script (pytest's) does not import it again in every fork.
# tests.fork_server_heap must stay last: it freezes the heap of everything imported before it.
PRELOAD = [
    "__main__",
    "hookd.cli",
    "hookd.api.app",
    "hookd.engine.runtime",
    "hookd.engine.queue.dispatch",
    "hookd.engine.queue.index",
    "hookd.services.retention",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "uvicorn.lifespan.on",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.auto",
    "encodings.idna",
    "fastapi.telemetry._runtime",
    "typer._adapters",
    # The API's commands (`hookd app list`, ...): their client, tables and YAML.
    "httpx",
    "rich.console",
    "rich.progress",
    "rich.table",
    "yaml",
    "tests.launcher",
    "tests.fork_server_heap",
]


def subprocesses_only() -> bool:
    """Whether HOOKD_TEST_SUBPROCESS=1 asks for real `python -m hookd` subprocesses."""
    return os.environ.get("HOOKD_TEST_SUBPROCESS") == "1"


class HookdProcess(Protocol):
    """What the tests use of a running command: ``subprocess.Popen`` and ``Launched`` both fit."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


class Launched:
    """A hookd command running in a fork of the fork server, with ``subprocess.Popen``'s ways."""

    def __init__(self, args: list[str], process: ForkServerProcess) -> None:
        self.args = args
        self._process = process
        assert process.pid is not None
        self.pid: int = process.pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            # The fork server reaps the child and sends its exit code (or minus the signal).
            code = self._process.exitcode
            if code is not None:
                self.returncode = code
                self._process.close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.poll() is None:
            self._process.join(timeout)
            if self.poll() is None:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        # Polled first, as Popen does: a pid whose exit is known may belong to someone else now.
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def start_hookd(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdout: Path,
    stderr: Path | None = None,
    fresh_interpreter: bool = False,
) -> HookdProcess:
    """Start `hookd ARGS`, appending its stdout (and stderr, unless given a file of its own) to
    ``stdout``. ``fresh_interpreter`` (or HOOKD_TEST_SUBPROCESS=1) runs `python -m hookd`."""
    if fresh_interpreter or subprocesses_only():
        with contextlib.ExitStack() as files:
            out = files.enter_context(stdout.open("ab"))
            err = files.enter_context(stderr.open("ab")) if stderr else subprocess.STDOUT
            return subprocess.Popen(
                [sys.executable, "-m", "hookd", *args],
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
    process = _fork_server().Process(
        target=_run_hookd,
        args=(list(args), dict(env), str(cwd), str(stdout), str(stderr or stdout)),
        name=f"hookd {' '.join(args)}",
        # multiprocessing stops daemonic children when this process exits, instead of waiting.
        daemon=True,
    )
    process.start()
    launched = Launched(["hookd", *args], process)
    _launched.append(launched)
    return launched


def run_hookd(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `hookd ARGS` to the end, like ``subprocess.run(..., capture_output=True, text=True)``."""
    with tempfile.TemporaryDirectory(prefix="hookd-run-") as directory:
        stdout, stderr = Path(directory, "stdout"), Path(directory, "stderr")
        process = start_hookd(
            args,
            env=os.environ if env is None else env,
            cwd=cwd or Path.cwd(),
            stdout=stdout,
            stderr=stderr,
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        done = subprocess.CompletedProcess(
            ["hookd", *args], code, stdout.read_text(), stderr.read_text()
        )
    if check:
        done.check_returncode()
    return done


def shutdown() -> None:
    """Kill what still runs and stop the fork server (at the end of the test session)."""
    while _launched:
        process = _launched.pop()
        if process.poll() is None:
            process.kill()
            process.wait()
    global _started
    with _lock:
        if _started:
            # Private, and used so by CPython's own tests: there is no public way to stop them.
            forkserver._forkserver._stop()  # type: ignore[attr-defined]
            resource_tracker._resource_tracker._stop()  # type: ignore[attr-defined]
            _started = False


_launched: list[Launched] = []
_lock = threading.Lock()
_started = False


def _fork_server() -> multiprocessing.context.ForkServerContext:
    global _started
    context = multiprocessing.get_context("forkserver")
    with _lock:
        if not _started:
            context.set_forkserver_preload(PRELOAD)
            # The fork server imports PRELOAD before it hears of this process's sys.path (the
            # forks get it, the server does not), so it gets it as PYTHONPATH: the same hookd.
            saved = os.environ.get("PYTHONPATH")
            os.environ["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
            try:
                forkserver.ensure_running()
            finally:
                if saved is None:
                    del os.environ["PYTHONPATH"]
                else:
                    os.environ["PYTHONPATH"] = saved
            _started = True
    return context


# --- in the fork --------------------------------------------------------------------------------


def _run_hookd(args: list[str], env: dict[str, str], cwd: str, stdout: str, stderr: str) -> None:
    """Become `python -m hookd ARGS` and end the way that process would."""
    _leave_the_fork_server()
    _redirect(stdout, stderr)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()  # the fork server read TZ when it started
    os.chdir(cwd)
    sys.argv = ["-m", *args]  # runpy puts the module's path first, as `python -m` does
    import runpy

    code, interrupted = 0, False
    try:
        runpy.run_module("hookd", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = _exit_status(exc)
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
        interrupted = True
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    _finalize()
    if interrupted:  # the interpreter dies of the SIGINT, so its parent sees it
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code)


def _leave_the_fork_server() -> None:
    """Close what the fork inherited from the fork server and a fresh process would not hold.

    Each fork holds the write end of the fork server's "alive" pipe: the server only stops when
    every fork has let go of it, so a server still running would keep it (and ``shutdown()``)
    waiting."""
    server = forkserver._forkserver
    tracker = resource_tracker._resource_tracker
    for owner, name in ((server, "_forkserver_alive_fd"), (tracker, "_fd")):
        fd = getattr(owner, name, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
            setattr(owner, name, None)


def _redirect(stdout: str, stderr: str) -> None:
    """stdin from /dev/null, stdout and stderr appended to files, new ``sys`` streams on them."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    for fd, path, mode in ((0, os.devnull, os.O_RDONLY), (1, stdout, flags), (2, stderr, flags)):
        if fd == 2 and stderr == stdout:
            os.dup2(1, 2)  # one open file, as stderr=subprocess.STDOUT gives
            continue
        opened = os.open(path, mode, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    encoding = sys.stdout.encoding if sys.stdout else "utf-8"
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    # What the interpreter opens on files: stdout block-buffered, stderr line-buffered and never
    # failing on a character. sys.__stdout__ and sys.__stderr__ (the fork server's) write to the
    # same descriptors, so to the same files.
    sys.stdout = open(1, "w", encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stderr = open(  # noqa: SIM115
        2, "w", buffering=1, encoding=encoding, errors="backslashreplace", closefd=False
    )


def _exit_status(exc: SystemExit) -> int:
    """The exit status the interpreter makes of an uncaught ``SystemExit``."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _finalize() -> None:
    """What the interpreter does on the way out: wait for threads, run atexit, flush."""
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()
