"""The headers of an outgoing webhook request: custom ones, then the Standard Webhooks three.

Shared by the delivery worker and synchronous calls, so a call is signed exactly as a delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hookd import __version__
from hookd.core.domain import Endpoint
from hookd.core.signing import parsed_signing_key, signature_header
from hookd.engine.transformations.apply import unsigned_headers

USER_AGENT = f"hookd/{__version__}"


def webhook_headers(
    style: str,
    endpoint: Endpoint,
    msg_id: str,
    body: bytes,
    now: datetime,
    *,
    forwarded: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """Custom headers plus the three Standard Webhooks headers, signed with every valid key.

    An ingested message adds the original request's ``forwarded`` headers and ``content_type``;
    the endpoint's custom headers override forwarded ones, and the signature headers win.
    """
    timestamp = int(now.timestamp())
    keys = [parsed_signing_key(secret) for secret in endpoint.signing_secrets(now)]
    return {
        **unsigned_headers(endpoint, forwarded, content_type),
        f"{style}-id": msg_id,
        f"{style}-timestamp": str(timestamp),
        f"{style}-signature": signature_header(keys, msg_id, timestamp, body),
    }
