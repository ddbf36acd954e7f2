"""911 notices delivered to real servers on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTPS
webhook receiver that checks the signature as a tenant's receiver would (verify_signature)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

from centrex.config import Settings
from centrex.e911.notice import NoticeContact, new_signing_secret, verify_signature
from centrex.e911.notifier import EmergencyNotifier, SmtpConfig
from tests.e911_store.servers import free_port, https_server, smtp_server, trusting
from tests.e911_store.test_notice import notice

FAST = {"tries": 3, "backoff_s": 0.05, "timeout_s": 5.0}


def notifier(tmp_path: Path, smtp_port: int | None) -> EmergencyNotifier:
    smtp = SmtpConfig("127.0.0.1", smtp_port, "centrex-911@provider.example") if smtp_port else None
    return EmergencyNotifier(smtp, ssl_context=trusting(tmp_path), **FAST)  # type: ignore[arg-type]


async def test_email_and_webhook_carry_caller_number_and_location(tmp_path: Path) -> None:
    secret = new_signing_secret()
    with smtp_server() as (mail, port):
        async with https_server(tmp_path) as hook:
            contacts = [
                NoticeContact("email", "security@alpha.example.com", "Front desk"),
                NoticeContact("webhook", hook.url(), "SOC", secret),
            ]
            results = await notifier(tmp_path, port).deliver(notice(), contacts)
    assert [(r.ok, r.attempts) for r in results] == [(True, 1), (True, 1)]
    (msg,) = mail.messages
    assert mail.envelopes == [("centrex-911@provider.example", ["security@alpha.example.com"])]
    assert msg["Subject"].startswith("911 call from Pat Doe (ext. 2004)")
    body = msg.get_content()
    assert "Callback:  +12175281234" in body
    assert "Location:  100 Main St, Floor 2, Room 210, Springfield, IL 62701" in body
    ((path, headers, raw),) = hook.requests
    assert path == "/e911" and headers["content-type"] == "application/json"
    assert verify_signature(secret, headers["centrex-signature"], raw, now=time.time())
    data = json.loads(raw)["data"]
    assert data["caller"]["name"] == "Pat Doe" and data["caller"]["callback_number"] == "+12175281234"
    assert data["location"]["one_line"] == "100 Main St, Floor 2, Room 210, Springfield, IL 62701"


async def test_one_contact_failing_still_delivers_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()  # nothing listens here
    secret = new_signing_secret()
    caplog.set_level(logging.INFO, logger="centrex.e911.notifier")
    with smtp_server() as (mail, port):
        async with https_server(tmp_path) as hook:
            contacts = [
                NoticeContact("webhook", f"https://127.0.0.1:{closed}/e911", "dead", new_signing_secret()),
                NoticeContact("email", "nobody@alpha.example.com"),  # refused by the server: 550
                NoticeContact("email", "guard@alpha.example.com"),
                NoticeContact("webhook", hook.url(), "SOC", secret),
            ]
            results = await notifier(tmp_path, port).deliver(notice(), contacts)
    assert [r.ok for r in results] == [False, False, True, True]
    assert results[0].attempts == 3 and "Connect" in results[0].detail  # retried, then given up
    assert results[1].attempts == 1 and "550" in results[1].detail  # permanent: not retried
    assert [e[1] for e in mail.envelopes] == [["guard@alpha.example.com"]]
    assert len(hook.requests) == 1
    logged = caplog.text
    assert "e911.notify FAILED call_id=call-1 contact=webhook:https://127.0.0.1" in logged
    assert "e911.notify delivered call_id=call-1 contact=email:guard@alpha.example.com" in logged
    assert secret not in logged


async def test_webhook_retried_on_503_with_a_fresh_signature_each_time(tmp_path: Path) -> None:
    secret = new_signing_secret()
    async with https_server(tmp_path, statuses=[503, 500]) as hook:
        (result,) = await notifier(tmp_path, None).deliver(
            notice(), [NoticeContact("webhook", hook.url(), "", secret)]
        )
    assert result.ok and result.attempts == 3 and result.detail == "HTTP 200"
    assert len(hook.requests) == 3
    bodies = {raw for _, _, raw in hook.requests}
    assert len(bodies) == 1  # the same notice each time
    assert len({h["centrex-delivery"] for _, h, _ in hook.requests}) == 1  # receivers can deduplicate
    for _, headers, raw in hook.requests:
        assert verify_signature(secret, headers["centrex-signature"], raw, now=time.time())


async def test_webhook_client_error_is_not_retried(tmp_path: Path) -> None:
    async with https_server(tmp_path, statuses=[400]) as hook:
        (result,) = await notifier(tmp_path, None).deliver(
            notice(), [NoticeContact("webhook", hook.url(), "", new_signing_secret())]
        )
    assert not result.ok and result.attempts == 1 and result.detail == "HTTP 400"


async def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    """911 notices carry a caller's location: a webhook whose certificate does not verify gets nothing."""
    async with https_server(tmp_path) as hook:
        plain = EmergencyNotifier(None, tries=1)
        (result,) = await plain.deliver(notice(), [NoticeContact("webhook", hook.url(), "", "whsec_x")])
    assert not result.ok and hook.requests == []


async def test_email_without_smtp_server_fails_alone(tmp_path: Path) -> None:
    async with https_server(tmp_path) as hook:
        results = await notifier(tmp_path, None).deliver(
            notice(),
            [NoticeContact("email", "guard@alpha.example.com"), NoticeContact("webhook", hook.url())],
        )
    assert [r.ok for r in results] == [False, True]
    assert "CENTREX_SMTP_HOST" in results[0].detail
    assert "centrex-signature" not in hook.requests[0][1]  # no secret on file: sent unsigned


async def test_submit_returns_at_once_from_sync_code_in_the_loop(tmp_path: Path) -> None:
    """The call engine is synchronous code running in the event loop: submit only schedules."""
    secret = new_signing_secret()
    async with https_server(tmp_path, statuses=[503]) as hook:
        sender = notifier(tmp_path, None)

        def engine_places_911_call() -> float:
            started = time.perf_counter()
            sender.submit(notice(), [NoticeContact("webhook", hook.url(), "", secret)])
            return time.perf_counter() - started

        took = engine_places_911_call()
        assert took < 0.05 and sender.pending == 1 and hook.requests == []
        await sender.drain(timeout_s=10)
    assert sender.pending == 0 and len(hook.requests) == 2


async def test_submit_without_contacts_or_loop_never_raises(tmp_path: Path) -> None:
    sender = notifier(tmp_path, None)
    sender.submit(notice(), [])
    await sender.drain(timeout_s=5)
    assert sender.pending == 0


def test_submit_from_a_thread_without_a_loop(tmp_path: Path) -> None:
    async def scenario() -> list[object]:
        async with https_server(tmp_path) as hook:
            sender = notifier(tmp_path, None)
            await asyncio.to_thread(sender.submit, notice(), [NoticeContact("webhook", hook.url())])
            await asyncio.wait_for(hook.received.wait(), 10)
            return list(hook.requests)

    assert len(asyncio.run(scenario())) == 1


def test_smtp_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from centrex.config import load_settings

    assert SmtpConfig.from_settings(Settings()) is None
    monkeypatch.setenv("CENTREX_SMTP_HOST", "mail.provider.example")
    monkeypatch.setenv("CENTREX_SMTP_PORT", "587")
    monkeypatch.setenv("CENTREX_SMTP_STARTTLS", "true")
    monkeypatch.setenv("CENTREX_SMTP_FROM", "911@provider.example")
    monkeypatch.setenv("CENTREX_SMTP_PASSWORD", "hunter2")
    settings = load_settings()
    smtp = SmtpConfig.from_settings(settings)
    assert smtp == SmtpConfig("mail.provider.example", 587, "911@provider.example", True, "", "hunter2")
    assert "hunter2" not in repr(settings) and "hunter2" not in repr(smtp)
