"""The console's pages: one module each, with its ``router`` (``routing.console_router()``, or
``public_router()`` for the sign-in pages) and, when it belongs in the navigation, ``NAV``.

To add a page: write its module here and its templates in ``templates/<page>/``, then list the
module in ``PAGES`` (the navigation follows this order). docs/console.md has the details.
"""

from __future__ import annotations

from types import ModuleType

from hookd.api.console.pages import (
    alerts,
    api_keys,
    applications,
    calls,
    endpoints,
    event_types,
    home,
    inspector,
    messages,
    operational,
    settings,
    sign_in,
    sources,
)
from hookd.api.console.render import NavItem

PAGES: tuple[ModuleType, ...] = (
    sign_in,
    home,
    applications,
    endpoints,
    messages,
    event_types,
    sources,
    inspector,
    calls,
    alerts,
    operational,
    api_keys,
    settings,
)

NAV: tuple[NavItem, ...] = tuple(
    item for module in PAGES if (item := getattr(module, "NAV", None)) is not None
)
