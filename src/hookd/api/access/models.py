"""Request and response shapes of API keys and app portal access (Svix's, where Svix has one)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from hookd.api.send.models import UID, ApplicationIn, Bool, CamelModel, Time
from hookd.core.access import Scope

# Svix's AppPortalCapability.
PortalCapability = Literal[
    "ViewBase",
    "ViewEndpointSecret",
    "ManageEndpointSecret",
    "ManageTransformations",
    "CreateAttempts",
    "ManageEndpoint",
]
FeatureFlag = Annotated[str, Field(min_length=1, max_length=256, pattern=UID)]
SessionId = Annotated[str, Field(min_length=1, max_length=256)]


class ApiKeyIn(CamelModel):
    name: str = Field(min_length=1, max_length=256)
    scope: Scope = Field(
        description="admin: everything; read_only: every read but secrets and "
        "transformations; application: one application (appId), with every capability in it"
    )
    app_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="the application (id or uid) of a key of scope application",
    )
    expires_at: Time | None = Field(default=None, description="none: until revoked")


class ApiKeyOut(CamelModel):
    id: str
    name: str
    scope: Scope
    app_id: str | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="to the minute")
    expires_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    token: str = Field(description="the key itself: shown in this answer only")


class AppPortalAccessIn(CamelModel):
    application: ApplicationIn | None = Field(
        default=None,
        description="creates the application when the path names none (its uid is the "
        "path's name unless it has one); ignored otherwise",
    )
    capabilities: list[PortalCapability] | None = Field(
        default=None, description="none: all of them; ViewBase is always included"
    )
    # Strict: a JSON boolean is no number of seconds (pydantic's lax mode takes false as 0).
    expiry: StrictInt | None = Field(
        default=None, ge=3600, le=604800, description="seconds the token is valid (default 7 days)"
    )
    feature_flags: list[FeatureFlag] | None = Field(
        default=None,
        description="the token sees the event types without a feature flag or with one of these",
    )
    read_only: Bool | None = Field(default=None, description="true: ViewBase only")
    session_id: SessionId | None = Field(
        default=None, description="expire-all can end this session's tokens only"
    )


class AppPortalAccessOut(BaseModel):
    url: str
    token: str


class ApplicationTokenExpireIn(CamelModel):
    expiry: StrictInt | None = Field(
        default=None, ge=0, le=604800, description="seconds until the tokens expire (default 0)"
    )
    session_ids: list[SessionId] | None = Field(
        default=None, description="only the tokens of these sessions"
    )
