"""The alert channel API's shapes (``/api/v1/alert/channel``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from hookd.api.send.models import Bool, CamelModel

ChannelType = Literal["slack", "teams", "discord", "email", "webhook"]
CONFIG_HELP = (
    'slack, teams, discord: {"url": "<incoming webhook URL>"} (https); '
    'email: {"to": ["ops@example.com"]}; '
    'webhook: {"url": "<your endpoint>", "secret": "whsec_... (optional)"}'
)


class AlertChannelIn(CamelModel):
    name: str = Field(min_length=1, max_length=256)
    type: ChannelType
    config: dict[str, Any] = Field(description=CONFIG_HELP)
    disabled: Bool = False


class AlertChannelPut(CamelModel):
    name: str = Field(min_length=1, max_length=256)
    type: ChannelType | None = Field(default=None, description="fixed: only the same type")
    config: dict[str, Any] = Field(description=CONFIG_HELP)
    disabled: Bool = False


class AlertChannelPatch(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    type: ChannelType | None = Field(default=None, description="fixed: only the same type")
    config: dict[str, Any] | None = Field(
        default=None, description="only the config fields sent change"
    )
    disabled: Bool | None = None


class AlertChannelOut(CamelModel):
    id: str
    name: str
    type: ChannelType
    config: dict[str, Any] = Field(
        description="secrets masked: the URL of slack, teams and discord channels; a webhook "
        "channel's URL password. A webhook channel also names its appId and endpointId, whose "
        "messages and attempts the application API shows"
    )
    disabled: bool
    created_at: datetime
    updated_at: datetime


class AlertChannelSecretOut(CamelModel):
    url: str | None = Field(description="slack, teams, discord and webhook channels' URL")
    key: str | None = Field(description="a webhook channel's signing secret")


class AlertChannelTestOut(CamelModel):
    ok: bool
    status_code: int | None = Field(description="what Slack, Teams or Discord answered")
    msg_id: str | None = Field(description="a webhook channel's queued test message")
