"""Reading a source's raw provider config (camelCase JSON) into typed values.

Every reader raises :class:`ConfigError` naming the field, and :meth:`ConfigReader.finish`
rejects keys nobody read, so a typo such as ``tolerence`` fails loudly instead of silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from hookd.core.providers.model import ConfigError
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["MAX_TOLERANCE_SECONDS", "ConfigReader"]

KeyT = TypeVar("KeyT")
MAX_TOLERANCE_SECONDS = 86_400


def _identity(text: str) -> str:
    return text


class ConfigReader:
    """Typed access to one raw config mapping; remembers which keys were read."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        if not isinstance(raw, Mapping):
            raise ConfigError("config", "must be a JSON object")
        self._raw = raw
        self._read: set[str] = set()

    def has(self, field: str) -> bool:
        return self._raw.get(field) is not None

    def _value(self, field: str) -> Any:
        self._read.add(field)
        return self._raw.get(field)

    def raw(self, field: str) -> Any:
        """The field's value as it came (None when missing), for a caller that parses it."""
        return self._value(field)

    def text(self, field: str, default: str | None = None, *, allow_empty: bool = False) -> str:
        value = self._value(field)
        if value is None:
            if default is None:
                raise ConfigError(field, "is required")
            return default
        if not isinstance(value, str) or not (value or allow_empty):
            raise ConfigError(field, "must be a non-empty string")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ConfigError(field, "must be valid Unicode text") from None
        return value

    def optional_text(self, field: str) -> str | None:
        self._read.add(field)
        return self.text(field) if self.has(field) else None

    def choice(self, field: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(field, default)
        if value not in choices:
            raise ConfigError(field, f"must be one of {', '.join(choices)}")
        return value

    def integer(self, field: str, default: int, minimum: int, maximum: int) -> int:
        value = self._value(field)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(field, "must be an integer")
        if not minimum <= value <= maximum:
            raise ConfigError(field, f"must be between {minimum} and {maximum}")
        return value

    def boolean(self, field: str, default: bool) -> bool:
        value = self._value(field)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(field, "must be true or false")
        return value

    def tolerance(self, default: int) -> int:
        """``toleranceSeconds``: how far a signed timestamp may be from ``now``."""
        return self.integer("toleranceSeconds", default, 1, MAX_TOLERANCE_SECONDS)

    def secret(self, field: str = "secret") -> RotatingSecret[str]:
        """A rotating secret used as given (see :meth:`rotating`)."""
        return self.rotating(field, _identity)

    def rotating(self, field: str, parse: Callable[[str], KeyT]) -> RotatingSecret[KeyT]:
        """``<field>``, ``previous<Field>`` and ``previous<Field>ExpiresAt`` (ISO 8601 with zone).

        ``parse`` turns each secret into the key the provider uses and raises ``ValueError``
        when it cannot.
        """
        title = field[0].upper() + field[1:]
        previous_field = f"previous{title}"
        expiry_field = f"previous{title}ExpiresAt"
        current = self._parsed(field, self.text(field), parse)
        previous_text = self.optional_text(previous_field)
        expiry_text = self.optional_text(expiry_field)
        if previous_text is None:
            if expiry_text is not None:
                raise ConfigError(expiry_field, f"is set but {previous_field} is not")
            return RotatingSecret(current)
        if expiry_text is None:
            raise ConfigError(expiry_field, f"is required with {previous_field}")
        try:
            expires_at = datetime.fromisoformat(expiry_text)
        except ValueError:
            raise ConfigError(expiry_field, "must be an ISO 8601 date and time") from None
        if expires_at.tzinfo is None:
            raise ConfigError(expiry_field, "must include a time zone (e.g. Z or +00:00)")
        previous = self._parsed(previous_field, previous_text, parse)
        return RotatingSecret(current, previous, expires_at)

    @staticmethod
    def _parsed(field: str, text: str, parse: Callable[[str], KeyT]) -> KeyT:
        try:
            return parse(text)
        except ValueError as exc:
            raise ConfigError(field, str(exc) or "is not a valid key") from None

    def finish(self) -> None:
        """Reject keys that no reader consumed."""
        unknown = sorted(str(key) for key in self._raw if key not in self._read)
        if unknown:
            raise ConfigError(unknown[0], "is not a known field for this provider")
