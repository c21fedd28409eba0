"""``hookd`` with secrets stored in the clear: the baseline of the ``secrets`` scenario only.

Replaces ``hookd.store.sealing``'s seal and open functions by the identity before any store
module binds them, then runs the ``hookd`` command, so the same sources deliver once with sealed
secrets and once without, and the scenario compares their CPU per delivery.
"""

from __future__ import annotations

from typing import Any

from hookd.store import sealing


def _same(value: Any, _purpose: str) -> Any:
    return value


def _as_bytes(value: Any, _purpose: str) -> bytes:
    return bytes(value)


for _name in ("seal_text", "open_text", "seal_json", "open_json", "seal_bytes"):
    setattr(sealing, _name, _same)
sealing.open_bytes = _as_bytes

if __name__ == "__main__":
    from hookd.cli import main

    main()
