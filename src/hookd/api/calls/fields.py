"""Endpoint fields for synchronous calls and authentication (TypedDicts: camelCase, as sent)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from hookd.core.calls.plan import MAX_TIMEOUT_MS

Method = Literal["POST", "GET", "PUT", "PATCH", "DELETE"]
TimeoutMs = Annotated[int, Field(ge=1, le=MAX_TIMEOUT_MS)]


class BasicAuthIn(TypedDict):
    type: Literal["basic"]
    username: str
    password: str


class BearerAuthIn(TypedDict):
    type: Literal["bearer"]
    token: str


class OAuth2AuthIn(TypedDict):
    """OAuth 2.0 client credentials: the token is fetched from ``tokenUrl`` and cached.

    ``clientAuthMethod``: ``client_secret_basic`` (default, HTTP Basic) or
    ``client_secret_post`` (``client_id`` and ``client_secret`` in the form body).
    """

    type: Literal["oauth2"]
    tokenUrl: str
    clientId: str
    clientSecret: str
    scope: NotRequired[str | None]
    audience: NotRequired[str | None]
    clientAuthMethod: NotRequired[Literal["client_secret_basic", "client_secret_post"] | None]


AuthIn = Annotated[BasicAuthIn | BearerAuthIn | OAuth2AuthIn, Field(discriminator="type")]


class TlsIn(TypedDict):
    """Mutual TLS: client certificate and key (PEM), and/or the CA bundle to trust (PEM)."""

    clientCert: NotRequired[str | None]
    clientKey: NotRequired[str | None]
    caBundle: NotRequired[str | None]


class FallbackResponseIn(TypedDict):
    status: NotRequired[Annotated[int, Field(ge=200, le=599)]]
    body: NotRequired[Any]
