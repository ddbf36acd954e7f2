"""Requests to the tenant's URLs: status callbacks and incoming SMS, signed with X-Twilio-Signature
(the account's auth token, cpaas/signing.py), form-encoded as Twilio's; and the TwiML an SMS URL
answers, of which the <Message> verbs are replies.

The incoming-SMS request is made here, directly (one POST, a 10 s timeout, failures logged): its
answer is the reply, wanted now or never, as Twilio's own incoming-message webhook. Status
callbacks are not: they go through the webhooks outbox (service.py ``_status_callback``), retried
with back-off and kept in the tenant's callback delivery log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import httpx
from defusedxml import ElementTree as SafeXml

from centrex.cpaas.signing import HEADER, twilio_signature

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0
MAX_TWIML = 64 * 1024


@dataclass(frozen=True)
class Reply:
    body: str
    to: str | None = None
    from_: str | None = None


def post_signed(
    url: str, params: dict[str, str], auth_token: str, method: str = "POST"
) -> httpx.Response | None:
    headers = {HEADER: twilio_signature(auth_token, url, params if method == "POST" else {})}
    try:
        with httpx.Client(timeout=TIMEOUT_S) as client:
            if method == "GET":
                return client.get(
                    url,
                    params=params,
                    headers={HEADER: twilio_signature(auth_token, str(httpx.URL(url, params=params)), {})},
                )
            return client.post(url, data=params, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("request to %s failed: %s", url, exc)
        return None


def parse_replies(text: str) -> list[Reply]:
    """The <Message> verbs of a TwiML <Response> (text, or a <Body> child; ``to``/``from`` attributes).
    Anything that is not TwiML answers no reply."""
    if not text.strip() or len(text) > MAX_TWIML:
        return []
    try:
        root: Element = SafeXml.fromstring(text)
    except Exception:
        log.warning("the SMS URL answered a document that is not TwiML")
        return []
    if root.tag != "Response":
        return []
    replies = []
    for verb in root.iter("Message"):
        body_el = verb.find("Body")
        body = (body_el.text if body_el is not None else verb.text) or ""
        if body.strip():
            replies.append(Reply(body.strip(), verb.get("to"), verb.get("from")))
    return replies


class Dispatcher:
    """A few threads that make the tenant's requests, so no carrier event waits on a customer's server."""

    def __init__(self, workers: int = 4) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sms-hooks")

    def submit(self, fn: Callable[..., object], *args: object) -> Future[object]:
        return self.pool.submit(fn, *args)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)
