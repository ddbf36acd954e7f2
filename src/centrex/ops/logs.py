"""Logging, configured once (``centrex serve --log-level --log-format``): stdlib logging, one handler
on the root logger, console lines for people or one JSON object a line for a log shipper.

Lines carry what they are about without each call site passing it: context variables hold the SIP
event being handled (set where calls/service.py dispatches an event, by ``sip_logged``; its Call-ID
and tenant are read only for lines actually logged), the call being handled where no message is
(its timers and its end: calls/log_labels.py), a Call-ID and tenant set by ``log_context``, and
the request id of the API request (api/request_id.py); ContextFilter copies them onto every
record. asyncio tasks started while handling an event or a request inherit them.

Every line of a call carries the same Call-ID, the caller's (the A-leg's): a message on one of the
B-legs the switch sent (their own Call-IDs, RFC 3261 §8.1.1.4) is labelled with the call it belongs
to, found in the engine's indexes when the line is written; and the tenant is the tenant's SIP
domain (for a call from a carrier, the tenant called, not the carrier's domain in its From).

    {"ts": "2026-12-06T12:00:00.123Z", "level": "INFO", "logger": "centrex.calls.engine",
     "msg": "call.answered ...", "call_id": "a84b4c76e66710", "tenant": "alpha.example.com"}

Why the standard library and not structlog: every module already logs with ``logging.getLogger``
(and so do uvicorn, SQLAlchemy and alembic); one formatter and one filter give them all the same
shape, with no second API to learn.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

call_id_var: ContextVar[str | None] = ContextVar("centrex_call_id", default=None)
tenant_var: ContextVar[str | None] = ContextVar("centrex_tenant", default=None)
request_id_var: ContextVar[str | None] = ContextVar("centrex_request_id", default=None)
# The SIP event being handled: its labels are read from it only when a line is actually logged, so
# the call path pays one variable set per message, not a header lookup (bench/bench_logging.py).
sip_event_var: ContextVar[object | None] = ContextVar("centrex_sip_event", default=None)
# The call being handled (calls/log_labels.py sets it where no SIP message of the call is: its
# timers, its end): labelled with its caller's Call-ID and its tenant's domain, read lazily too.
call_var: ContextVar[object | None] = ContextVar("centrex_call", default=None)
# The call engines of this process (their B-leg and A-leg indexes): a message on a B-leg's Call-ID
# is labelled with the call's own (the caller's) Call-ID, so every line of a call shares one.
_engines: weakref.WeakSet[Any] = weakref.WeakSet()

CONTEXT = (("call_id", call_id_var), ("tenant", tenant_var), ("request_id", request_id_var))


class ContextFilter(logging.Filter):
    """Puts the context variables on each record (``record.call_id`` ... None when unset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in CONTEXT:
            if not hasattr(record, name):  # an explicit extra={"call_id": ...} wins
                setattr(record, name, var.get())
        if record.call_id is not None:  # type: ignore[attr-defined]
            return True
        call = call_var.get()
        event = sip_event_var.get() if call is None else None
        if event is not None:
            call_id, tenant = sip_labels(event)
            call = _call_of(event, call_id)
            if call is None:
                record.call_id = call_id
                if record.tenant is None:  # type: ignore[attr-defined]
                    record.tenant = tenant
        if call is not None:
            record.call_id, tenant = call_labels(call)
            if record.tenant is None:  # type: ignore[attr-defined]
                record.tenant = tenant
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts (UTC, ms), level, logger, msg, the context fields that are set,
    ``exc`` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "ts": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, _ in CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """``12:00:00.123 INFO  centrex.calls.engine [call=a84b tenant=alpha] call.answered ...``"""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s %(context)s%(message)s", "%H:%M:%S"
        )

    def format(self, record: logging.LogRecord) -> str:
        short = {"call_id": "call", "tenant": "tenant", "request_id": "req"}
        parts = [f"{short[n]}={getattr(record, n)}" for n, _ in CONTEXT if getattr(record, n, None)]
        record.context = f"[{' '.join(parts)}] " if parts else ""
        return super().format(record)


_HANDLER_NAME = "centrex"


def configure_logging(level: str = "INFO", fmt: str = "console", stream: IO[str] | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) in ``fmt`` (console | json) from ``level``
    up. Calling it again replaces the handler it added, never others' (pytest's, for one)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())


@contextmanager
def log_context(*, call_id: str | None = None, tenant: str | None = None) -> Iterator[None]:
    """Lines logged inside carry this Call-ID and tenant; the previous values come back after."""
    tokens = (call_id_var.set(call_id), tenant_var.set(tenant))
    try:
        yield
    finally:
        tenant_var.reset(tokens[1])
        call_id_var.reset(tokens[0])


def sip_labels(event: object) -> tuple[str | None, str | None]:
    """The Call-ID and tenant (the SIP domain of the From address, which for a tenant's phones and
    its calls is the tenant's domain) of a SIP event; None for what it does not carry. Never raises:
    a message that cannot be read is logged without them."""
    message = getattr(event, "request", None) or getattr(event, "response", None)
    headers = getattr(message, "headers", None)
    if headers is None:
        return None, None
    call_id = headers.get("Call-ID")
    # A regex on the raw header, not a full parse: this runs for every SIP message.
    found = _FROM_HOST.search(headers.get("From") or "")
    return (call_id.strip() if call_id else None), (found.group(1).lower() if found else None)


def call_labels(call: object) -> tuple[str | None, str | None]:
    """A call's (calls/model.py Call) labels: its caller's Call-ID and its tenant's SIP domain."""
    invite = getattr(call, "a_invite", None)
    tenant = getattr(call, "tenant", None)
    return (invite.call_id if invite is not None else None), getattr(tenant, "domain", None)


def index_calls(engine: object) -> None:
    """Let lines of messages on this engine's calls carry the call's labels (calls/service.py)."""
    _engines.add(engine)


def _call_of(event: object, call_id: str | None) -> object | None:
    """The call a SIP message belongs to, if an engine of this process has it: a B-leg's by its
    Call-ID, the caller's by Call-ID and From tag. Only for lines actually logged."""
    if call_id is None:
        return None
    for engine in list(_engines):
        leg = engine.legs_by_callid.get(call_id)
        if leg is not None:
            return leg.call
        message = getattr(event, "request", None) or getattr(event, "response", None)
        tag = _FROM_TAG.search(message.headers.get("From") or "") if message is not None else None
        if tag is not None:
            call = engine.by_a_dialog.get((call_id, tag.group(1)))
            if call is not None:
                return call
    return None


_FROM_TAG = re.compile(r";\s*tag=([^;\s,]+)", re.IGNORECASE)
_FROM_HOST = re.compile(r"sips?:(?:[^@>;\s]*@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])")


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def sip_logged(method: Callable[Concatenate[S, Any, P], R]) -> Callable[Concatenate[S, Any, P], R]:
    """Decorates the method that dispatches a SIP event (first argument after self): every line
    logged while it runs carries the event's Call-ID and tenant."""

    @functools.wraps(method)
    def wrapper(self: S, event: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        token = sip_event_var.set(event)
        call = call_var.set(None)  # a call named while handling the event is forgotten after it
        try:
            return method(self, event, *args, **kwargs)
        finally:
            call_var.reset(call)
            sip_event_var.reset(token)

    return wrapper


def call_scoped(method: Callable[P, R]) -> Callable[P, R]:
    """Decorates what runs the switch outside a SIP message (its timers): a call named inside
    (``call_var``) labels the lines logged after, until the method returns."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = call_var.set(None)
        try:
            return method(*args, **kwargs)
        finally:
            call_var.reset(token)

    return wrapper
