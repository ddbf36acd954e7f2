"""The mailer (ops/mailer.py) against a real SMTP server on 127.0.0.1 (aiosmtpd): STARTTLS with the
server's certificate verified, AUTH with the configured credentials, a greylisting 451 tried again,
a refused recipient not, and the event loop free while the server takes its time."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from centrex.config import Settings
from centrex.ops.mailer import Attachment, Mailer, Message, SmtpConfig
from centrex.transport.tls import client_context, ensure_certificate, server_context


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """Greylists each sender's first ``greylist`` messages (451), refuses 'nobody@', keeps the rest."""

    greylist: int = 0
    delay_s: float = 0.0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay_s)
        if self.greylist > 0:
            self.greylist -= 1
            return "451 4.7.1 greylisted, try again later"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"pbx", b"s3cret")
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


@contextmanager
def smtp_server(tmp_path: Path, inbox: Inbox) -> Iterator[int]:
    """STARTTLS required before AUTH, AUTH required before mail: what a provider's relay asks."""
    cert, key = ensure_certificate(tmp_path / "smtp")
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(cert, key),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=inbox.authenticate,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def mailer(tmp_path: Path, port: int) -> Mailer:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="centrex@provider.example",
        smtp_starttls=True,
        smtp_user="pbx",
        smtp_password="s3cret",
    )
    made = Mailer.from_settings(settings, timeout_s=5.0)
    assert made is not None
    made.ssl_context = client_context(ensure_certificate(tmp_path / "smtp")[0])  # trust the test server
    return made


NOTICE = Message(
    to=("pat@alpha.example.com",),
    subject="Invoice INV-000123",
    text="Your invoice is attached.\n",
    headers={"Auto-Submitted": "auto-generated"},
    attachments=(Attachment("INV-000123.pdf", b"%PDF-1.4 test", "application/pdf"),),
)


async def test_a_message_goes_over_starttls_with_credentials(tmp_path: Path) -> None:
    inbox = Inbox()
    with smtp_server(tmp_path, inbox) as port:
        sent = await mailer(tmp_path, port).deliver(NOTICE, backoff_s=0.01)
    assert (sent.ok, sent.attempts, sent.detail) == (True, 1, "250 accepted")
    assert inbox.logins == ["pbx"]
    assert inbox.envelopes == [("centrex@provider.example", ["pat@alpha.example.com"])]
    (msg,) = inbox.messages
    assert msg["Subject"] == "Invoice INV-000123" and msg["From"] == "centrex@provider.example"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"].endswith("@provider.example>")
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "Your invoice is attached."
    (pdf,) = msg.iter_attachments()
    assert pdf.get_filename() == "INV-000123.pdf" and pdf.get_content() == b"%PDF-1.4 test"


async def test_greylisting_is_tried_again_and_a_refusal_is_not(tmp_path: Path) -> None:
    inbox = Inbox(greylist=1)
    with smtp_server(tmp_path, inbox) as port:
        sender = mailer(tmp_path, port)
        greylisted = await sender.deliver(NOTICE, tries=3, backoff_s=0.01)
        refused = await sender.deliver(
            Message(to=("nobody@alpha.example.com",), subject="x", text="x"), tries=3, backoff_s=0.01
        )
    assert (greylisted.ok, greylisted.attempts) == (True, 2)
    assert (refused.ok, refused.attempts) == (False, 1)
    assert refused.detail == "recipient refused: 550 5.1.1 no such user"
    assert len(inbox.messages) == 1


async def test_an_unreachable_server_is_tried_then_given_up(tmp_path: Path) -> None:
    sender = Mailer(SmtpConfig("127.0.0.1", free_port()), timeout_s=2.0)
    sent = await sender.deliver(NOTICE, tries=3, backoff_s=0.01)
    assert (sent.ok, sent.attempts) == (False, 3) and sent.detail.startswith("ConnectionRefusedError")


async def test_the_event_loop_runs_while_the_server_takes_its_time(tmp_path: Path) -> None:
    inbox = Inbox(delay_s=0.5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    with smtp_server(tmp_path, inbox) as port:
        task = asyncio.create_task(ticker())
        sent = await mailer(tmp_path, port).deliver(NOTICE)
        task.cancel()
    assert sent.ok and ticks >= 20  # the loop went on for the half second the server waited


def test_no_smtp_host_means_no_mailer() -> None:
    assert Mailer.from_settings(Settings(smtp_host="")) is None
