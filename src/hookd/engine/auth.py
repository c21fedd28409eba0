"""Authenticated sends: an endpoint's basic, bearer or OAuth 2.0 credentials and mutual TLS.

:class:`Authenticator` wraps the HTTP sender for deliveries and calls alike. OAuth 2.0 tokens
are fetched through the same sender (so token URLs pass the SSRF guard), cached per endpoint
until shortly before they expire, fetched once per endpoint at a time, and fetched afresh once
when the endpoint answers 401 to a cached token. TLS contexts are built once per set of PEMs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from hookd.core.delivery import AttemptResult, Failure
from hookd.core.domain import Endpoint
from hookd.core.endpoint_auth import (
    ClientTls,
    OAuth2ClientCredentials,
    authorization_header,
    parse_token_response,
    token_request,
)
from hookd.engine import durations
from hookd.engine.http.sender import Sender

# A token is renewed this long before the expiry its server announced.
EXPIRY_MARGIN_SECONDS = 30.0
MAX_CACHED_TOKENS = 10_000


class AuthFailed(Exception):
    """No credentials could be obtained; the attempt fails with this reason."""

    def __init__(
        self, reason: str, *, timed_out: bool = False, failure: Failure | None = None
    ) -> None:
        super().__init__(reason)
        self.timed_out = timed_out
        self.failure = failure


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float | None  # monotonic seconds; None: until the endpoint answers 401


class Authenticator:
    """Sends requests to endpoints with their configured authentication."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - one deadline for token fetch, request and retry
    ) -> AttemptResult:
        """Send with the endpoint's credentials; never raises for network or auth trouble."""
        deadline = time.monotonic() + timeout
        started = durations.mark()
        try:
            tls = client_tls_context(endpoint.tls) if endpoint.tls is not None else None
            auth_headers, token = await self._credentials(endpoint, deadline, stale=None)
            result = await self.sender.send(
                method, url, _merged(headers, auth_headers), body, _left(deadline), tls=tls
            )
            if result.status_code == 401 and token is not None:
                auth_headers, _ = await self._credentials(endpoint, deadline, stale=token)
                result = await self.sender.send(
                    method, url, _merged(headers, auth_headers), body, _left(deadline), tls=tls
                )
        except AuthFailed as exc:
            return AttemptResult.no_response(
                str(exc),
                durations.elapsed_ms(started),
                timed_out=exc.timed_out,
                failure=exc.failure or Failure.ERROR,
            )
        return result

    async def _credentials(
        self, endpoint: Endpoint, deadline: float, *, stale: str | None
    ) -> tuple[dict[str, str], str | None]:
        """The Authorization header to add, and the OAuth token in it (for a 401 retry)."""
        auth = endpoint.auth
        if auth is None:
            return {}, None
        if not isinstance(auth, OAuth2ClientCredentials):
            return {"Authorization": authorization_header(auth)}, None
        token = await self._token(endpoint.id, auth, deadline, stale)
        return {"Authorization": f"Bearer {token}"}, token

    async def _token(
        self, endpoint_id: str, oauth: OAuth2ClientCredentials, deadline: float, stale: str | None
    ) -> str:
        key = _cache_key(endpoint_id, oauth)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.value != stale and _fresh(cached):
                return cached.value
            token = await self._fetch(oauth, deadline)
            if len(self._tokens) >= MAX_CACHED_TOKENS:
                self._tokens.clear()
            self._tokens[key] = token
            return token.value

    async def _fetch(self, oauth: OAuth2ClientCredentials, deadline: float) -> _Token:
        headers, body = token_request(oauth)
        result = await self.sender.send("POST", oauth.token_url, headers, body, _left(deadline))
        if result.error is not None:
            raise AuthFailed(
                f"oauth2 token request failed: {result.error}",
                timed_out=result.timed_out,
                failure=result.failure,
            )
        if not result.succeeded:
            raise AuthFailed(
                f"oauth2 token request failed: the token endpoint answered {result.status_code}: "
                + result.excerpt()[:200]
            )
        try:
            grant = parse_token_response(result.body)
        except ValueError as exc:
            raise AuthFailed(f"oauth2 token request failed: {exc}") from exc
        expires_at = None
        if grant.expires_in is not None:
            expires_at = time.monotonic() + grant.expires_in - EXPIRY_MARGIN_SECONDS
        return _Token(grant.access_token, expires_at)


def _merged(headers: Mapping[str, str], auth_headers: dict[str, str]) -> dict[str, str]:
    """The request headers with the credentials replacing any custom header of the same name."""
    replaced = {name.lower() for name in auth_headers}
    kept = {name: value for name, value in headers.items() if name.lower() not in replaced}
    return {**kept, **auth_headers}


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


def _fresh(token: _Token) -> bool:
    return token.expires_at is None or token.expires_at > time.monotonic()


def _cache_key(endpoint_id: str, oauth: OAuth2ClientCredentials) -> str:
    """Per endpoint and per configuration, so changed credentials never reuse an old token."""
    material = "\0".join(
        (
            oauth.token_url,
            oauth.client_id,
            oauth.client_secret,
            oauth.scope or "",
            oauth.audience or "",
            oauth.auth_method.value,
        )
    )
    return endpoint_id + ":" + hashlib.sha256(material.encode()).hexdigest()


def client_tls_context(tls: ClientTls) -> ssl.SSLContext:
    """The verification context for an endpoint's TLS settings (built once per settings)."""
    try:
        return _tls_context(tls.client_cert, tls.client_key, tls.ca_bundle)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise AuthFailed(f"client TLS settings cannot be loaded: {exc}") from exc


@lru_cache(maxsize=256)
def _tls_context(cert: str | None, key: str | None, ca_bundle: str | None) -> ssl.SSLContext:
    context = (
        ssl.create_default_context(cadata=ca_bundle) if ca_bundle else ssl.create_default_context()
    )
    if cert is not None and key is not None:
        # The ssl module loads client certificates from files only: write them to a private
        # directory for the moment it takes to load them.
        with tempfile.TemporaryDirectory(prefix="hookd-tls-") as directory:
            cert_path = os.path.join(directory, "cert.pem")
            key_path = os.path.join(directory, "key.pem")
            for path, pem in ((cert_path, cert), (key_path, key)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(pem)
            context.load_cert_chain(cert_path, key_path)
    return context
