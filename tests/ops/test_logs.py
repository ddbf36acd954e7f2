"""Logging (ops/logs.py): JSON lines parsed back with their fields; the SIP event's Call-ID and
tenant on the lines logged while it is handled (and not after); the API request id on the request's
lines and in its X-Request-ID header."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from centrex.api.request_id import RequestIdMiddleware
from centrex.ops.logs import configure_logging, log_context, sip_labels, sip_logged
from centrex.sip.events import RequestReceived
from centrex.sip.message import parse_message

INVITE = (
    b"INVITE sip:1002@alpha.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: <sip:1002@alpha.example.com>\r\n"
    b'From: "Pat Doe" <sip:1001@Alpha.Example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.alpha.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:1001@192.0.2.10>\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@pytest.fixture(autouse=True)
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def lines() -> io.StringIO:
    out = io.StringIO()
    configure_logging("INFO", "json", out)
    return out


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_json_line_has_its_fields(lines: io.StringIO) -> None:
    log = logging.getLogger("centrex.test")
    with log_context(call_id="abc@host", tenant="alpha.example.com"):
        log.info("call.answered ext=%s", "1001")
    log.debug("not at INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("job.failed")
    first, second = parsed(lines)
    assert first["ts"].endswith("Z") and len(first["ts"]) == len("2026-12-06T12:00:00.123Z")
    assert {k: first[k] for k in ("level", "logger", "msg", "call_id", "tenant")} == {
        "level": "INFO",
        "logger": "centrex.test",
        "msg": "call.answered ext=1001",
        "call_id": "abc@host",
        "tenant": "alpha.example.com",
    }
    assert "request_id" not in first
    assert second["level"] == "ERROR" and "call_id" not in second  # the context ended with the block
    assert second["exc"].startswith("Traceback") and "ValueError: boom" in second["exc"]


def test_lines_of_a_sip_event_carry_its_call_id_and_tenant(lines: io.StringIO) -> None:
    request = parse_message(INVITE)
    event = RequestReceived(request, ("192.0.2.10", 5060), None)  # type: ignore[arg-type]
    assert sip_labels(event) == ("a84b4c76e66710@pc33.alpha.example.com", "alpha.example.com")

    class Service:  # as calls/service.py SipService._on_event
        @sip_logged
        def _on_event(self, event: object, transport: str) -> None:
            logging.getLogger("centrex.calls.engine").info("call.started via %s", transport)

    Service()._on_event(event, "udp")
    logging.getLogger("centrex.calls.service").info("timer")
    started, timer = parsed(lines)
    assert started["msg"] == "call.started via udp"
    assert started["call_id"] == "a84b4c76e66710@pc33.alpha.example.com"
    assert started["tenant"] == "alpha.example.com"
    assert "call_id" not in timer and "tenant" not in timer


def test_api_lines_carry_the_request_id_returned_in_the_header(lines: io.StringIO) -> None:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        logging.getLogger("centrex.api").info("ping")
        await asyncio.sleep(0)
        return {"ok": "yes"}

    with TestClient(app) as client:
        fresh = client.get("/ping")
        given = client.get("/ping", headers={"X-Request-ID": "lb-7f3a.42"})
        forged = client.get("/ping", headers={"X-Request-ID": 'x" injected\\n'})
    assert len(fresh.headers["X-Request-ID"]) == 32
    assert given.headers["X-Request-ID"] == "lb-7f3a.42"
    assert forged.headers["X-Request-ID"] != 'x" injected\\n' and len(forged.headers["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in parsed(lines) if line["msg"] == "ping"]
    assert ids == [fresh.headers["X-Request-ID"], "lb-7f3a.42", forged.headers["X-Request-ID"]]


def test_console_format_names_the_context() -> None:
    out = io.StringIO()
    configure_logging("INFO", "console", out)
    try:
        with log_context(call_id="abc@host", tenant="alpha.example.com"):
            logging.getLogger("centrex.calls.engine").warning("call.failed")
    finally:
        logging.getLogger().handlers[:] = [
            h for h in logging.getLogger().handlers if h.get_name() != "centrex"
        ]
    line = out.getvalue().strip()
    assert line.endswith("WARNING centrex.calls.engine [call=abc@host tenant=alpha.example.com] call.failed")
