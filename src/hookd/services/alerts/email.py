"""Email alert channels: one message (plain text and HTML alternatives) through the operator's
SMTP server (``HOOKD_SMTP_*``), with aiosmtplib.

The server is the operator's setting, not a user's input, so it is not behind the SSRF guard.
Its password is a ``SecretStr`` and never logged; TLS certificates are verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib

from hookd.config import Settings
from hookd.core.alerts.messages import EmailText


class EmailNotConfigured(Exception):
    """No SMTP server is configured (``HOOKD_SMTP_HOST``)."""


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_from)


def email_message(
    settings: Settings, to: Sequence[str], text: EmailText, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = text.subject
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(now)
    # The From's domain (make_msgid's default looks up this host's name).
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "hookd.invalid"
    message["Message-ID"] = make_msgid("hookd", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(text.text)
    message.add_alternative(text.html, subtype="html")
    return message


async def send_email(settings: Settings, to: Sequence[str], text: EmailText, now: datetime) -> None:
    """Send one message to every address in ``to``; raise what the SMTP exchange raised
    (``aiosmtplib.SMTPException``, ``OSError``, ``TimeoutError``)."""
    if not smtp_configured(settings):
        raise EmailNotConfigured("no SMTP server is configured (HOOKD_SMTP_HOST, HOOKD_SMTP_FROM)")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    await aiosmtplib.send(
        email_message(settings, to, text, now),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=password if settings.smtp_username else None,
        use_tls=settings.smtp_tls,
        start_tls=False if settings.smtp_tls else settings.smtp_starttls,
        timeout=settings.request_timeout,
    )
