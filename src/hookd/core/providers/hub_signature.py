"""``X-Hub-Signature-256: sha256=<hex>`` over the raw body, shared by GitHub and Meta."""

from __future__ import annotations

from datetime import datetime

from hookd.core.providers.digests import any_match, decode_hex, secret_hmacs
from hookd.core.providers.model import Verification
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["SHA1_HEADER", "SHA256_HEADER", "verify_hub_signature"]

SHA256_HEADER = "X-Hub-Signature-256"
SHA1_HEADER = "X-Hub-Signature"


def verify_hub_signature(
    request: InboundRequest,
    secret: RotatingSecret[str],
    now: datetime,
    *,
    allow_sha1: bool = False,
) -> Verification:
    """Check the SHA-256 header, or the legacy SHA-1 one only when the source opted in."""
    candidates = [(SHA256_HEADER, "sha256")]
    if allow_sha1:
        candidates.append((SHA1_HEADER, "sha1"))
    for header, algorithm in candidates:
        value = request.headers.get(header)
        if value is None:
            continue
        prefix, _, encoded = value.strip().partition("=")
        if prefix.lower() != algorithm or not encoded:
            return Verification.malformed_header(header, f"is not {algorithm}=<hex>")
        expected = secret_hmacs(secret.active(now), request.body, algorithm)
        if any_match(expected, [decode_hex(encoded)]):
            return Verification.accepted()
        return Verification.mismatch()
    return Verification.missing_header(SHA256_HEADER)
