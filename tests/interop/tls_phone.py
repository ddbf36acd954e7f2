"""A SIP phone over TLS made of the project's own sans-I/O parts (SIPp here is built without TLS):
an ``ssl`` socket verifying the server's certificate, StreamFramer + parse_message, and the digest
client of sip/digest.py."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from centrex.sip.digest import build_authorization
from centrex.sip.message import Response, StreamFramer, parse_message


class TlsPhone:
    def __init__(self, host: str, port: int, cafile: Path, *, timeout_s: float = 5.0) -> None:
        ctx = ssl.create_default_context(cafile=str(cafile))  # verifies chain and name (127.0.0.1)
        raw = socket.create_connection((host, port), timeout=timeout_s)
        self.sock = ctx.wrap_socket(raw, server_hostname=host)
        self.local = self.sock.getsockname()
        self.framer = StreamFramer()
        self.pending: list[bytes] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, text: str) -> None:
        self.sock.sendall(text.replace("\n", "\r\n").encode())

    def receive(self) -> Response:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the TLS connection")
            self.pending += [m for m in self.framer.feed(data) if m != StreamFramer.PING]
        message = parse_message(self.pending.pop(0), stream=True)
        assert isinstance(message, Response), message
        return message

    def register(self, user: str, domain: str, password: str, *, expires: int = 300) -> tuple[int, int]:
        """REGISTER, answer the challenge; returns (status of the first try, final status)."""
        host, port = self.local[0], self.local[1]

        def request(cseq: int, auth: str | None) -> str:
            lines = [
                f"REGISTER sip:{domain} SIP/2.0",
                f"Via: SIP/2.0/TLS {host}:{port};branch=z9hG4bKtls{cseq};rport",
                "Max-Forwards: 70",
                f"From: <sip:{user}@{domain}>;tag=tls{user}",
                f"To: <sip:{user}@{domain}>",
                f"Call-ID: tls-{user}@{host}",
                f"CSeq: {cseq} REGISTER",
                f"Contact: <sip:{user}@{host}:{port};transport=tls>",
                f"Expires: {expires}",
            ]
            if auth:
                lines.append(f"Authorization: {auth}")
            return "\n".join([*lines, "Content-Length: 0", "", ""])

        self.send(request(1, None))
        first = self.receive()
        if first.status != 401:
            return first.status, first.status
        challenges = first.headers.get_all("WWW-Authenticate")
        md5 = next((c for c in challenges if "MD5" in c), challenges[0])
        self.send(request(2, build_authorization(md5, "REGISTER", f"sip:{domain}", user, password)))
        return first.status, self.receive().status
