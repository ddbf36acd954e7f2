"""What the tenant's designated contacts are told of a 911 call: the notice, its e-mail and its
signed webhook. Pure: no sockets, no clock (the caller passes the time); e911/notifier.py sends.

Issue 6 point 6: "every 911 call notifies the tenant's designated contacts (e-mail and webhook) with
the caller, number and location". Kari's Law (47 CFR 9.16, as summarised in
shared/reference/cpaas-e911-numbers.md §3.1): the notification carries the fact that a 911 call was
made, a valid callback number and the location conveyed to the PSAP, and must not delay the call.
The location is the registered dispatchable location (voip-service-guide.txt §V.14.2.1 "the
registered primary service address of that ANI as ALI", §V.14.2.3 floor and room).

Webhooks are signed the way shared/reference/cpaas-e911-numbers.md §1.3 recommends for our native
API (jambonz / Stripe style): `Centrex-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw
body>")>`, checked within a 300 s window, several `v1=` allowed so a secret can be rotated.
`verify_signature` is what a receiver runs; it uses only the standard library so it can be copied.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from centrex.cpaas.webhook_signing import hex_signature
from centrex.e911.address import CivicAddress

__all__ = [
    "EVENT_TYPE",
    "SIGNATURE_HEADER",
    "EmergencyNotice",
    "NoticeContact",
    "email_message",
    "email_subject",
    "email_text",
    "new_signing_secret",
    "sign",
    "signature_header",
    "verify_signature",
    "webhook_body",
    "webhook_headers",
    "webhook_payload",
]

EVENT_TYPE = "e911.call"
SIGNATURE_HEADER = "Centrex-Signature"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300  # jambonz/Stripe: a signature older (or newer) than 5 minutes is refused
NO_LOCATION = "no registered location"

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@dataclass(frozen=True, slots=True)
class NoticeContact:
    """One designated contact as the sender needs it (a copy of an e911_contacts row)."""

    kind: str  # "email" or "webhook" (store.models.numbering NotifyKind values)
    address: str  # e-mail address, or the https URL of the webhook
    name: str = ""
    secret: str | None = None  # the webhook's signing secret
    id: uuid.UUID | None = None

    def describe(self) -> str:
        """For logs: the kind and where, never the secret."""
        return f"{self.kind}:{self.address}"


@dataclass(frozen=True, slots=True)
class EmergencyNotice:
    """One 911 call, as its notifications describe it."""

    tenant_id: uuid.UUID
    call_id: str
    at: datetime  # when the call was placed, UTC
    caller_name: str
    extension: str
    callback: str | None  # the callback number (E.164) sent as ANI, or None when there is none
    device: str  # the SIP username of the phone that dialled
    location: CivicAddress | None  # the registered dispatchable location sent to the PSAP
    location_source: str = ""  # "device" or "user": whose registered location it is
    psap: str = ""
    esn: str = ""
    tenant_name: str = ""
    dialled: str = "911"  # as dialled: 911 or 9911 (Kari's Law direct dialling)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("at must be timezone-aware (UTC)")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        if self.callback is not None and not _E164.match(self.callback):
            raise ValueError(f"callback number '{self.callback}' is not E.164")

    @property
    def no_registered_location(self) -> bool:
        return self.location is None

    @property
    def location_line(self) -> str:
        return self.location.one_line() if self.location is not None else NO_LOCATION

    @property
    def caller_line(self) -> str:
        name = self.caller_name or self.device
        return f"{name} (ext. {self.extension})" if self.extension else name

    @property
    def notice_id(self) -> str:
        """Stable per call and tenant, so a receiver can drop a retried delivery it already has."""
        return "e911_" + hashlib.sha256(f"{self.tenant_id}/{self.call_id}".encode()).hexdigest()[:24]


# --- e-mail ----------------------------------------------------------------------------------------


def email_subject(notice: EmergencyNotice) -> str:
    return f"911 call from {notice.caller_line}: {notice.location_line}"


def _location_lines(notice: EmergencyNotice) -> list[str]:
    loc = notice.location
    if loc is None:
        return [
            "Location:  NO REGISTERED LOCATION. The PSAP received no address for this phone;",
            "           register one for this phone or its user (voip-service-guide.txt §V.14.2).",
        ]
    lines = [f"Location:  {loc.one_line()}"]
    if loc.location_name:
        lines.append(f"Building:  {loc.location_name}")
    for label, value in (("Floor", loc.floor), ("Unit", loc.unit), ("Room", loc.room)):
        if value:
            lines.append(f"{label + ':':<10} {value}")
    source = {"device": "the phone's registered location", "user": "the user's registered location"}
    if notice.location_source in source:
        lines.append(f"           ({source[notice.location_source]})")
    return lines


def email_text(notice: EmergencyNotice) -> str:
    """The plain-text body: the fact of the call, who, the callback number and the location."""
    when = notice.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"A 911 call was placed{' from ' + notice.tenant_name if notice.tenant_name else ''}.",
        "",
        f"Caller:    {notice.caller_name or '(no name)'}",
        f"Extension: {notice.extension or '(none)'}",
        f"Callback:  {notice.callback or 'none: the PSAP has no number to call back'}",
        f"Phone:     {notice.device}",
        f"Dialled:   {notice.dialled}",
        f"Time:      {when}",
        *_location_lines(notice),
    ]
    if notice.psap:
        lines.append(f"PSAP:      {notice.psap}")
    lines += [
        f"Call ID:   {notice.call_id}",
        "",
        "You receive this because you are a designated 911 contact of this account (Kari's Law,",
        "47 CFR 9.16). The call went to the emergency services with the location above.",
    ]
    return "\n".join(lines) + "\n"


def email_message(notice: EmergencyNotice, sender: str, to: str, domain: str = "") -> EmailMessage:
    """An RFC 5322 message to one contact, marked urgent."""
    msg = EmailMessage()
    msg["Subject"] = email_subject(notice)
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(notice.at)
    msg["Message-ID"] = make_msgid(notice.notice_id, domain=domain or None)
    msg["X-Priority"] = "1"
    msg["Importance"] = "high"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    msg["X-Centrex-Event"] = EVENT_TYPE
    msg.set_content(email_text(notice))
    return msg


# --- webhook ---------------------------------------------------------------------------------------


def _civic(loc: CivicAddress) -> dict[str, str]:
    return {
        "house_number": loc.house_number,
        "street": loc.street,
        "city": loc.city,
        "state": loc.state,
        "postal_code": loc.postal_code,
        "country": loc.country,
        "unit": loc.unit,
        "floor": loc.floor,
        "room": loc.room,
        "location_name": loc.location_name,
    }


def webhook_payload(notice: EmergencyNotice) -> dict[str, Any]:
    return {
        "id": notice.notice_id,
        "type": EVENT_TYPE,
        "created": int(notice.at.timestamp()),
        "data": {
            "tenant_id": str(notice.tenant_id),
            "tenant_name": notice.tenant_name,
            "call_id": notice.call_id,
            "at": notice.at.isoformat().replace("+00:00", "Z"),
            "dialled": notice.dialled,
            "caller": {
                "name": notice.caller_name,
                "extension": notice.extension,
                "callback_number": notice.callback,
                "device": notice.device,
            },
            "location_registered": not notice.no_registered_location,
            "location": None
            if notice.location is None
            else {
                "one_line": notice.location.one_line(),
                "source": notice.location_source,
                **_civic(notice.location),
            },
            "psap": notice.psap,
            "esn": notice.esn,
        },
    }


def webhook_body(notice: EmergencyNotice) -> bytes:
    """The exact bytes that are signed and sent (compact JSON, UTF-8)."""
    return json.dumps(webhook_payload(notice), separators=(",", ":"), ensure_ascii=False).encode()


def new_signing_secret() -> str:
    """A webhook signing key: 32 random bytes, shown once to the tenant when the contact is made."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>" with the secret as key: the Centrex-Signature of
    every native webhook (cpaas/webhook_signing.py, the one implementation)."""
    return hex_signature(secret, timestamp, body)


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def webhook_headers(
    notice: EmergencyNotice, body: bytes, secret: str | None, timestamp: int
) -> dict[str, str]:
    """Headers of one delivery attempt. `timestamp` is the time of the attempt (unix seconds), so a
    retry carries a fresh signature. A contact without a secret (made before secrets existed) gets
    the notice unsigned: telling someone of a 911 call matters more than the signature."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Centrex-E911/1",
        "Centrex-Event": EVENT_TYPE,
        "Centrex-Delivery": notice.notice_id,
    }
    if secret:
        headers[SIGNATURE_HEADER] = signature_header(secret, timestamp, body)
    return headers


def verify_signature(
    secret: str, header: str, body: bytes, now: float, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> bool:
    """True if `header` (the Centrex-Signature value) signs `body` (the raw request bytes) with
    `secret`, and its timestamp is within `tolerance_s` of `now` (unix seconds).

    Copy this into your receiver (it needs only hashlib and hmac):

        import hashlib, hmac

        def verify_signature(secret, header, body, now, tolerance_s=300):
            items = [p.split("=", 1) for p in header.split(",") if "=" in p]
            stamps = [v for k, v in items if k.strip() == "t"]
            sigs = [v.strip() for k, v in items if k.strip() == "v1"]
            if len(stamps) != 1 or not stamps[0].strip().isdigit() or not sigs:
                return False
            t = int(stamps[0])
            if abs(now - t) > tolerance_s:
                return False
            mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256)
            return any(hmac.compare_digest(mac.hexdigest(), s) for s in sigs)
    """
    items = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in items if key.strip() == "t"]
    signatures = [value.strip() for key, value in items if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
