"""A small SIP-over-WebSocket user agent for tests (the ``websockets`` client): REGISTER with
digest, OPTIONS, INVITE with an SDP of our choice, and reading what the switch sends."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from ssl import SSLContext

from websockets.asyncio.client import ClientConnection, connect

from centrex.sip.digest import build_authorization
from centrex.sip.message import Request, Response, parse_message


@dataclass
class WsPhone:
    ws: ClientConnection
    user: str
    domain: str
    password: str
    host: str = field(default_factory=lambda: f"{secrets.token_hex(4)}.invalid")
    cseq: int = 1
    inbox: asyncio.Queue[Request | Response] = field(default_factory=asyncio.Queue)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls, url: str, user: str, domain: str, password: str, ssl: SSLContext | None = None
    ) -> WsPhone:
        ws = await connect(url, subprotocols=["sip"], ssl=ssl)  # type: ignore[list-item]
        phone = cls(ws, user, domain, password)
        phone.reader = asyncio.create_task(phone._read())
        return phone

    async def _read(self) -> None:
        async for message in self.ws:
            data = message.encode() if isinstance(message, str) else message
            self.inbox.put_nowait(parse_message(data, stream=True))

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()

    @property
    def contact(self) -> str:
        return f"<sip:{self.user}@{self.host};transport=ws;ob>"

    def request(
        self,
        method: str,
        uri: str,
        *,
        to: str | None = None,
        call_id: str | None = None,
        from_tag: str | None = None,
        body: str = "",
        extra: dict[str, str] | None = None,
    ) -> str:
        self.cseq += 1
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/WS {self.host};branch=z9hG4bK{secrets.token_hex(8)}",
            "Max-Forwards: 70",
            f"From: <sip:{self.user}@{self.domain}>;tag={from_tag or secrets.token_hex(4)}",
            f"To: {to or f'<sip:{self.user}@{self.domain}>'}",
            f"Call-ID: {call_id or secrets.token_hex(8)}",
            f"CSeq: {self.cseq} {method}",
            f"Contact: {self.contact}",
            "Supported: path, outbound, gruu",
            "User-Agent: centrex-tests ws",
        ]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return "\r\n".join(lines) + "\r\n\r\n" + body

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def next(self, timeout: float = 10.0) -> Request | Response:
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def final(self, timeout: float = 10.0) -> Response:
        """The next final response (provisional ones skipped)."""
        while True:
            msg = await self.next(timeout)
            if isinstance(msg, Response) and msg.status >= 200:
                return msg

    async def with_auth(
        self,
        method: str,
        uri: str,
        *,
        extra: dict[str, str] | None = None,
        body: str = "",
        to: str | None = None,
    ) -> tuple[Response, str]:
        """Send, answer a 401/407 with digest; the final response and the Call-ID."""
        call_id, tag = secrets.token_hex(8), secrets.token_hex(4)
        await self.send(
            self.request(method, uri, call_id=call_id, from_tag=tag, extra=extra, body=body, to=to)
        )
        resp = await self.final()
        if resp.status not in (401, 407):
            return resp, call_id
        if method == "INVITE":  # the ACK of the challenged INVITE
            await self.send(self.ack(resp, uri))
        header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        auth = build_authorization(resp.headers.get(header) or "", method, uri, self.user, self.password)
        more = dict(extra or {})
        more["Authorization" if resp.status == 401 else "Proxy-Authorization"] = auth
        await self.send(
            self.request(method, uri, call_id=call_id, from_tag=tag, extra=more, body=body, to=to)
        )
        return await self.final(), call_id

    def ack(self, resp: Response, uri: str) -> str:
        """ACK for a final response (same branch for non-2xx is not needed on a reliable transport
        for our tests: the switch matches the ACK by dialog)."""
        via = resp.headers.get("Via") or ""
        return (
            "\r\n".join(
                [
                    f"ACK {uri} SIP/2.0",
                    f"Via: {via}",
                    "Max-Forwards: 70",
                    f"From: {resp.headers.get('From')}",
                    f"To: {resp.headers.get('To')}",
                    f"Call-ID: {resp.call_id}",
                    f"CSeq: {resp.cseq.seq} ACK",
                    "Content-Length: 0",
                ]
            )
            + "\r\n\r\n"
        )

    async def register(self, expires: int = 600) -> Response:
        resp, _ = await self.with_auth("REGISTER", f"sip:{self.domain}", extra={"Expires": str(expires)})
        return resp
