"""`hookd serve` with HOOKD_DELIVERY_PROCESSES=2 on SQLite: a child `--role worker` process
delivers beside the serving one. Each delivery arrives once, the per-endpoint in-flight cap holds
across both processes, the child stops with its parent (even a killed one) and is started again
if it dies, and a configuration change another process writes is seen by the next create."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import psutil

from tests.integration.engine_support import (
    client,
    create_app,
    create_endpoint,
    gated_receiver,
    send,
)
from tests.support import HookdServer, NewServer, Receiver, eventually

TWO = {"HOOKD_DELIVERY_PROCESSES": "2", "HOOKD_SHUTDOWN_GRACE": "1"}


def log_lines(server: HookdServer, event: str) -> list[dict[str, object]]:
    lines = server.log_path.read_text().splitlines()
    return [orjson.loads(ln) for ln in lines if ln.startswith("{") and f'"{event}"' in ln]


def child_pids(server: HookdServer) -> list[int]:
    [started] = log_lines(server, "delivery processes started")
    children = started["children"]
    assert isinstance(children, list)
    return [int(pid) for pid in children]


async def soon(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """``eventually`` for a plain (not async) check."""

    async def checked() -> Any:
        return check()

    return await eventually(checked, timeout=timeout)


async def succeeded(api: httpx.AsyncClient, app_id: str, endpoint_id: str, count: int) -> bool:
    """Whether ``count`` attempts at the endpoint are recorded as successes."""
    page = await api.get(f"/api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}")
    return [a["status"] for a in page.json()["data"]] == [0] * count


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_both_processes_deliver_and_each_delivery_arrives_once(
    new_server: NewServer, receiver: Receiver
) -> None:
    # Four slots per process: the serving one's fill at once, so the child claims the rest.
    server = new_server({**TWO, "HOOKD_CONCURRENCY": "4"})
    server.start()
    [child] = child_pids(server)
    assert server.process is not None
    assert psutil.Process(child).ppid() == server.process.pid
    await soon(lambda: log_lines(server, "hookd worker started"))  # the child is ready
    async with client(server) as api:
        app_id = await create_app(api, "two")
        await create_endpoint(api, app_id, url=receiver.url_for("/first"))
        await create_endpoint(api, app_id, url=receiver.url_for("/second"))
        sent = await asyncio.gather(*(send(api, app_id, n) for n in range(150)))
        await receiver.wait_for(300, timeout=60)
    server.terminate()
    arrived = [(r.path, r.headers["webhook-id"]) for r in receiver.requests]
    assert sorted(arrived) == sorted((p, m) for p in ("/first", "/second") for m in sent)
    counts = log_lines(server, "delivery worker stopped")
    assert len(counts) == 2  # the serving process's worker and the child's
    assert sum(int(c["claimed"]) + int(c["handed_off"]) for c in counts) == 300  # type: ignore[call-overload]
    [by_child] = [c for c in counts if c["pid"] == child]
    assert int(by_child["claimed"]) > 0  # type: ignore[call-overload]
    assert gone(child)


async def test_the_per_endpoint_cap_holds_across_processes(new_server: NewServer) -> None:
    """The serving process's hand-off counts the child's deliveries in flight too."""
    server = new_server({**TWO, "HOOKD_ENDPOINT_CONCURRENCY": "3", "HOOKD_CONCURRENCY": "3"})
    server.start()
    await soon(lambda: log_lines(server, "hookd worker started"))  # the child is ready
    async with (
        gated_receiver() as (first, first_gate),
        gated_receiver() as (second, second_gate),
        client(server) as api,
    ):
        busy_app = await create_app(api, "busy")
        busy = await create_endpoint(api, busy_app, url=first.url)
        capped_app = await create_app(api, "capped")
        await create_endpoint(api, capped_app, url=second.url)
        # The serving process's three slots go to the first endpoint (handed off)...
        for n in range(3):
            await send(api, busy_app, n)
        await soon(lambda: first_gate.in_flight.get("/hook", 0) == 3)
        # ...so the second endpoint's three deliveries queue, and the child claims them.
        sent = [await send(api, capped_app, n) for n in range(3)]
        await soon(lambda: second_gate.in_flight.get("/hook", 0) == 3)
        first_gate.released.set()  # the serving process's slots free up
        await first.wait_for(3, timeout=20)
        await eventually(lambda: succeeded(api, busy_app, busy["id"], 3))  # slots are free
        # Nothing of the second endpoint is queued, and the serving process has free slots:
        # only the database's count of the child's deliveries keeps this one from starting.
        sent.append(await send(api, capped_app, 3))
        # A retry is claimed in a worker round, never handed off, and the child's slots are all
        # taken: once a later message's retry arrives, a round of the serving process has
        # looked at the queue that holds the capped delivery.
        first.responses = [500]
        await send(api, busy_app, 3)
        await first.wait_for(5, timeout=20)
        assert second_gate.max_in_flight["/hook"] == 3
        second_gate.released.set()
        await second.wait_for(4, timeout=30)
        assert second_gate.max_in_flight["/hook"] == 3
    assert sorted(r.headers["webhook-id"] for r in second.requests) == sorted(sent)


async def test_a_killed_parent_takes_its_child_down_and_a_dead_child_is_replaced(
    new_server: NewServer, receiver: Receiver
) -> None:
    server = new_server(TWO)
    server.start()
    [child] = child_pids(server)
    os.kill(child, signal.SIGKILL)
    await soon(lambda: log_lines(server, "delivery process exited; starting another"))
    assert server.process is not None
    serving = server.process.pid
    replaced = await soon(
        lambda: [p.pid for p in psutil.Process(serving).children() if p.pid != child]
    )
    async with client(server) as api:  # still delivering
        app_id = await create_app(api, "after")
        await create_endpoint(api, app_id, url=receiver.url)
        await send(api, app_id, 1)
        await receiver.wait_for(1, timeout=20)

    server.kill()  # SIGKILL: the child sees its pipe close and stops on its own
    await soon(lambda: all(gone(pid) for pid in replaced), timeout=20)


async def test_an_endpoint_disabled_by_another_process_gets_no_new_deliveries(
    new_server: NewServer, receiver: Receiver
) -> None:
    server = new_server()  # one process: its cache of endpoints is warm after the first send
    server.start()
    async with client(server) as api:
        app_id = await create_app(api, "clock")
        endpoint = await create_endpoint(api, app_id, url=receiver.url)
        await send(api, app_id, 1)
        await receiver.wait_for(1, timeout=20)

        # Another process (a delivery process, a tool) disables it in the database file.
        other = sqlite3.connect(server.data_dir / "hookd.db", isolation_level=None)
        other.execute("UPDATE endpoints SET disabled = 1 WHERE id = ?", (endpoint["id"],))
        other.close()

        second = await send(api, app_id, 2)
        # Deliveries are written with their message: none for the disabled endpoint.
        destinations = await api.get(f"/api/v1/app/{app_id}/msg/{second}/endpoint")
        assert destinations.json()["data"] == []
        assert len(receiver.requests) == 1
        attempts = await api.get(f"/api/v1/app/{app_id}/attempt/endpoint/{endpoint['id']}")
        assert len(attempts.json()["data"]) == 1
