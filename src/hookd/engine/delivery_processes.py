"""More processes that deliver: ``hookd serve`` with ``HOOKD_DELIVERY_PROCESSES`` above 1.

One process runs a Python event loop on one core. The serving process (role ``all``) keeps the
API, its own worker and the direct hand-off; once its worker has taken back what a previous run
left claimed, it starts ``HOOKD_DELIVERY_PROCESSES - 1`` children, each ``hookd serve --role
worker`` on the same database. They claim queued deliveries in claim rounds of their own, and
the scheduler's shared state in the database (in-flight counts, ``ready_at``, breakers, rate
buckets) keeps them fair and within every limit, as with workers on PostgreSQL.

Each child gets the read end of a pipe from its parent:

- a byte on it is a wake-up: the parent queued deliveries (``Runtime.wake``), so the children
  look at once instead of at their next poll;
- end of file means the parent is gone, stopped or killed: the child stops as on SIGTERM,
  finishing or releasing what it holds. No child outlives its parent, so none races the next
  start's taking back of everything left claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from hookd.config import Settings

log = structlog.get_logger("hookd")

# The environment variable that hands a child the file descriptor of its end of the pipe.
PARENT_PIPE_ENV = "HOOKD_PARENT_PIPE_FD"
# How long a child may take to stop beyond the shutdown grace before it is killed.
STOP_MARGIN_SECONDS = 5.0


# A child that exits while its parent still runs is started again after this long.
RESTART_SECONDS = 1.0


@dataclass(slots=True)
class _Child:
    process: asyncio.subprocess.Process
    pipe: int  # the write end; -1 once closed


class DeliveryProcesses:
    """The children of one serving process: start them, keep them running, wake and stop them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._children: list[_Child] = []
        self._keepers: list[asyncio.Task[None]] = []
        self._stopping = False
        self._env = {
            **os.environ,
            "HOOKD_ROLE": "worker",
            "HOOKD_DATABASE_URL": settings.effective_database_url,
            "HOOKD_DELIVERY_PROCESSES": "1",
        }

    async def start(self) -> None:
        for slot in range(self.settings.delivery_processes - 1):
            self._children.append(await self._spawn())
            self._keepers.append(asyncio.create_task(self._keep(slot)))
        log.info("delivery processes started", children=[c.process.pid for c in self._children])

    async def _spawn(self) -> _Child:
        read, write = os.pipe()
        os.set_blocking(write, False)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hookd",
                "serve",
                env={**self._env, PARENT_PIPE_ENV: str(read)},
                pass_fds=(read,),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            os.close(write)
            raise
        finally:
            os.close(read)
        return _Child(process, write)

    async def _keep(self, slot: int) -> None:
        """Start the slot's child again whenever it exits before it was asked to."""
        while True:
            child = self._children[slot]
            code = await child.process.wait()
            if self._stopping:
                return
            log.error("delivery process exited; starting another", pid=child.process.pid, code=code)
            _close(child)
            await asyncio.sleep(RESTART_SECONDS)
            if self._stopping:
                return
            try:
                self._children[slot] = await self._spawn()
            except OSError:
                log.exception("could not start a delivery process")

    def wake(self) -> None:
        """Tell every child that deliveries were queued (never blocks)."""
        for child in self._children:
            if child.pipe >= 0:
                # Full (a wake-up is already waiting) or broken (the child is gone): nothing to do.
                with contextlib.suppress(OSError):
                    os.write(child.pipe, b"w")

    def request_stop(self) -> None:
        """Ask every child to stop (end of file on its pipe, and SIGTERM)."""
        self._stopping = True
        for child in self._children:
            _close(child)
            if child.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)

    async def wait_stopped(self, grace: float) -> None:
        """Wait for the children to finish their work and exit; kill stragglers."""
        for keeper in self._keepers:
            keeper.cancel()
        for child in self._children:
            try:
                await asyncio.wait_for(child.process.wait(), grace + STOP_MARGIN_SECONDS)
            except TimeoutError:
                log.warning("delivery process did not stop; killing it", pid=child.process.pid)
                child.process.kill()
                await child.process.wait()
        self._children, self._keepers = [], []


def _close(child: _Child) -> None:
    if child.pipe >= 0:
        os.close(child.pipe)
        child.pipe = -1


def children_for(settings: Settings) -> DeliveryProcesses | None:
    """The children a process with these settings starts, if any (role ``all`` only)."""
    if settings.delivery_processes <= 1 or settings.role != "all":
        return None
    return DeliveryProcesses(settings)


def watch_parent(wake: Callable[[], None], parent_gone: Callable[[], None]) -> Callable[[], None]:
    """In a child: call ``wake`` on each wake-up from the parent, ``parent_gone`` at end of file.
    Returns the function that stops watching. Does nothing outside a child."""
    value = os.environ.get(PARENT_PIPE_ENV)
    if not value:
        return lambda: None
    fd = int(value)
    os.set_blocking(fd, False)
    loop = asyncio.get_running_loop()
    watching = True

    def unwatch() -> None:
        nonlocal watching
        if watching:
            watching = False
            loop.remove_reader(fd)
            os.close(fd)

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            wake()
            return
        unwatch()
        log.info("the serving process is stopping or gone; stopping too")
        parent_gone()

    loop.add_reader(fd, readable)
    return unwatch
