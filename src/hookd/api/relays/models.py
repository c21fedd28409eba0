"""Shapes of the relay API (camelCase, as the rest of the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from hookd.api.send.models import UID, CamelModel

EventTypes = list[str] | None
FILTER_HELP = "a JSON operator filter on the request's body, headers, query and path"
TYPES_HELP = "the event types the listener gets (all when omitted)"


class FiltersIn(CamelModel):
    """What a listener gets: as an endpoint's ``filterTypes`` and ``filter``."""

    filter_types: EventTypes = Field(default=None, min_length=1, description=TYPES_HELP)
    filter: dict[str, Any] | None = Field(default=None, description=FILTER_HELP)


class RelayIn(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    metadata: dict[str, str] | None = None


class RelayPutIn(FiltersIn):
    """The relay with this uid, made when missing; its own endpoint takes the filters."""

    name: str | None = Field(default=None, min_length=1, max_length=256)
    metadata: dict[str, str] | None = None


class AttachIn(FiltersIn):
    """Attach the relay to one source (what it accepts) or one application (its messages)."""

    source: str | None = Field(default=None, min_length=1, max_length=256)
    app: str | None = Field(default=None, min_length=1, max_length=256)


class AppRelayIn(FiltersIn):
    """The application's own relay, attached to it with these filters."""


class RelayOut(CamelModel):
    id: str
    uid: str | None
    name: str
    url: str = Field(description="the public URL providers post to (and any path under it)")
    listen_path: str = Field(description="the WebSocket path hookd listen connects to")
    listeners: int = Field(description="listeners connected to the process that answered")
    metadata: dict[str, str]
    created_at: datetime


class AttachedOut(CamelModel):
    relay: RelayOut
    app_id: str
    endpoint_id: str
    filter_types: list[str] | None
    filter: dict[str, Any] | None
