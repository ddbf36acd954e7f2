"""Every API request gets an id: the caller's X-Request-ID when it is a sane token (a proxy or a
client tracing its own calls), else a new one. It is set for the request's log lines (ops/logs.py
request_id_var) and returned in the response's X-Request-ID header, so a user who reports an error
can quote the id that finds its lines.

A plain ASGI middleware rather than BaseHTTPMiddleware: it adds a header and sets a context variable,
and BaseHTTPMiddleware would run the app in another task, where the variable would not be seen.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from centrex.ops.logs import request_id_var

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # nothing that could forge a log line or a header
# A new id: 16 random hex digits drawn once per process, then a counter (32 hex digits, unique
# across processes and restarts): no random bytes from the kernel per request, as uuid4 took.
_PROCESS = secrets.token_hex(8)
_NEXT = itertools.count(1)


def new_request_id() -> str:
    return f"{_PROCESS}{next(_NEXT):016x}"


def _forked() -> None:  # a forked child draws its own prefix: never the parent's ids again
    global _PROCESS, _NEXT
    _PROCESS, _NEXT = secrets.token_hex(8), itertools.count(1)


os.register_at_fork(after_in_child=_forked)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if given and _SANE.match(given) else new_request_id()
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
