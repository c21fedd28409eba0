"""Nothing accepted is lost: crashes, restarts and graceful shutdown."""

from __future__ import annotations

import asyncio

import standardwebhooks
from aiohttp import web
from svix.api import ApplicationIn, EndpointIn, MessageIn, SvixAsync

from tests.conftest import svix_for
from tests.support import HookdServer, NewServer, Received, Receiver, eventually


async def test_killed_mid_retry_still_delivers_after_restart(
    new_server: NewServer, receiver: Receiver
) -> None:
    """The done-when scenario: fail, crash (SIGKILL) before the retry, restart, delivered."""
    server = new_server({"HOOKD_RETRY_SCHEDULE": "3,3"})
    server.start()
    svix = svix_for(server)
    receiver.responses = [500]
    app = await svix.application.create(ApplicationIn(name="crash"))
    ep = await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    secret = (await svix.endpoint.get_secret(app.id, ep.id)).key
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={"crash": 1}))
    await receiver.wait_for(1)
    server.kill()  # the retry is due in ~3 s; the process is gone before then
    await receiver.drained()  # all the dead process sent is in
    assert len(receiver.requests) == 1

    server.start()
    [_, retried] = await receiver.wait_for(2, timeout=20)
    standardwebhooks.Webhook(secret).verify(retried.body, retried.headers)
    assert retried.headers["webhook-id"] == msg.id


async def test_killed_during_an_attempt_redelivers_after_restart(
    new_server: NewServer, receiver: Receiver
) -> None:
    server = new_server()
    server.start()
    msg_id, hang = await _held_attempt(svix_for(server), receiver, "inflight")
    server.kill()  # the attempt is in flight: its delivery row is still claimed
    hang.set()

    server.start()
    requests = await receiver.wait_for(2, timeout=20)
    assert requests[1].headers["webhook-id"] == msg_id


async def test_graceful_shutdown_is_quick_and_loses_nothing(
    new_server: NewServer, receiver: Receiver
) -> None:
    server = new_server({"HOOKD_SHUTDOWN_GRACE": "2", "HOOKD_REQUEST_TIMEOUT": "30"})
    server.start()
    svix = svix_for(server)

    async def very_slow(_: Received) -> web.Response:
        await asyncio.sleep(60)
        return web.Response(status=200)

    receiver.responses = [very_slow]
    app = await svix.application.create(ApplicationIn(name="graceful"))
    await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))
    await receiver.wait_for(1)

    took = await asyncio.to_thread(server.terminate)
    assert took < 10, f"shutdown took {took:.1f} s"
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status is -SIGTERM.
    assert server.process is not None and server.process.returncode in (0, -15)
    log = server.log_path.read_text()
    assert "released unfinished deliveries" in log and "hookd stopped" in log

    server.start()  # the released delivery is sent again
    requests = await receiver.wait_for(2, timeout=20)
    assert requests[1].headers["webhook-id"] == msg.id

    async def succeeded() -> bool:
        svix2 = svix_for(server)
        [dest] = (await svix2.message_attempt.list_attempted_destinations(app.id, msg.id)).data
        return dest.status == 0

    await eventually(succeeded)


async def test_accepted_messages_survive_a_crash_before_delivery(
    new_server: NewServer, receiver: Receiver
) -> None:
    """A 2xx from the API means the message and its deliveries are on disk."""
    server = new_server()
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="ondisk"))
    await svix.endpoint.create(app.id, EndpointIn(url=receiver.url, disabled=False))
    receiver.default = 503  # keep them pending
    ids = [
        (await svix.message.create(app.id, MessageIn(event_type="a.b", payload={"i": i}))).id
        for i in range(20)
    ]
    server.kill()
    receiver.default = 204
    server.start()

    async def all_delivered() -> bool:
        delivered = {r.headers["webhook-id"] for r in receiver.requests if r.headers}
        return set(ids) <= delivered

    await eventually(all_delivered, timeout=30)


async def test_a_killed_workers_deliveries_come_back_soon_after_their_lease(
    new_server: NewServer, receiver: Receiver
) -> None:
    """kill -9 mid-delivery: another worker sends it again within the lease plus a few seconds
    (the check for leases that ran out is every 2 s, no longer every half lease), and logs it."""
    lease = 24
    env = {"HOOKD_LEASE_SECONDS": str(lease)}
    server = new_server(env, name="api")  # role all: its own worker takes the create's delivery
    server.start()
    survivor = new_server(
        {
            **env,
            "HOOKD_ROLE": "worker",
            "HOOKD_DATABASE_URL": f"sqlite:///{server.data_dir / 'hookd.db'}",
        },
        name="worker",
    )
    survivor.start(wait_healthy=False)
    await eventually(lambda: _logged(survivor, "hookd worker started"), timeout=30)

    # The serving process's worker sends it (hand-off).
    msg_id, hang = await _held_attempt(svix_for(server), receiver, "lease")
    server.kill()
    hang.set()

    # Before: up to 1.5 leases (36 s here, the reclaim ran every half lease).
    requests = await receiver.wait_for(2, timeout=lease + 6)
    assert requests[1].headers["webhook-id"] == msg_id
    lines = [line for line in survivor.log_lines() if "lease ran out" in line["event"]]
    assert len(lines) == 1 and lines[0]["count"] == 1 and lines[0]["worker"], lines


async def _held_attempt(
    svix: SvixAsync, receiver: Receiver, name: str
) -> tuple[str, asyncio.Event]:
    """A new message whose first attempt the receiver holds open until the returned event is
    set; returns once that attempt has arrived, with the message's id."""
    hang = asyncio.Event()

    async def slow(_: Received) -> web.Response:
        await hang.wait()
        return web.Response(status=200)

    receiver.responses = [slow]
    app = await svix.application.create(ApplicationIn(name=name))
    await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))
    await receiver.wait_for(1)
    return msg.id, hang


async def _logged(server: HookdServer, text: str) -> bool:
    return server.log_path.exists() and text in server.log_path.read_text()
