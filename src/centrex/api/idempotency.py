"""`Idempotency-Key` on creating requests (POST, PUT): a retry gets the first answer, not a second
resource (the IETF httpapi idempotency-key draft, as Stripe and Twilio's users know it).

The first 2xx answer to (caller, key) is kept for 24 hours and replayed, with
`Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key
with a different request is a 422; a retry that arrives while the first is still running is a 409.
An answer that is not 2xx is not kept: nothing was created, so a retry may run again.

The caller is the bearer token, or the portal's session cookie (their SHA-256: the store never
holds either); answers of /api/v1/auth/ (sessions, tokens) are never kept. The answers are kept
in the database (table idempotency_keys, migration 0020), so a retry after a restart, or at
another node, gets the same answer; the job "idempotency-keys" (ops/jobs) deletes them after 24 h,
and one past 24 h is ignored until then. "Still in progress" (409) is known per process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

import anyio.to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from centrex.store.db import transaction
from centrex.store.models import IdempotencyRecord
from centrex.store.sessions import COOKIE as SESSION_COOKIE
from centrex.store.types import utcnow

TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 200
METHODS = ("POST", "PUT")
# Log-in and password reset: their answers carry a session or a token, never stored or replayed.
NEVER_KEPT = "/api/v1/auth/"


@dataclass(frozen=True)
class Kept:
    fingerprint: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def load(factory: sessionmaker[Session], caller: str, key: str) -> Kept | None:
    """The answer kept for (caller, key) within the last 24 hours."""
    cutoff = utcnow() - timedelta(seconds=TTL_SECONDS)
    with factory() as session:
        row = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.caller == caller,
                IdempotencyRecord.key == key,
                IdempotencyRecord.created_at >= cutoff,
            )
        )
        if row is None:
            return None
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in row.headers]
        return Kept(row.fingerprint, row.status, headers, row.body)


def keep(factory: sessionmaker[Session], caller: str, key: str, kept: Kept) -> None:
    """Store the first answer; a record past 24 h not yet swept is replaced, a concurrent one
    (another node) wins."""
    cutoff = utcnow() - timedelta(seconds=TTL_SECONDS)
    try:
        with transaction(factory) as session:
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.caller == caller,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.created_at < cutoff,
                )
            )
            session.add(
                IdempotencyRecord(
                    caller=caller,
                    key=key,
                    fingerprint=kept.fingerprint,
                    status=kept.status,
                    headers=[[k.decode("latin-1"), v.decode("latin-1")] for k, v in kept.headers],
                    body=kept.body,
                )
            )
    except IntegrityError:
        pass


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
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
        if scope["path"].startswith(NEVER_KEPT):  # answers carrying sessions or tokens
            await self.app(scope, receive, send)
            return
        caller = hashlib.sha256(_credential(headers)).hexdigest()
        slot = (caller, key)
        body, receive = await _buffer(receive)
        request = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
        fingerprint = hashlib.sha256(request.encode() + b"\n" + body).hexdigest()
        if slot in self.running:  # checked and taken before any await: no two runs of one key here
            await _error(send, 409, "a request with this Idempotency-Key is still in progress")
            return
        self.running.add(slot)
        try:
            await self._answer(scope, receive, send, slot, fingerprint)
        finally:
            self.running.discard(slot)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, slot: tuple[str, str], fingerprint: str
    ) -> None:
        caller, key = slot
        factory = scope["app"].state.sessionmaker
        kept = await anyio.to_thread.run_sync(load, factory, caller, key)
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
        start: Message = {}
        parts: list[bytes] = []

        async def record(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, record)
        status = int(start.get("status", 500))
        if 200 <= status < 300:
            answer = Kept(fingerprint, status, list(start.get("headers", [])), b"".join(parts))
            await anyio.to_thread.run_sync(keep, factory, caller, key, answer)


def _credential(headers: dict[bytes, bytes]) -> bytes:
    """Who the caller is: the bearer token, else the portal's session cookie (api/portal.py)."""
    authorization = headers.get(b"authorization", b"")
    if authorization:
        return authorization
    session = cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(SESSION_COOKIE, "")
    return b"session:" + session.encode() if session else b""


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
