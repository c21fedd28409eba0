"""The portal's pages: one module each, with its ``router``; ``ROUTERS`` lists them, in the
order ``api.console.site.install`` includes them (the portal's "not found" page last)."""

from __future__ import annotations

from fastapi import APIRouter

from hookd.api.console.portal.pages import endpoints, event_types, messages, opening

ROUTERS: tuple[APIRouter, ...] = (
    opening.router,
    endpoints.router,
    messages.router,
    event_types.router,
    opening.not_found,
)
