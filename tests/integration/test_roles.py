"""`hookd serve --role api` and `--role worker` as separate processes on one database."""

from __future__ import annotations

from svix.api import ApplicationIn, EndpointIn, MessageIn

from tests.conftest import svix_for
from tests.support import NewServer, Receiver


async def test_api_and_worker_processes_share_the_database(
    new_server: NewServer, receiver: Receiver, tmp_path
) -> None:
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    api = new_server({"HOOKD_ROLE": "api", "HOOKD_DATABASE_URL": database}, name="api")
    api.start()
    svix = svix_for(api)
    app = await svix.application.create(ApplicationIn(name="roles"))
    await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={"r": 1}))
    assert receiver.requests == []  # the API process does not deliver

    worker = new_server({"HOOKD_ROLE": "worker", "HOOKD_DATABASE_URL": database}, name="worker")
    worker.start(wait_healthy=False)
    [request] = await receiver.wait_for(1, timeout=20)
    assert request.headers["webhook-id"] == msg.id
    worker.terminate()
    assert "hookd worker stopped" in worker.log_path.read_text()
