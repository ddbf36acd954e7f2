"""The interface between the voice-app interpreter and the call it runs on (issue 16 §1, §2).

The interpreter (cpaas/voice/runner.py) plays, gathers and records through the call's media
(apps/media.py CallMedia); everything that changes the call itself — hanging up, rejecting before
answer, handing the call back to the switch (REFER), dialling another party and bridging it — goes
through a ``CallControl``. The app server gives one per call (apps/app_choice.py); the cpaas-calls part
implements ``dial`` (bridging on the app server). Until it does, the app server's default ``dial``
hands a single extension target to the switch by REFER.

The runner entry, ``run_voice_app(call, media, control, start, env)``, is in cpaas/voice/runner.py
(the interpreter imports these types, so it cannot live here without an import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

DialKind = Literal["number", "sip", "extension", "conference", "queue", "client"]
DialStatus = Literal["completed", "busy", "no-answer", "failed", "canceled"]


@dataclass(frozen=True, slots=True)
class DialTarget:
    """One noun of <Dial>: <Number>, <Sip>, an extension, <Conference>, <Queue> or <Client>.
    ``url``/``method``: the noun's own document, run on the callee's leg before it is bridged."""

    kind: DialKind
    value: str
    url: str | None = None
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class DialRequest:
    targets: list[DialTarget]
    caller_id: str | None = None
    timeout_s: int = 30  # Twilio's default
    time_limit_s: int = 14400  # Twilio's default: 4 hours
    record: str = "do-not-record"  # Twilio's values: do-not-record, record-from-answer, …
    answer_on_bridge: bool = False


@dataclass(frozen=True, slots=True)
class DialResult:
    """What <Dial>'s action URL is told: DialCallStatus, DialCallDuration, DialCallSid,
    RecordingSid."""

    status: DialStatus
    duration_s: int = 0
    dialed_call_sid: str | None = None
    recording_sid: str | None = None


class CallControl(Protocol):
    """What the interpreter may do to its call besides media."""

    async def hangup(self) -> None:
        """End the call (BYE if answered)."""
        ...

    async def reject(self, reason: str) -> None:
        """Refuse the call before it is answered: ``reason`` "busy" (486) or "rejected" (603)."""
        ...

    async def refer(self, target: str) -> int:
        """Hand the call back to the switch to ``target`` (an extension, or an app server user part
        such as ``conf.<id>``); returns the final SIP status of the REFER (202 accepted)."""
        ...

    async def dial(self, request: DialRequest) -> DialResult:
        """Call the targets (the first to answer wins), bridge, and return when the dialled leg
        ends; the caller's leg stays up so the interpreter can go on (Twilio's <Dial> semantics)."""
        ...


@dataclass(frozen=True, slots=True)
class AppStart:
    """Where a call's first document comes from: a URL (with method and fallback) or the document
    itself (TwiML text, or a native JSON verb list)."""

    url: str | None = None
    method: str = "POST"
    fallback_url: str | None = None
    fallback_method: str = "POST"
    document: str | None = None
    flow_id: object | None = None  # uuid.UUID: the application runs this flow instead (issue 20 §1)


@dataclass(slots=True)
class VoiceCall:
    """The call an app runs on, as the interpreter sees it (Twilio's request parameters are built
    from it). ``sid`` is the cpaas_calls row's CA… sid."""

    sid: str
    account_sid: str
    tenant_id: object  # uuid.UUID (kept loose so tests may build one without the store)
    from_number: str
    to_number: str
    direction: str = "inbound"  # inbound, outbound-api, outbound-dial
    caller_name: str | None = None
    parent_call_sid: str | None = None
    auth_token: str = ""  # the account's token, which signs every request (X-Twilio-Signature)
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = field(default_factory=lambda: frozenset({"completed"}))
    row_id: object | None = None  # cpaas_calls.id, when the call has a row
