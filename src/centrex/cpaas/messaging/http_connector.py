"""The HTTP connector: a carrier with a simple JSON API, the shape most US 10DLC wholesale providers
offer (reference cpaas-e911-numbers.md §2.5: JSON POST out, webhooks in).

Out: ``POST {base}/messages`` with ``{"from", "to", "text", "encoding", "parts", "reference"}``
(bearer token) answers ``{"id": "<carrier id>"}`` (2xx), one id for the whole message; any other
answer fails the message with its reason. In: the provider POSTs to our
``/sms-carrier/http/events`` hook (``HttpCarrierHook.handle``) either a receipt
``{"type": "receipt", "id", "status": "DELIVRD"|"UNDELIV"|…}`` or a message
``{"type": "message", "from", "to", "text"}``. A receipt of the whole message counts for every
part. Sends run on a small thread pool, so the API never waits on the provider.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from centrex.cpaas.messaging.connector import CarrierEvents, e164
from centrex.cpaas.messaging.dlr import Receipt, normalize_id
from centrex.cpaas.messaging.segments import Segmented

log = logging.getLogger(__name__)


class HttpConnector:
    name = "http"

    def __init__(self, base_url: str, token: str = "", *, timeout_s: float = 10.0, workers: int = 4) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.events: CarrierEvents | None = None
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sms-http")
        self.client = httpx.Client(timeout=timeout_s)
        self.parts: dict[str, int] = {}  # carrier id → parts of its message

    def start(self, events: CarrierEvents) -> None:
        self.events = events

    def stop(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()

    def submit(self, ref: str, from_: str, to: str, message: Segmented) -> None:
        self.pool.submit(self._post, ref, from_, to, message)

    def _post(self, ref: str, from_: str, to: str, message: Segmented) -> None:
        assert self.events is not None
        body = {
            "from": from_,
            "to": to,
            "text": message.text,
            "encoding": message.encoding,
            "parts": message.count,
        }
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            r = self.client.post(
                f"{self.base_url}/messages", json={**body, "reference": ref}, headers=headers
            )
            carrier_id = str(r.json().get("id", "")) if r.is_success else ""
            error = None if carrier_id else f"the carrier answered {r.status_code}: {r.text[:200]}"
        except (httpx.HTTPError, ValueError) as exc:
            carrier_id, error = "", f"the carrier could not be reached: {exc}"
        if error:
            for part in range(1, message.count + 1):
                self.events.submitted(ref, part, None, error)
            return
        cid = normalize_id(carrier_id)
        self.parts[cid] = message.count
        # One id for the message: every part is recorded under it with a part suffix.
        for part in range(1, message.count + 1):
            self.events.submitted(ref, part, cid if part == 1 else f"{cid}#{part}", None)

    def handle(self, event: dict[str, Any]) -> bool:
        """An event the provider posted; False when it is not one we understand."""
        if self.events is None:
            return False
        if event.get("type") == "receipt" and event.get("id") and event.get("status"):
            cid = normalize_id(str(event["id"]))
            stat = str(event["status"]).upper()
            for part in range(1, self.parts.pop(cid, 1) + 1):
                self.events.receipt(
                    Receipt(cid if part == 1 else f"{cid}#{part}", stat, str(event.get("err", "000")))
                )
            return True
        if event.get("type") == "message" and event.get("from") and event.get("to"):
            self.events.inbound(e164(str(event["from"])), e164(str(event["to"])), str(event.get("text", "")))
            return True
        return False
