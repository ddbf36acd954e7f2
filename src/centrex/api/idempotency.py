"""`Idempotency-Key` on creating requests (POST, PUT): a retry gets the first answer, not a second
resource (the IETF httpapi idempotency-key draft, as Stripe and Twilio's users know it).

The first 2xx answer to (caller, key) is kept for 24 hours and replayed, with
`Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key
with a different request is a 422; a retry that arrives while the first is still running is a 409.
An answer that is not 2xx is not kept: nothing was created, so a retry may run again.

The caller is the bearer token (its SHA-256: the store never holds a token). Kept in this process's
memory, bounded: a single `centrex serve` honours keys across retries, not across a restart.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TTL_SECONDS = 24 * 3600
MAX_KEYS = 10_000
MAX_KEY_LENGTH = 200
METHODS = ("POST", "PUT")


@dataclass(frozen=True)
class Kept:
    fingerprint: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    at: float


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.kept: OrderedDict[tuple[str, str], Kept] = OrderedDict()
        self.running: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key", b"").decode("latin-1").strip()
        if not key:
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            await _error(send, 422, f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
            return
        caller = hashlib.sha256(headers.get(b"authorization", b"")).hexdigest()
        slot = (caller, key)
        body, receive = await _buffer(receive)
        request = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
        fingerprint = hashlib.sha256(request.encode() + b"\n" + body).hexdigest()
        self._expire()
        kept = self.kept.get(slot)
        if kept is not None:
            if kept.fingerprint != fingerprint:
                await _error(send, 422, "this Idempotency-Key was used for a different request")
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": kept.status,
                    "headers": [*kept.headers, (b"idempotent-replayed", b"true")],
                }
            )
            await send({"type": "http.response.body", "body": kept.body})
            return
        if slot in self.running:
            await _error(send, 409, "a request with this Idempotency-Key is still in progress")
            return
        self.running.add(slot)
        start: Message = {}
        parts: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, keep)
        finally:
            self.running.discard(slot)
        status = int(start.get("status", 500))
        if 200 <= status < 300:
            self.kept[slot] = Kept(
                fingerprint, status, list(start.get("headers", [])), b"".join(parts), time.time()
            )
            while len(self.kept) > MAX_KEYS:
                self.kept.popitem(last=False)

    def _expire(self) -> None:
        limit = time.time() - TTL_SECONDS
        while self.kept:
            oldest = next(iter(self.kept.values()))
            if oldest.at >= limit:
                break
            self.kept.popitem(last=False)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body (to fingerprint it), and a receive that hands it on unchanged."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _error(send: Send, status: int, message: str) -> None:
    code = "conflict" if status == 409 else "validation_error"
    payload = json.dumps({"error": code, "message": message, "field": "Idempotency-Key"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
