"""Posted forms: ``application/x-www-form-urlencoded`` bodies, parsed with the standard library
(the console uploads no files, so python-multipart is not needed), and read once per request."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.requests import Request

from hookd.services.errors import Invalid, ServiceError

# A console form is small; the body limit of the app (api.body_limit) applies first anyway.
MAX_FIELDS = 1000


class Form:
    """A form's fields; every value is a string, repeated names kept in order."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def get(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    def has(self, name: str) -> bool:
        return name in self._values

    def text(self, name: str) -> str:
        return self.get(name).strip()

    def optional(self, name: str) -> str | None:
        """The field stripped, or None when empty."""
        return self.text(name) or None

    def checked(self, name: str) -> bool:
        return self.has(name)

    def integer(
        self, name: str, *, label: str, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """The field as an integer (None when empty); Invalid names ``label`` otherwise."""
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise Invalid(f"{label} must be a whole number", loc=("form", name)) from None
        if minimum is not None and value < minimum:
            raise Invalid(f"{label} must be at least {minimum}", loc=("form", name))
        if maximum is not None and value > maximum:
            raise Invalid(f"{label} must be at most {maximum}", loc=("form", name))
        return value

    def words(self, name: str) -> list[str] | None:
        """A comma- or space-separated list (None when empty), duplicates dropped."""
        parts = [part for part in self.get(name).replace(",", " ").split() if part]
        return list(dict.fromkeys(parts)) or None

    def time(self, name: str, *, label: str) -> datetime | None:
        """A ``datetime-local`` field (or an ISO 8601 time) read as UTC when it has no offset."""
        return parse_time(self.text(name), label=label, loc=("form", name))


def field_errors(exc: ServiceError) -> dict[str, str]:
    """A service error as a form shows it: under the field its ``loc`` names (``("body",
    "url")`` or ``("form", "url")``: ``url``), and at the top (``_``)."""
    loc: tuple[str | int, ...] = getattr(exc, "loc", ())
    errors = {"_": exc.detail}
    if len(loc) > 1:
        errors[str(loc[1])] = exc.detail
    return errors


def parse_time(raw: str, *, label: str, loc: tuple[str, ...]) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{label} is not a date and time", loc=loc) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def read_form(request: Request) -> Form:
    """The request's form (parsed once; ``routing`` reads it first for the CSRF check)."""
    cached = getattr(request.state, "form", None)
    if isinstance(cached, Form):
        return cached
    content_type = request.headers.get("content-type", "")
    pairs: list[tuple[str, str]] = []
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError:
            raise Invalid(f"a form has at most {MAX_FIELDS} fields", loc=("form",)) from None
    form = Form(pairs)
    request.state.form = form
    return form
