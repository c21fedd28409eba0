"""The event every scenario sends: a JSON object that serializes to exactly 1 KiB."""

from __future__ import annotations

from typing import Any

import orjson

PAYLOAD_BYTES = 1024
EVENT_TYPE = "invoice.paid"


def payload_object(size: int = PAYLOAD_BYTES) -> dict[str, Any]:
    """A realistic-looking event whose compact JSON is ``size`` bytes long."""
    base: dict[str, Any] = {
        "type": EVENT_TYPE,
        "data": {"invoice": "in_1Q2w3E4r5T6y7U8i", "amount": 4200, "currency": "eur"},
        "padding": "",
    }
    missing = size - len(orjson.dumps(base))
    if missing < 0:
        raise ValueError(f"a payload cannot be smaller than {size - missing} bytes")
    base["padding"] = "x" * missing
    return base


def payload_bytes(size: int = PAYLOAD_BYTES) -> bytes:
    return orjson.dumps(payload_object(size))
