"""Sending 911 notices (the I/O edge of e911/notice.py): e-mail through the operator's SMTP server
(ops/mailer.py) and signed webhooks by HTTPS POST.

Each contact is tried up to `tries` times with exponential back-off and a timeout per try; every
outcome is logged (`e911.notify ...`). One contact failing never stops the others, and nothing here
ever touches the call: the call engine hands the notice to `submit`, which only schedules the work
on the event loop and returns (Kari's Law, shared/reference/cpaas-e911-numbers.md §3.1: the
notification must not delay the call; §3.4 item 5: "fire asynchronously at call start").
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from centrex.config import Settings
from centrex.e911.notice import (
    EmergencyNotice,
    NoticeContact,
    email_message,
    webhook_body,
    webhook_headers,
)
from centrex.ops.mailer import Mailer, MailError, SmtpConfig

__all__ = ["Delivery", "EmergencyNotifier", "SmtpConfig"]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one contact's notice."""

    contact: NoticeContact
    ok: bool
    attempts: int
    detail: str  # "250 accepted", "HTTP 204", or the last error


class _Permanent(Exception):
    """A failure that another try will not fix (a refused recipient, HTTP 400)."""


class EmergencyNotifier:
    def __init__(
        self,
        smtp: SmtpConfig | None,
        *,
        tries: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`ssl_context` verifies webhook servers and the SMTP server's STARTTLS certificate
        (default: the system's trust store); `clock` gives the signature timestamps."""
        if tries < 1:
            raise ValueError("tries must be at least 1")
        self.smtp = smtp
        self.tries = tries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context
        self.clock = clock
        self._tasks: set[asyncio.Task[list[Delivery]]] = set()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> EmergencyNotifier:
        return cls(SmtpConfig.from_settings(settings), **kwargs)  # type: ignore[arg-type]

    # -- the engine's entry point -------------------------------------------------------------------
    def submit(self, notice: EmergencyNotice, contacts: Iterable[NoticeContact]) -> None:
        """Schedule delivery and return at once. Safe to call from synchronous code running in the
        event loop (the call engine); from a thread without a loop it delivers on a thread of its own.
        Never raises."""
        try:
            targets = list(contacts)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is None:
                threading.Thread(
                    target=asyncio.run, args=(self.deliver(notice, targets),), name="e911-notify", daemon=True
                ).start()
                return
            task = loop.create_task(self.deliver(notice, targets), name=f"e911-notify-{notice.call_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        except Exception:  # the call must go on whatever happens here
            log.exception("e911.notify could not be scheduled call_id=%s", notice.call_id)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout_s: float | None = None) -> None:
        """Wait for the deliveries scheduled by `submit` (at shutdown, and in tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    # -- delivery ------------------------------------------------------------------------------------
    async def deliver(self, notice: EmergencyNotice, contacts: Iterable[NoticeContact]) -> list[Delivery]:
        """Notify every contact concurrently; one result per contact, in order. Never raises."""
        targets = list(contacts)
        if notice.no_registered_location:
            log.warning(
                "e911.notify call_id=%s tenant=%s device=%s: no registered location to report",
                notice.call_id,
                notice.tenant_id,
                notice.device,
            )
        if not targets:
            log.error(
                "e911.notify call_id=%s tenant=%s: the tenant has no designated 911 contacts",
                notice.call_id,
                notice.tenant_id,
            )
            return []
        results = await asyncio.gather(*(self._one(notice, c) for c in targets))
        return list(results)

    async def _one(self, notice: EmergencyNotice, contact: NoticeContact) -> Delivery:
        attempts = 0
        detail = ""
        while attempts < self.tries:
            attempts += 1
            try:
                if contact.kind == "email":
                    detail = await self._email(notice, contact)
                elif contact.kind == "webhook":
                    detail = await self._webhook(notice, contact)
                else:
                    raise _Permanent(f"unknown contact kind {contact.kind!r}")
            except _Permanent as exc:
                detail = str(exc)
                break
            except Exception as exc:  # any failure of this contact is logged, retried, never raised
                detail = f"{type(exc).__name__}: {exc}"
                if attempts < self.tries:
                    delay = self.backoff_s * 2 ** (attempts - 1)
                    log.warning(
                        "e911.notify retry call_id=%s contact=%s attempt=%d in %.2fs: %s",
                        notice.call_id,
                        contact.describe(),
                        attempts,
                        delay,
                        detail,
                    )
                    await asyncio.sleep(delay)
                continue
            log.info(
                "e911.notify delivered call_id=%s contact=%s attempts=%d %s",
                notice.call_id,
                contact.describe(),
                attempts,
                detail,
            )
            return Delivery(contact, True, attempts, detail)
        log.error(
            "e911.notify FAILED call_id=%s contact=%s attempts=%d: %s",
            notice.call_id,
            contact.describe(),
            attempts,
            detail,
        )
        return Delivery(contact, False, attempts, detail)

    # -- e-mail ------------------------------------------------------------------------------------
    async def _email(self, notice: EmergencyNotice, contact: NoticeContact) -> str:
        smtp = self.smtp
        if smtp is None:
            raise _Permanent("no SMTP server is configured (CENTREX_SMTP_HOST)")
        domain = smtp.sender.rpartition("@")[2]
        message = email_message(notice, smtp.sender, contact.address, domain=domain)
        mailer = Mailer(smtp, timeout_s=self.timeout_s, ssl_context=self.ssl_context)
        try:
            return await mailer.send(message)
        except MailError as exc:
            if exc.permanent:  # a refused recipient: another try will not help
                raise _Permanent(exc.detail) from None
            raise  # greylisting, a busy mailbox, a dropped connection: tried again

    # -- webhook -----------------------------------------------------------------------------------
    async def _webhook(self, notice: EmergencyNotice, contact: NoticeContact) -> str:
        body = webhook_body(notice)
        headers = webhook_headers(notice, body, contact.secret, int(self.clock()))
        if not contact.secret:
            log.warning(
                "e911.notify call_id=%s contact=%s has no signing secret: sent unsigned",
                notice.call_id,
                contact.describe(),
            )
        verify: ssl.SSLContext | bool = self.ssl_context if self.ssl_context is not None else True
        async with httpx.AsyncClient(timeout=self.timeout_s, verify=verify, follow_redirects=False) as client:
            response = await client.post(contact.address, content=body, headers=headers)
        if 200 <= response.status_code < 300:
            return f"HTTP {response.status_code}"
        if response.status_code in RETRY_STATUSES:
            raise RuntimeError(f"HTTP {response.status_code}")
        raise _Permanent(f"HTTP {response.status_code}")
