"""Producer output files: ``id sent_at [answered_at status]`` lines, then a ``#{json}`` summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


@dataclass(slots=True)
class ProducerRecords:
    """What a producer process did: when each message was handed over, and its own cost."""

    sent: dict[str, float] = field(default_factory=dict)  # id -> when it was handed over
    answered: dict[str, float] = field(default_factory=dict)  # id -> API answer time
    failures: int = 0
    first_sent: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)


def read_records(path: Path) -> ProducerRecords:
    records = ProducerRecords()
    first = float("inf")
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            records.summary = orjson.loads(line[1:])
            continue
        parts = line.split()
        if not parts:
            continue
        sent = float(parts[1])
        first = min(first, sent)
        if len(parts) >= 4 and (parts[0] == "-" or not parts[3].startswith("2")):
            records.failures += 1
            continue
        records.sent[parts[0]] = sent
        if len(parts) >= 3:
            records.answered[parts[0]] = float(parts[2])
    records.first_sent = first if records.sent or records.failures else 0.0
    return records
