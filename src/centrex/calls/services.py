"""How a service plugs into the call core (after Kamailio's modules; STYLE.md).

The core (calls/engine.py) knows legs, dialogs, media and CDR events — no PBX feature. A service
is an object with some of the hooks below; the engine is built with a list of them and asks each
in its order, the first that handles a question wins. Every hook has a do-nothing default, so a
service writes only what it does. docs/switch.md shows the hooks and a worked example.

Routing is a value: where a call should go next is a ``Destination`` (a user, a hunt group, a
queue, an app, a number off the switch, 911), and ``CallEngine.deliver`` hands it to the service
that ``deliver``s that kind. Services never call each other's internals; they deliver
destinations through the core.

Timers: a service arms a named timer on a call with ``core.arm(call, name, at)``; when it is due
the core offers it to every service's ``timer``. Service-wide timers (queue dispatch, gateway
probes) come through ``next_timer``/``tick``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from centrex.calls.model import BLeg, Call
from centrex.sip.dialog import Dialog
from centrex.sip.events import Address, RequestReceived, TransactionKey, TransactionTimedOut, TransportError
from centrex.sip.message import Request, Response

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine
    from centrex.calls.features import Match


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a call goes next: ``kind`` names the service that takes it, ``value`` is what that
    service needs (a UserInfo, HuntGroupInfo, QueueInfo, app name, E.164 number…), ``reason`` why
    (voicemail greetings: busy, no-answer, unavailable)."""

    kind: str  # user, hunt_group, queue, app, number, emergency
    value: object = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A service's reason to refuse a new call (admission): status, cause for the CDR, reason text
    (sent in an RFC 3326 Reason header)."""

    status: int
    cause: str
    reason: str


# The hooks below, by name: the engine asks each only of the services that override it.
HOOKS = (
    "incoming",
    "request",
    "admit",
    "feature",
    "resolve",
    "deliver",
    "refer",
    "bye",
    "answered",
    "legs_failed",
    "leg_response",
    "leg_ringing",
    "leg_failed",
    "timer",
    "ended",
    "response",
    "timed_out",
    "next_timer",
    "tick",
)


class CallService:
    """Base of every service: each hook returns "not mine" (False / None) unless overridden."""

    name = "service"
    events: tuple[str, ...] = ()  # SUBSCRIBE event packages it serves (RFC 6665 Allow-Events)
    core: CallEngine

    def attach(self, core: CallEngine) -> None:
        self.core = core

    # -- requests ------------------------------------------------------------------------------
    def incoming(self, req: Request, key: TransactionKey, addr: Address, transport: str, now: float) -> bool:
        """An INVITE before authentication (a trunk's address is IP-authenticated)."""
        return False

    def request(self, event: RequestReceived, transport: str, now: float) -> bool:
        """A request the core has no dialog for (SUBSCRIBE, a request in a service's own dialog)."""
        return False

    # -- a new call ----------------------------------------------------------------------------
    def admit(self, call: Call, now: float) -> Refusal | None:
        """Refuse a new call (capacity, credit, fraud). Emergency calls never reach this."""
        return None

    def feature(self, call: Call, hit: Match, now: float) -> bool:
        """A feature code the caller dialled (the tenant's table, calls/features.py)."""
        return False

    def resolve(self, tenant_id: uuid.UUID, extension: str) -> Destination | None:
        """What an extension of the tenant that is not a user's is (a group, queue, app)."""
        return None

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        return False

    # -- in a call -----------------------------------------------------------------------------
    def refer(self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, now: float) -> bool:
        return False

    def bye(self, call: Call, side: str, now: float) -> bool:
        """A party of an answered call hung up; True: the service keeps the call going."""
        return False

    def answered(self, call: Call, leg: BLeg, now: float) -> None:
        """A leg answered a call (``call.a_dialog`` set before: the caller was answered earlier)."""

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        """Every leg of the call's current round failed (``leg`` the last, with ``status``)."""
        return False

    def leg_response(self, leg: BLeg, resp: Response, now: float) -> bool:
        """A response on a leg this service launched (``leg.owner``)."""
        return False

    def leg_ringing(self, leg: BLeg, resp: Response, now: float) -> None:
        """A leg's first provisional past 100 (180/183): the phone rings (the BLF dialog event)."""

    def leg_failed(self, leg: BLeg, status: int, now: float) -> bool:
        return False

    def timer(self, call: Call, name: str, now: float) -> bool:
        return False

    def ended(self, call: Call, now: float) -> None:
        """The call ended (before its CallEnded is emitted)."""

    # -- requests the service sent -------------------------------------------------------------
    def response(self, key: TransactionKey, resp: Response, now: float) -> bool:
        return False

    def timed_out(self, key: TransactionKey, event: TransactionTimedOut | TransportError, now: float) -> bool:
        return False

    # -- service-wide timers -------------------------------------------------------------------
    def next_timer(self) -> float | None:
        return None

    def tick(self, now: float) -> None:
        """Called on every engine timer turn."""
