"""How hookd authenticates to an endpoint: basic, bearer, OAuth 2.0 client credentials, mTLS.

Pure: the settings, their stored and masked JSON forms, their validation, and the header and
token-request values they produce. Fetching tokens and building TLS contexts is
``hookd.engine.auth``'s job.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

MASK = "****"
SHOWN_SUFFIX = 4
MIN_SHOWN_LENGTH = 16  # shorter secrets are masked completely
# RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by one space.
SCOPE = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1F\x7F]")


class ClientAuthMethod(StrEnum):
    """How the client authenticates to the token URL (RFC 7591 ``token_endpoint_auth_method``)."""

    # RFC 6749 2.3.1: HTTP Basic with the form-encoded id and secret; every server must accept it.
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    # RFC 6749 2.3.1: client_id and client_secret as form parameters, for servers without Basic.
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 - a method name, not a secret


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class BearerAuth:
    token: str


@dataclass(frozen=True, slots=True)
class OAuth2ClientCredentials:
    """RFC 6749 section 4.4; the client authenticates to the token URL as ``auth_method`` says."""

    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None
    audience: str | None = None
    auth_method: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC


EndpointAuth = BasicAuth | BearerAuth | OAuth2ClientCredentials


@dataclass(frozen=True, slots=True)
class ClientTls:
    """Mutual TLS: a client certificate and key (PEM), and/or the CAs to trust (PEM)."""

    client_cert: str | None = None
    client_key: str | None = None
    ca_bundle: str | None = None


class AuthConfigError(ValueError):
    """Settings that cannot work; ``field`` is the camelCase key at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def mask(secret: str) -> str:
    """What GET shows of a secret: its last four characters at most."""
    if len(secret) < MIN_SHOWN_LENGTH:
        return MASK
    return MASK + secret[-SHOWN_SUFFIX:]


def auth_to_json(auth: EndpointAuth, *, masked: bool = False) -> dict[str, Any]:
    """The API (camelCase) form; ``masked`` hides passwords, tokens and client secrets."""
    hide = mask if masked else str
    if isinstance(auth, BasicAuth):
        return {"type": "basic", "username": auth.username, "password": hide(auth.password)}
    if isinstance(auth, BearerAuth):
        return {"type": "bearer", "token": hide(auth.token)}
    return {
        "type": "oauth2",
        "tokenUrl": auth.token_url,
        "clientId": auth.client_id,
        "clientSecret": hide(auth.client_secret),
        "scope": auth.scope,
        "audience": auth.audience,
        "clientAuthMethod": auth.auth_method.value,
    }


def auth_from_json(data: Mapping[str, Any], stored: EndpointAuth | None = None) -> EndpointAuth:
    """Parse the API form; a masked secret equal to ``stored``'s mask keeps the stored secret."""
    kind = data.get("type")
    if kind == "basic":
        username = _required(data, "username")
        if ":" in username:
            raise AuthConfigError("username", "a basic auth username cannot contain ':'")
        old = stored.password if isinstance(stored, BasicAuth) else None
        return BasicAuth(username, _secret(data, "password", old))
    if kind == "bearer":
        old = stored.token if isinstance(stored, BearerAuth) else None
        return BearerAuth(_secret(data, "token", old))
    if kind == "oauth2":
        old = stored.client_secret if isinstance(stored, OAuth2ClientCredentials) else None
        return OAuth2ClientCredentials(
            token_url=_required(data, "tokenUrl"),
            client_id=_required(data, "clientId"),
            client_secret=_secret(data, "clientSecret", old),
            scope=_scope(data.get("scope")),
            audience=_audience(data.get("audience")),
            auth_method=_auth_method(data.get("clientAuthMethod")),
        )
    raise AuthConfigError("type", f"auth type must be basic, bearer or oauth2, not {kind!r}")


def tls_to_json(tls: ClientTls, *, masked: bool = False) -> dict[str, Any]:
    key = tls.client_key
    return {
        "clientCert": tls.client_cert,
        "clientKey": mask(key) if masked and key is not None else key,
        "caBundle": tls.ca_bundle,
    }


def tls_from_json(data: Mapping[str, Any], stored: ClientTls | None = None) -> ClientTls:
    """Parse and check the API form: PEMs that load, and a key that matches the certificate."""
    old_key = stored.client_key if stored is not None else None
    key = data.get("clientKey") or None
    if key is not None and old_key is not None and key == mask(old_key):
        key = old_key
    tls = ClientTls(data.get("clientCert") or None, key, data.get("caBundle") or None)
    check_tls(tls)
    return tls


def check_tls(tls: ClientTls) -> None:
    if tls.client_cert is None and tls.client_key is None and tls.ca_bundle is None:
        raise AuthConfigError("clientCert", "set clientCert and clientKey, caBundle, or both")
    if (tls.client_cert is None) != (tls.client_key is None):
        raise AuthConfigError("clientKey", "clientCert and clientKey go together")
    if tls.ca_bundle is not None:
        _certificates(tls.ca_bundle, "caBundle")
    if tls.client_cert is not None and tls.client_key is not None:
        leaf = _certificates(tls.client_cert, "clientCert")[0]
        try:
            key = serialization.load_pem_private_key(tls.client_key.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise AuthConfigError(
                "clientKey", f"clientKey is not an unencrypted PEM private key: {exc}"
            ) from exc
        if _public_der(key.public_key()) != _public_der(leaf.public_key()):
            raise AuthConfigError("clientKey", "clientKey does not match clientCert")


def authorization_header(auth: BasicAuth | BearerAuth) -> str:
    if isinstance(auth, BasicAuth):
        return basic_credentials(auth.username, auth.password)
    return f"Bearer {auth.token}"


def basic_credentials(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def token_request(oauth: OAuth2ClientCredentials) -> tuple[dict[str, str], bytes]:
    """Headers and form body of the client-credentials token request (RFC 6749 2.3.1, 4.4.2)."""
    form = {"grant_type": "client_credentials"}
    if oauth.scope:
        form["scope"] = oauth.scope
    if oauth.audience:
        form["audience"] = oauth.audience
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    if oauth.auth_method is ClientAuthMethod.CLIENT_SECRET_POST:
        form["client_id"] = oauth.client_id
        form["client_secret"] = oauth.client_secret
    else:
        # RFC 6749 2.3.1: the id and secret are form-encoded before the Basic encoding.
        headers["Authorization"] = basic_credentials(
            quote(oauth.client_id, safe=""), quote(oauth.client_secret, safe="")
        )
    return headers, urlencode(form).encode()


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    expires_in: float | None  # seconds; None when the server did not say


def parse_token_response(body: bytes) -> TokenGrant:
    """Read an RFC 6749 5.1 answer; ValueError when it carries no usable bearer token."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError("the token endpoint did not answer JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise ValueError("the token endpoint's answer has no access_token")
    token_type = str(data.get("token_type") or "bearer")
    if token_type.lower() != "bearer":
        raise ValueError(f"token type {token_type!r} is not supported (only bearer)")
    expires_in = data.get("expires_in")
    try:
        seconds = float(expires_in) if expires_in is not None else None
    except (TypeError, ValueError):
        seconds = None
    return TokenGrant(data["access_token"], seconds)


def _required(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise AuthConfigError(name, f"{name} is required")
    if "\r" in value or "\n" in value:
        raise AuthConfigError(name, f"{name} cannot contain a line break")
    return value


def _scope(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not SCOPE.fullmatch(value):
        raise AuthConfigError(
            "scope",
            "scope must be scope tokens separated by single spaces (printable ASCII, "
            "no quotes or backslashes; RFC 6749 3.3)",
        )
    return value


def _audience(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or CONTROL_CHARACTERS.search(value) or not value.strip():
        raise AuthConfigError("audience", "audience must be text without control characters")
    return value


def _auth_method(value: Any) -> ClientAuthMethod:
    if value is None:
        return ClientAuthMethod.CLIENT_SECRET_BASIC
    try:
        return ClientAuthMethod(value)
    except ValueError:
        methods = ", ".join(method.value for method in ClientAuthMethod)
        raise AuthConfigError(
            "clientAuthMethod", f"clientAuthMethod must be one of {methods}, not {value!r}"
        ) from None


def _secret(data: Mapping[str, Any], name: str, stored: str | None) -> str:
    value = _required(data, name)
    if stored is not None and value == mask(stored):
        return stored  # a GET's masked value sent back unchanged
    return value


def _certificates(pem: str, field: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise AuthConfigError(field, f"{field} is not a PEM certificate: {exc}") from exc
    return certificates


def _public_der(key: Any) -> bytes:
    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der
