"""The embedding product's theme for the consumer portal: primary colour, dark mode, font,
logo and hidden sections, read from the portal URL's query parameters (svix-react's names).

Every value is checked against a narrow shape and dropped when it does not fit (the portal
still opens, in its own look): a colour is ``#rgb`` or ``#rrggbb``, a font a plain family
name, a logo an ``https://`` URL or a base64 ``data:image/...`` URL. Nothing reaches a page
but through the stylesheet :func:`stylesheet` writes from these checked values (the CSP
forbids inline styles) and escaped HTML attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

# The sections of the portal, as ``hide`` names them and the navigation shows them.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("endpoints", "Endpoints", "/portal/endpoints"),
    ("messages", "Messages", "/portal/messages"),
    ("event-types", "Event catalog", "/portal/event-types"),
)
SECTION_NAMES = frozenset(name for name, _, _ in SECTIONS)

COLOUR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
FONT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,39}")
GENERIC_FONTS = frozenset({"serif", "sans-serif", "monospace", "system-ui", "cursive"})
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}")
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?")
# A logo is kept in a cookie with the rest of the theme: well under a cookie's 4 KiB.
MAX_LOGO = 2048
TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True, slots=True)
class Theme:
    """A checked theme; ``None`` (or empty) leaves the portal's own look."""

    primary: str | None = None  # "#rrggbb"
    dark: bool | None = None  # None: the system's choice
    font: str | None = None
    logo: str | None = None
    hidden: frozenset[str] = field(default_factory=frozenset)

    @property
    def styled(self) -> bool:
        """Whether the theme needs its stylesheet."""
        return self.primary is not None or self.font is not None

    def query(self) -> str:
        """The theme as query parameters (the same names :func:`theme_from` reads)."""
        pairs: list[tuple[str, str]] = []
        if self.primary is not None:
            pairs.append(("primaryColor", self.primary))
        if self.dark is not None:
            pairs.append(("darkMode", "true" if self.dark else "false"))
        if self.font is not None:
            pairs.append(("fontFamily", self.font))
        if self.logo is not None:
            pairs.append(("icon", self.logo))
        if self.hidden:
            pairs.append(("hide", ",".join(sorted(self.hidden))))
        return urlencode(pairs)

    def style_query(self) -> str:
        """What the stylesheet depends on, as its URL's query."""
        return Theme(primary=self.primary, font=self.font).query()

    def sections(self) -> list[tuple[str, str, str]]:
        """The sections shown: (name, label, path)."""
        return [section for section in SECTIONS if section[0] not in self.hidden]


def colour(value: str) -> str | None:
    """``#rgb`` or ``#rrggbb`` (the ``#`` optional) as ``#rrggbb``; None otherwise."""
    match = COLOUR.fullmatch(value.strip())
    if match is None:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def font(value: str) -> str | None:
    value = " ".join(value.split())
    return value if FONT.fullmatch(value) else None


def logo(value: str) -> str | None:
    """An ``https://`` URL (no credentials, no spaces or quotes) or a base64 image ``data:``
    URL, at most :data:`MAX_LOGO` characters."""
    value = value.strip()
    if not value or len(value) > MAX_LOGO:
        return None
    if DATA_IMAGE.fullmatch(value):
        return value
    parts = urlsplit(value)
    if parts.scheme != "https" or not HOST.fullmatch(parts.netloc):
        return None
    if any(c.isspace() or c in "\"'<>\\`" for c in value):
        return None
    return value


def flag(value: str) -> bool | None:
    value = value.strip().lower()
    return True if value in TRUE else False if value in FALSE else None


def hidden(value: str) -> frozenset[str]:
    return frozenset(p for p in re.split(r"[\s,]+", value.strip().lower()) if p in SECTION_NAMES)


def theme_from(params: Mapping[str, str]) -> Theme:
    """The theme of query parameters ``primaryColor``, ``darkMode``, ``fontFamily``, ``icon``
    and ``hide`` (a comma-separated list of ``endpoints``, ``messages``, ``event-types``);
    a value that does not fit is ignored."""
    return Theme(
        primary=colour(params.get("primaryColor", "")),
        dark=flag(params.get("darkMode", "")),
        font=font(params.get("fontFamily", "")),
        logo=logo(params.get("icon", "")),
        hidden=hidden(params.get("hide", "")),
    )


def theme_of_query(query: str) -> Theme:
    """The theme of a query string (a cookie's value, a form's field)."""
    pairs: Iterable[tuple[str, str]] = parse_qsl(query, max_num_fields=10)
    return theme_from(dict(pairs))


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def text_on(hex_colour: str) -> str:
    """Black or white, whichever reads better on ``hex_colour`` (WCAG contrast ratio; the
    better of the two is always at least 4.5:1)."""
    lum = _luminance(hex_colour)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def stylesheet(theme: Theme) -> str:
    """CSS custom properties for the checked ``theme``, over the console's light and dark
    palettes (console.css): the same selectors, later in the cascade."""
    lines: list[str] = []
    if theme.primary is not None:
        lines.append(f"  --accent: {theme.primary};")
        lines.append(f"  --accent-fg: {text_on(theme.primary)};")
    if theme.font is not None:
        family = theme.font if theme.font in GENERIC_FONTS else f'"{theme.font}"'
        lines.append(f"  --font: {family}, system-ui, sans-serif;")
    if not lines:
        return ""
    body = "\n".join(lines)
    return (
        ':root, :root[data-theme="dark"], :root:not([data-theme="light"]) {\n'
        f"{body}\n}}\n"
        "body, button, input, select, textarea { font-family: var(--font); }\n"
    )
