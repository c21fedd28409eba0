"""What was answered 2xx is forwarded even when the server dies right after answering."""

from __future__ import annotations

import httpx
import orjson
import standardwebhooks
from svix.api import IngestEndpointIn, IngestSourceIn

from tests.conftest import svix_for
from tests.integration.inbound.signers import github_headers
from tests.support import NewServer, Receiver

SECRET = "crash-secret"


async def test_kill_after_the_2xx_still_forwards_after_restart(
    new_server: NewServer,
) -> None:
    server = new_server({"HOOKD_RETRY_SCHEDULE": "1,1,1,1"})
    server.start()
    svix = svix_for(server)
    source = await svix.ingest.source.create(
        IngestSourceIn.model_validate(
            {"name": "gh", "type": "github", "config": {"secret": SECRET}}
        )
    )
    receiver = Receiver()  # not listening yet: nothing can be delivered before the crash
    endpoint = await svix.ingest.endpoint.create(source.id, IngestEndpointIn(url=receiver.url))
    key = (await svix.ingest.endpoint.get_secret(source.id, endpoint.id)).key
    body = orjson.dumps({"ref": "refs/heads/main", "after": "abc"})
    assert source.ingest_url is not None
    response = httpx.post(
        source.ingest_url, content=body, headers=github_headers(body, SECRET, "push")
    )
    assert response.status_code == 200
    server.kill()  # SIGKILL right after the answer

    await receiver.start()
    try:
        server.start()
        (forwarded,) = await receiver.wait_for(1, timeout=20)
        assert forwarded.body == body
        standardwebhooks.Webhook(key).verify(forwarded.body, forwarded.headers)
    finally:
        await receiver.stop()
