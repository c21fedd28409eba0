"""Settings: the server's effective configuration, read-only, grouped as `hookd serve --help`
groups it (``hookd.config.SETTING_GROUPS``). Secrets are never shown: a secret setting says
only whether it is set, and a URL's password is masked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request
from pydantic import SecretStr
from starlette.responses import Response

from hookd.api.console.render import NavItem, page
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.config import OTHER_SETTINGS, SETTING_GROUPS, Settings, setting_group
from hookd.core.masking import mask_url

router = console_router()
NAV = NavItem("Settings", "/console/settings")
# Settings whose value is a secret although their type is a plain string.
SECRET_SETTINGS = frozenset({"admin_token"})
HIDDEN = "set (hidden)"


def shown_value(name: str, value: Any) -> str:
    """A setting's value as the page shows it: never a secret."""
    if value is None:
        return "—"
    if isinstance(value, SecretStr):
        return HIDDEN if value.get_secret_value() else "—"
    if name in SECRET_SETTINGS:
        return HIDDEN if str(value) else "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g} s"
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(shown_value(name, item) for item in value) or "—"
    text = str(value)
    return mask_url(text) if "://" in text else text


def grouped(settings: Settings) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """(group, [(name, environment variable, value, description)]) in the help's order."""
    groups: dict[str, list[tuple[str, str, str, str]]] = {g: [] for g in SETTING_GROUPS}
    groups[OTHER_SETTINGS] = []
    order = {n: i for i, n in enumerate(n for names in SETTING_GROUPS.values() for n in names)}
    for name in sorted(Settings.model_fields, key=lambda n: order.get(n, len(order))):
        field = Settings.model_fields[name]
        groups[setting_group(name)].append(
            (
                name,
                "HOOKD_" + name.upper(),
                shown_value(name, getattr(settings, name)),
                (field.description or "").strip(),
            )
        )
    return [(group, rows) for group, rows in groups.items() if rows]


@router.get("/console/settings")
async def show_settings(request: Request) -> Response:
    return page(
        request,
        "settings/settings.html",
        {"groups": grouped(context(request).settings)},
        title="Settings",
    )
