"""Real servers on 127.0.0.1 for the 911 notification tests: an SMTP server (aiosmtpd) and an
HTTPS server that answers webhooks with the statuses a test asks for."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from centrex.transport.tls import client_context, ensure_certificate, server_context


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MailHandler:
    """Keeps every message; refuses recipients whose local part starts with 'nobody'."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.startswith("nobody"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[MailHandler, int]]:
    handler = MailHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@dataclass
class Hook:
    """What the webhook server received, and the statuses it answers with (200 once exhausted)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0
    received: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/e911") -> str:
        return f"https://127.0.0.1:{self.port}{path}"


async def _handle(hook: Hook, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            hook.requests.append((target, headers, body))
            status = hook.statuses.pop(0) if hook.statuses else 200
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
            await writer.drain()
            hook.received.set()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@asynccontextmanager
async def https_server(cert_dir: Path, statuses: list[int] | None = None) -> AsyncIterator[Hook]:
    cert, key = ensure_certificate(cert_dir)
    hook = Hook(list(statuses or []))
    server = await asyncio.start_server(
        lambda r, w: _handle(hook, r, w), "127.0.0.1", 0, ssl=server_context(cert, key)
    )
    hook.port = server.sockets[0].getsockname()[1]
    try:
        yield hook
    finally:
        server.close()
        await server.wait_closed()


def trusting(cert_dir: Path) -> Any:
    """A client TLS context that trusts the test server's self-signed certificate."""
    cert, _ = ensure_certificate(cert_dir)
    return client_context(cert)
