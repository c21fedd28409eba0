"""Shapes of the request bin API (camelCase, as the rest of the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictInt

from hookd.api.send.models import UID, CamelModel, Headers
from hookd.core.providers.request_bin import (
    DEFAULT_TTL_SECONDS,
    MAX_ANSWER_BODY_BYTES,
    MAX_DELAY_MS,
    MAX_TTL_SECONDS,
)

MAX_REPLAY_TIMEOUT_MS = 60_000
# A header as received: [name, value] (a list of pairs keeps repeated names and their order).
HeaderPair = Annotated[list[str], Field(min_length=2, max_length=2)]


class BinAnswerIn(CamelModel):
    """What every request to the bin is answered with. Numbers are strict: pydantic's lax mode
    would take ``false`` as 0."""

    status_code: StrictInt = Field(default=200, ge=200, le=599)
    headers: Headers = Field(
        default_factory=dict,
        description="response headers (not Content-Length, Transfer-Encoding or Connection)",
    )
    body: str = Field(default="", max_length=MAX_ANSWER_BODY_BYTES)
    delay_ms: StrictInt = Field(
        default=0, ge=0, le=MAX_DELAY_MS, description="wait this long before answering"
    )


class BinIn(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    answer: BinAnswerIn | None = None
    ttl_seconds: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_TTL_SECONDS,
        description=f"forget a request this long after it came (default {DEFAULT_TTL_SECONDS})",
    )
    metadata: dict[str, str] | None = None


class BinPatch(CamelModel):
    answer: BinAnswerIn | None = Field(default=None, description="replaces the whole answer")
    ttl_seconds: StrictInt | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS)


class BinAnswerOut(CamelModel):
    status_code: int
    headers: dict[str, str]
    body: str
    delay_ms: int


class BinOut(CamelModel):
    id: str
    uid: str | None
    name: str
    url: str = Field(description="the capture URL: any method, any path under it")
    answer: BinAnswerOut
    ttl_seconds: int
    max_requests: int = Field(description="requests kept (HOOKD_BIN_MAX_REQUESTS); oldest go")
    max_body_bytes: int = Field(description="the largest body captured (HOOKD_BIN_MAX_BODY_BYTES)")
    metadata: dict[str, str]
    created_at: datetime
    updated_at: datetime


class BinRequestOut(CamelModel):
    id: str
    bin_id: str
    received_at: datetime
    method: str
    path: str = Field(description="the path under the capture URL ('' for the URL itself)")
    query: str = Field(description="the query string as sent, without '?'")
    url: str = Field(description="the full URL the request was sent to")
    headers: list[HeaderPair] = Field(description="as received: [name, value], in order")
    body: str = Field(description="the exact body, base64")
    body_text: str | None = Field(description="the body when it is UTF-8 text")
    body_size: int
    remote_ip: str | None
    response_status_code: int


class ReplayIn(CamelModel):
    url: str = Field(min_length=1, max_length=65_536, description="where to send the request")
    timeout_ms: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_REPLAY_TIMEOUT_MS,
        description="default: HOOKD_REQUEST_TIMEOUT",
    )


class ReplayOut(CamelModel):
    status_code: int = Field(description="0 when nothing answered (see error)")
    headers: list[HeaderPair]
    body: str = Field(description="the answer's body, base64")
    body_text: str | None
    duration_ms: int
    error: str | None
