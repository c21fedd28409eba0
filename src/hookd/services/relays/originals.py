"""The request a relayed message came from, so a listener receives it as the provider sent it."""

from __future__ import annotations

import re

from hookd.core.domain import InboundRecord
from hookd.services.context import Context
from hookd.store.ingest import inbound_requests as records

# /in/{token}/... or /relay/{token}/...: what follows the token is the path a listener keeps.
_UNDER_TOKEN = re.compile(r"^/(?:in|relay)/[^/]+(/.*)?$", re.DOTALL)


async def original_request(ctx: Context, msg_id: str) -> InboundRecord | None:
    """The inbound request that became message ``msg_id`` (None: a message sent to an app)."""
    async with ctx.db.read() as conn:
        return await records.record_of_message(conn, msg_id)


def path_suffix(record: InboundRecord) -> str:
    """The path under the source's URL (``""`` for the URL itself)."""
    match = _UNDER_TOKEN.match(record.path)
    return (match.group(1) or "") if match else ""
