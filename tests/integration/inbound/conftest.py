"""Fixtures for the receive side: sources made through the Svix SDK's Ingest API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from svix.api import IngestEndpointIn, IngestSourceIn, SvixAsync

from tests.support import HookdServer, Receiver

MakeSource = Callable[..., Awaitable[tuple[str, str, str]]]


@pytest.fixture
async def public(hookd: HookdServer) -> AsyncIterator[httpx.AsyncClient]:
    """What a provider is: an unauthenticated client."""
    async with httpx.AsyncClient(base_url=hookd.url, timeout=10) as client:
        yield client


def make_source_factory(svix: SvixAsync, receiver: Receiver) -> MakeSource:
    async def make(
        source_type: str, config: dict[str, Any], *, forward: bool = True, **endpoint: Any
    ) -> tuple[str, str, str]:
        """A source forwarding to ``receiver``; returns (source id, ingest URL, endpoint secret)."""
        source = await svix.ingest.source.create(
            IngestSourceIn.model_validate(
                {
                    "name": source_type,
                    "uid": f"s-{uuid.uuid4().hex[:12]}",
                    "type": source_type,
                    "config": config,
                }
            )
        )
        secret = ""
        if forward:
            created = await svix.ingest.endpoint.create(
                source.id, IngestEndpointIn(url=receiver.url, **endpoint)
            )
            secret = (await svix.ingest.endpoint.get_secret(source.id, created.id)).key
        assert source.ingest_url is not None
        return source.id, source.ingest_url, secret

    return make


@pytest.fixture
def make_source(svix: SvixAsync, receiver: Receiver) -> MakeSource:
    return make_source_factory(svix, receiver)
