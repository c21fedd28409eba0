"""Garbage collector settings for a long-running server process.

After start-up the process holds a few hundred thousand long-lived objects (FastAPI, pydantic,
SQLAlchemy). Python's cyclic collector scans all of them on every full collection, which
the delivery benchmark's profiles showed as a large share of CPU on the hot path. ``settle()``
moves everything alive after start-up into the permanent generation (``gc.freeze``, never scanned
again) and collects the youngest generation less often; reference counting still frees almost
everything at once, the collector only finds cycles.
"""

from __future__ import annotations

import gc

# Allocations (net) between young-generation collections; CPython's default is 700.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Call once when start-up is over."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
