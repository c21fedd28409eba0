"""Alert channel test support: a real SMTP server (aiosmtpd) and a realistic notice."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from hookd.services.alerts.notice import AlertNotice
from tests.pki import Pki
from tests.support import free_port

SMTP_USER, SMTP_PASSWORD = "hookd", "smtp-password-do-not-log"


def sample_notice(event: str = "opened", **changes: Any) -> AlertNotice:
    fields: dict[str, Any] = {
        "event": event,
        "issue_id": "iss_2Ab",
        "rule_id": "alrt_9Xy",
        "rule_name": "Checkout endpoints failing",
        "kind": "failure_rate",
        "summary": "Failure rate 62% ≥ 50% over 5 min (120 attempts)",
        "scope": "endpoint",
        "affected": ("ep_1", "ep_2"),
        "opened_at": datetime(2026, 12, 8, 12, 0, tzinfo=UTC),
        "resolved_at": None,
        "link": "/api/v1/app/app_1/msg?status=2",
    }
    return AlertNotice(**{**fields, **changes})


def server_tls(pki: Pki, folder: Path) -> ssl.SSLContext:
    """The SMTP server's TLS: the test CA's certificate for 127.0.0.1."""
    cert, key = folder / "smtp.pem", folder / "smtp.key"
    cert.write_text(pki.server_cert)
    key.write_text(pki.server_key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@dataclass
class Mailbox:
    """What the SMTP server accepted: each message with its envelope, and the logins."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        good = data.login == SMTP_USER.encode() and data.password == SMTP_PASSWORD.encode()
        if good:
            self.logins.append(data.login.decode())
        return AuthResult(success=good)


@contextmanager
def smtp_server(
    tls: ssl.SSLContext | None = None, *, implicit: bool = False
) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1: plain, or with ``tls`` STARTTLS required (``implicit``: TLS
    from the first byte) and a login (AUTH PLAIN or LOGIN) required after it."""
    mailbox = Mailbox()
    port = free_port()
    options: dict[str, Any] = {}
    if implicit:
        # aiosmtpd tells TLS only by STARTTLS: on a TLS port, AUTH is offered but not required
        # (the login is checked by what ``authenticate`` recorded).
        options = {"authenticator": mailbox.authenticate, "auth_require_tls": False}
        options["ssl_context"] = tls
    elif tls is not None:
        options = {"authenticator": mailbox.authenticate, "auth_required": True}
        options |= {"tls_context": tls, "require_starttls": True}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
