"""The console's security headers, cookies and CSRF tokens.

CSRF: the synchronizer token of a session is an HMAC of the session's token (the HttpOnly cookie
the page cannot read) under a fixed label; it is sent in a hidden field (``csrf``) or, by htmx, in
the ``X-CSRF-Token`` header, and compared in constant time. The sign-in form, which has no session
yet, uses a random token kept in a short-lived cookie of its own (double submit), so a third-party
page cannot sign a browser in to a session of the attacker's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "hookd_console"
SIGN_IN_COOKIE = "hookd_console_sign_in"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/console"
SIGN_IN_COOKIE_SECONDS = 3600


# No inline script or style anywhere: scripts and styles come from /console/static only.
# ``frame_ancestors`` and ``images`` vary for the consumer portal only (``api.console.portal``).
def content_security_policy(frame_ancestors: str = "'none'", images: str = "'self' data:") -> str:
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
}
# Pages show secrets and live data: never kept by the browser or a proxy.
NO_STORE = "no-store"


def add_headers(
    response: Response, *, cache: str = NO_STORE, headers: dict[str, str] | None = None
) -> Response:
    """The security headers (the console's unless ``headers`` says otherwise) and ``cache``."""
    response.headers.update(HEADERS if headers is None else headers)
    response.headers["cache-control"] = cache
    return response


def csrf_token(session_token: str) -> str:
    """The CSRF token of the session whose cookie holds ``session_token``."""
    return hmac.new(session_token.encode(), b"hookd console csrf", hashlib.sha256).hexdigest()


def same_token(sent: str | None, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent).encode(), expected.encode())


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


def is_https(request: Request) -> bool:
    """Whether the browser reached hookd over HTTPS: the connection's scheme, which uvicorn
    takes from ``X-Forwarded-Proto`` only when the peer is a trusted proxy
    (``HOOKD_TRUSTED_PROXIES``)."""
    return request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, *, max_age: int | None = None
) -> None:
    """An HttpOnly, SameSite=Strict cookie for the console's paths, Secure over HTTPS. Without
    ``max_age`` it ends with the browser session (the server-side expiry still applies)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, httponly=True, samesite="strict", secure=is_https(request)
    )
