"""Errors a caller can cause: each has an HTTP status, a machine ``code`` and a ``detail``."""

from __future__ import annotations

from typing import Literal

from hookd.store.outages import is_outage, is_storage_full


class ServiceError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class Gone(ServiceError):
    status_code = 410
    code = "gone"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "payload_too_large"


class Invalid(ServiceError):
    """A request that is well-formed JSON but breaks a rule; ``loc`` names the offending field."""

    status_code = 422
    code = "validation"

    def __init__(
        self, detail: str, *, loc: tuple[str | int, ...] = ("body",), code: str | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.loc = loc


def unavailable(exc: BaseException) -> Literal["storage_full", "outage"] | None:
    """Whether ``exc`` says the storage cannot take the request right now (the API answers
    503): the disk is full, or the database cannot be reached (``store.outages``)."""
    if is_storage_full(exc):
        return "storage_full"
    if is_outage(exc):
        return "outage"
    return None
