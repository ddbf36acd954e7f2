"""The one way Centrex sends e-mail: the operator's SMTP server (settings ``smtp_*``), stdlib smtplib
run in a worker thread so the event loop (and the calls on it) never waits for a mail server.

    mailer = Mailer.from_settings(settings)          # None: no CENTREX_SMTP_HOST, nothing is sent
    sent = await mailer.deliver(Message(to=("pat@example.com",), subject="...", text="..."))
    sent.ok, sent.attempts, sent.detail              # "250 accepted" or the last error

A 4xx (greylisting, a busy mailbox) or a broken connection is worth another try; a 5xx is final.
``deliver`` tries ``tries`` times with exponential back-off and never raises; ``send`` tries once
and raises MailError (``permanent`` says whether trying again could help).

Why smtplib and not aiosmtplib: one message at a time per sender, a few a minute, and the stdlib
client does STARTTLS and AUTH; a thread per send costs nothing at that rate and adds no dependency.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from centrex.config import Settings

__all__ = ["Attachment", "MailError", "Mailer", "Message", "Sent", "SmtpConfig"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where mail goes and as whom (settings smtp_host, _port, _from, _starttls, _user, _password)."""

    host: str
    port: int = 25
    sender: str = "centrex-911@localhost"
    starttls: bool = False
    user: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """None when no SMTP host is configured (CENTREX_SMTP_HOST)."""
        if not settings.smtp_host:
            return None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_starttls,
            settings.smtp_user,
            settings.smtp_password,
        )


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes = field(repr=False)
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Message:
    """A plain-text message; ``sender`` empty means the configured one (smtp_from)."""

    to: tuple[str, ...]
    subject: str
    text: str
    sender: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    def to_email(self, default_sender: str) -> EmailMessage:
        if not self.to:
            raise ValueError("to: a message needs at least one recipient")
        sender = self.sender or default_sender
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = sender
        msg["To"] = ", ".join(self.to)
        msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        for name, value in self.headers.items():
            msg[name] = value
        msg.set_content(self.text)
        for a in self.attachments:
            maintype, _, subtype = a.mime_type.partition("/")
            msg.add_attachment(a.content, maintype=maintype, subtype=subtype, filename=a.filename)
        return msg


class MailError(Exception):
    """The server did not take the message. ``permanent``: a 5xx, another try will not help."""

    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Sent:
    ok: bool
    attempts: int
    detail: str  # "250 accepted" or the last error


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class Mailer:
    def __init__(
        self, config: SmtpConfig, *, timeout_s: float = 10.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        """``ssl_context`` verifies the server's STARTTLS certificate (default: the system's trust
        store); ``timeout_s`` bounds each network operation."""
        self.config = config
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> Mailer | None:
        config = SmtpConfig.from_settings(settings)
        return cls(config, **kwargs) if config is not None else None  # type: ignore[arg-type]

    def send_now(self, message: Message | EmailMessage) -> str:
        """Send once, blocking (call it from a worker thread, or use ``send``). Returns the outcome
        ("250 accepted"); raises MailError."""
        email = message.to_email(self.config.sender) if isinstance(message, Message) else message
        smtp = self.config
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=self.timeout_s) as client:
                if smtp.starttls:
                    client.starttls(context=self.ssl_context or ssl.create_default_context())
                if smtp.user:
                    client.login(smtp.user, smtp.password)
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise MailError(f"recipient refused: {code} {_text(reply)}", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            detail = f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}"
            raise MailError(detail, permanent=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused connection, timeout, dropped line
            raise MailError(f"{type(exc).__name__}: {exc}", permanent=False) from None
        return "250 accepted"

    async def send(self, message: Message | EmailMessage) -> str:
        """``send_now`` in a worker thread: the event loop goes on while the server answers."""
        return await asyncio.to_thread(self.send_now, message)

    async def deliver(
        self, message: Message | EmailMessage, *, tries: int = 3, backoff_s: float = 1.0
    ) -> Sent:
        """Send, trying a temporary failure again after backoff_s, 2*backoff_s, ... Never raises:
        the outcome is returned (and logged by the caller, who knows what the message was)."""
        detail = ""
        for attempt in range(1, max(1, tries) + 1):
            try:
                return Sent(True, attempt, await self.send(message))
            except MailError as exc:
                detail = exc.detail
                if exc.permanent:
                    return Sent(False, attempt, detail)
            except Exception as exc:  # a message that cannot be encoded: say so, never raise
                return Sent(False, attempt, f"{type(exc).__name__}: {exc}")
            if attempt < tries:
                await asyncio.sleep(backoff_s * 2 ** (attempt - 1))
        return Sent(False, max(1, tries), detail)
