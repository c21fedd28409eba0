"""Payload versions of a message, and checking payloads against an event type's JSON Schemas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

__all__ = ["SchemaViolation", "latest_schema_version", "message_version", "schema_violation"]


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """The most relevant way a payload breaks its schema: where (a JSON path) and why."""

    path: tuple[str | int, ...]
    message: str

    @property
    def json_path(self) -> str:
        return "$" + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in self.path
        )


def latest_schema_version(schemas: Mapping[str, object] | None) -> int | None:
    """The highest version an event type declares a schema for (keys are positive integers)."""
    versions = [int(key) for key in schemas or {} if key.isascii() and key.isdigit()]
    return max(versions) if versions else None


def message_version(
    declared: int | None, other_versions: Mapping[int, object], schemas: Mapping[str, object] | None
) -> int:
    """The version of a message's ``payload``.

    What the producer declared; else the event type's latest schema version when it is newer
    than every version sent alongside; else one above those; else 1.
    """
    if declared is not None:
        return declared
    newest_other = max(other_versions, default=0)
    latest = latest_schema_version(schemas) or 0
    return latest if latest > newest_other else newest_other + 1


def schema_violation(schema: Mapping[str, Any], payload: Any) -> SchemaViolation | None:
    """None when ``payload`` satisfies the draft 7 ``schema``, else its most relevant error."""
    error = best_match(Draft7Validator(schema).iter_errors(payload))
    if error is None:
        return None
    return SchemaViolation(tuple(error.absolute_path), error.message)
