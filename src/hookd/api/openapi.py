"""The OpenAPI document: FastAPI's, plus what every operation shares, added in one place.

FastAPI documents each route's own answers. What the edge adds to every route (the bearer
token, the error answers of ``errors.py``, the middlewares' 409, 413, 422 and 503) is added here
by walking the app's routes when the document is first built, so routes added later are
covered without per-route copies. A route's own declaration of a status wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel

from hookd.api.auth import authenticate
from hookd.api.send.models import ErrorOut

SCHEME = "bearerAuth"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "the admin token (HOOKD_ADMIN_TOKEN, else the one `hookd serve` generated "
    "and stored in its data directory's admin_token file), an API key (hookd_key_...) or an "
    "app portal token (hookd_portal_...); see docs/access.md",
}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ValidationDetail(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """422: ``detail`` lists the refused fields (Svix's shape, which the SDKs parse)."""

    code: str
    detail: list[ValidationDetail]


def _error(description: str, model: str = "ErrorOut") -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


UNAUTHORIZED = _error("the bearer token is missing or wrong")
FORBIDDEN = _error("the token's scope or capabilities do not cover this route")
NOT_FOUND = _error("no such resource")
CONFLICT = _error(
    "conflict: a uid or eventId already in use, or a request with the same Idempotency-Key "
    "still running"
)
UNREADABLE = _error("the request body could not be read (not UTF-8)")
TOO_LARGE = _error("the request body is over the size limit")
INVALID = _error("the request is invalid; detail lists each refused field", "ValidationErrorOut")
UNAVAILABLE = {
    **_error(
        "the database (or storage) is unavailable; nothing was applied, retry after Retry-After"
    ),
    "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
}


def _calls(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_calls(d, call) for d in dependant.dependencies)


def _common(route: RouteContext, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The shared answers ``operation`` can give, by status."""
    answers: dict[str, Any] = {}
    if _calls(route.dependant, authenticate):
        answers["401"] = UNAUTHORIZED
        answers["403"] = FORBIDDEN
    if route.param_convertors:  # a path parameter names something that may not exist
        answers["404"] = NOT_FOUND
    if method in BODY_METHODS:
        answers["409"] = CONFLICT
    if "requestBody" in operation:
        answers["400"] = UNREADABLE
        answers["413"] = TOO_LARGE
    answers["422"] = INVALID  # also a NUL in any path or query (api/nul.py)
    answers["503"] = UNAVAILABLE
    return answers


def complete(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """Add the security scheme and the shared error answers to ``document`` (in place)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in (ErrorOut, ValidationErrorOut):
        defs = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(defs.pop("$defs", {}))
        schemas[model.__name__] = defs
    components.setdefault("securitySchemes", {})[SCHEME] = SECURITY_SCHEME
    for route in iter_route_contexts(app.routes):  # included routers' routes, as FastAPI does
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            # FastAPI's own 422 (HTTPValidationError) is not what errors.py sends.
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
            for status, answer in _common(route, method, operation).items():
                responses.setdefault(status, answer)
            if "401" in responses and _calls(route.dependant, authenticate):
                operation["security"] = [{SCHEME: []}]
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f'"#/components/schemas/{unused}"' not in json.dumps(document):
            del schemas[unused]
    return document


def install(app: FastAPI) -> None:
    """Complete FastAPI's document each time FastAPI builds it (once, unless routes change)."""
    generate = app.openapi
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI's, cached until the routes change
        if not completed or completed[0] is not document:
            completed[:] = [complete(app, document)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
