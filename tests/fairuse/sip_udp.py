"""A minimal SIP phone over a real UDP socket bound to any 127.x address: REGISTER, read the answer
(or learn that none came). Loopback addresses stand for different customers' NAT addresses."""

from __future__ import annotations

import asyncio
import secrets
import socket

from centrex.sip.digest import build_authorization
from centrex.sip.message import Response, parse_message

ANSWER_WAIT_S = 1.0


class UdpPhone:
    def __init__(self, host: str, server_port: int, domain: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.host, self.port = self.sock.getsockname()
        self.server = ("127.0.0.1", server_port)
        self.domain = domain
        self.cseq = 0

    def close(self) -> None:
        self.sock.close()

    def register_bytes(self, user: str, authorization: str | None = None) -> bytes:
        self.cseq += 1
        lines = [
            f"REGISTER sip:{self.domain} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.host}:{self.port};rport;branch=z9hG4bK{secrets.token_hex(8)}",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{self.domain}>;tag={secrets.token_hex(4)}",
            f"To: <sip:{user}@{self.domain}>",
            f"Call-ID: {secrets.token_hex(8)}@{self.host}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{user}@{self.host}:{self.port}>",
            "Expires: 600",
        ]
        if authorization is not None:
            lines.append(f"Authorization: {authorization}")
        return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()

    async def send(self, data: bytes, wait_s: float = ANSWER_WAIT_S) -> Response | None:
        """Send one request; its final answer, or None when nothing came within ``wait_s``."""
        loop = asyncio.get_running_loop()
        await loop.sock_sendto(self.sock, data, self.server)
        deadline = loop.time() + wait_s
        while (left := deadline - loop.time()) > 0:
            try:
                raw = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), left)
            except TimeoutError:
                return None
            message = parse_message(raw)
            if isinstance(message, Response) and message.status >= 200:
                return message
        return None

    async def register(self, user: str, authorization: str | None = None) -> Response | None:
        return await self.send(self.register_bytes(user, authorization))

    async def challenge(self, user: str) -> str:
        """The WWW-Authenticate value of a fresh 401 (the first algorithm offered)."""
        answer = await self.register(user)
        assert answer is not None and answer.status == 401, answer
        value = answer.headers.get("WWW-Authenticate")
        assert value is not None
        return value

    def answer(self, challenge: str, user: str, password: str) -> str:
        return build_authorization(challenge, "REGISTER", f"sip:{self.domain}", user, password)

    async def guess(self, user: str, password: str) -> Response | None:
        """One round of a password guess: challenge, answer it, the server's verdict."""
        challenge = await self.challenge(user)
        return await self.register(user, self.answer(challenge, user, password))
