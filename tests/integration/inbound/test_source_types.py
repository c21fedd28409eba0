"""Every ingest source type the official Svix SDK lists is either accepted or refused with a 422
that names it, says it is not built in, and shows the generic-webhook config that receives it
where generic-webhook can verify it."""

from __future__ import annotations

import base64
import hmac
import re
import typing
from typing import Any

import httpx
import orjson
from svix.api import IngestSourceIn

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CONFIGS: dict[str, dict[str, Any]] = {
    "generic-webhook": {"auth": "hmac", "secret": SECRET, "signatureHeader": "X-Signature"},
    "meta": {"secret": SECRET, "verifyToken": "v"},
}
RECIPE = re.compile(r"receive it as a generic-webhook source, which verifies it: (\{.*\})$")


def svix_source_types() -> list[str]:
    """The SDK's own list: the Literal members of ``IngestSourceIn.type``."""
    annotation = IngestSourceIn.model_fields["type"].annotation
    return [value for member in typing.get_args(annotation) for value in typing.get_args(member)]


def sign(config: dict[str, Any], body: bytes, secret: str = SECRET) -> dict[str, str]:
    """A request signed as a recipe's config says (what the provider sends)."""
    if config["auth"] == "api-key":
        return {config["headerName"]: secret}
    digest = hmac.new(secret.encode(), body, config.get("algorithm", "sha256")).digest()
    encoding = config.get("encoding", "hex")
    if encoding == "hex":
        text = digest.hex()
    elif encoding == "base64":
        text = base64.b64encode(digest).decode()
    else:
        text = base64.urlsafe_b64encode(digest).decode()
    return {config["signatureHeader"]: config.get("signaturePrefix", "") + text}


async def test_every_svix_source_type_is_accepted_or_clearly_refused(
    api: httpx.AsyncClient,
) -> None:
    types = svix_source_types()
    assert len(types) >= 44 and "stripe" in types and "cron" in types
    accepted, refused, recipes = [], [], 0
    created_ids: list[str] = []
    for source_type in types:
        config = CONFIGS.get(source_type, {"secret": SECRET})
        fields = {"name": source_type, "type": source_type, "config": config}
        response = await api.post("/ingest/api/v1/source", json=fields)
        if response.status_code == 201:
            accepted.append(source_type)
            created_ids.append(response.json()["id"])
            continue
        assert response.status_code == 422, (source_type, response.text)
        answer = response.json()
        assert answer["code"] == "source_type_not_built_in", (source_type, answer)
        [problem] = answer["detail"]
        assert problem["loc"] == ["body", "type"]
        message = problem["msg"]
        assert f"source type {source_type!r} is not built into hookd yet" in message, message
        refused.append(source_type)
        match = RECIPE.search(message)
        if match is None:
            assert "generic-webhook" in message, message  # why it cannot, or what to try
            continue
        # The recipe works as shown: a generic-webhook source with it verifies a signed request.
        recipe = orjson.loads(match.group(1))
        assert recipe["type"] == "generic-webhook"
        config = recipe["config"] | {"secret": SECRET}
        created = await api.post(
            "/ingest/api/v1/source",
            json={"name": source_type, "type": "generic-webhook", "config": config},
        )
        assert created.status_code == 201, (source_type, created.text)
        created_ids.append(created.json()["id"])
        url = created.json()["ingestUrl"]
        body = orjson.dumps({"type": "ping"})
        assert httpx.post(url, content=body, headers=sign(config, body)).status_code == 200
        assert httpx.post(url, content=body, headers=sign(config, body, "x")).status_code == 401
        recipes += 1
    assert len(accepted) + len(refused) == len(types)
    assert recipes >= 7, refused
    assert {"stripe", "github", "svix", "clerk"} <= set(accepted)
    for source_id in created_ids:  # the server is shared with other tests that list sources
        assert (await api.delete(f"/ingest/api/v1/source/{source_id}")).status_code == 204
