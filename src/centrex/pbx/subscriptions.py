"""RFC 6665 subscriptions to a colleague's extension, shared by the BLF (RFC 4235 dialog) and
presence (RFC 3856) services: authentication, the tenant check, Expires bounds (423), the
per-phone limit, refresh, unsubscribe and expiry with a terminated NOTIFY.

A subclass names its ``package`` and ``content_type`` and renders ``body(sub, now)``; it calls
``notify(sub, now)`` when what the watched user shows has changed."""

from __future__ import annotations

import ipaddress
import logging
import uuid
from dataclasses import dataclass, field

from centrex.calls.directory import UserInfo
from centrex.calls.services import CallService
from centrex.sip.dialog import Dialog
from centrex.sip.events import Address, RequestReceived, TransactionKey, TransactionTimedOut, TransportError
from centrex.sip.message import Request, Response, make_response, new_tag
from centrex.sip.uri import SipUri

log = logging.getLogger(__name__)

# RFC 4235 §3.2 and RFC 3856 §6.4: an hour when the SUBSCRIBE says nothing; we grant at most that.
DEFAULT_EXPIRES = 3600
MAX_EXPIRES = 3600
# Below a minute a phone's refreshes would be most of the switch's SIP traffic for nothing a key
# could show; RFC 6665 §4.2.1.1 has such a SUBSCRIBE refused with 423 and Min-Expires.
MIN_EXPIRES = 60
# A phone's BLF and presence subscriptions together. The largest desk consoles (a Yealink T58 with
# three EXP50 expansion modules: about 200 programmable keys, not all of them BLF) stay under it;
# more is a loop or an abuse (each costs a NOTIFY on every call of the watched user). Over it: 403
# with the reason in the reason phrase.
MAX_PER_DEVICE = 200


@dataclass
class DeviceLimit:
    """How many subscriptions each phone holds, shared by every package's service."""

    most: int = MAX_PER_DEVICE
    held: dict[uuid.UUID, int] = field(default_factory=dict)

    def take(self, device_id: uuid.UUID) -> bool:
        if self.held.get(device_id, 0) >= self.most:
            return False
        self.held[device_id] = self.held.get(device_id, 0) + 1
        return True

    def give_back(self, device_id: uuid.UUID) -> None:
        left = self.held.get(device_id, 1) - 1
        if left > 0:
            self.held[device_id] = left
        else:
            self.held.pop(device_id, None)


@dataclass(eq=False)
class Subscription:
    tenant_id: uuid.UUID
    device_id: uuid.UUID
    watched: UserInfo
    entity: str  # sip:<extension>@<tenant domain>
    dialog: Dialog
    transport: str
    addr: Address
    expires_at: float
    version: int = 0  # the next dialog-info version (RFC 4235 §4.1.1)
    shown: object = None  # what the last NOTIFY said (the service's own value)


def event_package(req: Request) -> str:
    return (req.headers.get("Event") or "").split(";")[0].strip().lower()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class Subscriptions(CallService):
    """Base of the BLF and presence services (one event package each)."""

    package = ""
    content_type = ""

    def __init__(self, limit: DeviceLimit | None = None) -> None:
        self.limit = limit or DeviceLimit()
        self.subs: dict[tuple[str, str], Subscription] = {}  # (Call-ID, subscriber's tag)
        self._pending: dict[TransactionKey, Subscription] = {}  # NOTIFYs awaiting their answer

    # -- what a subclass provides --------------------------------------------------------------
    def body(self, sub: Subscription, now: float) -> bytes:
        raise NotImplementedError

    def subscribed(self, sub: Subscription, now: float) -> None:
        """A new subscription (before its first NOTIFY)."""

    def dropped(self, sub: Subscription) -> None:
        """A subscription ended."""

    # -- RFC 6665 ------------------------------------------------------------------------------
    def request(self, event: RequestReceived, transport: str, now: float) -> bool:
        req = event.request
        if req.method != "SUBSCRIBE":
            return False
        if req.to.tag:
            sub = self.subs.get((req.call_id, req.from_.tag or ""))
            if sub is None:
                return False
            self._refresh(sub, req, transport, now)
            return True
        if event_package(req) != self.package:
            return False
        self._subscribe(req, event.addr, transport, now)
        return True

    def _expires(self, req: Request, transport: str) -> int | None:
        """The granted expiry, or None when refused (400, 423 sent)."""
        value = (req.headers.get("Expires") or "").strip()
        if not value:
            return DEFAULT_EXPIRES
        if not value.isdigit():
            self.core.reply(transport, req, 400, "Bad Request (Expires is not a number of seconds)")
            return None
        seconds = int(value)
        if 0 < seconds < MIN_EXPIRES:
            self.core.reply(
                transport, req, 423, "Interval Too Brief", extra=[("Min-Expires", str(MIN_EXPIRES))]
            )
            return None
        return min(seconds, MAX_EXPIRES)

    def _subscribe(self, req: Request, addr: Address, transport: str, now: float) -> None:
        core = self.core
        who = core.authenticate(req, addr, transport, now)
        if who is None:
            return
        tenant, device = who
        accept = (req.headers.get("Accept") or "").lower()
        if accept and self.content_type not in accept and "*/*" not in accept:
            core.reply(transport, req, 406, f"Not Acceptable (only {self.content_type})")
            return
        uri = req.uri
        if not isinstance(uri, SipUri) or not uri.user:
            core.reply(transport, req, 404, "Not Found (no extension in the Request-URI)")
            return
        if uri.host.lower() != tenant.domain.lower() and not _is_ip(uri.host):
            # Tenant isolation: a phone watches only its own tenant's extensions.
            core.reply(transport, req, 403, "Forbidden (not your tenant's domain)")
            return
        watched = core.directory.user_by_extension(tenant.id, uri.user)
        if watched is None or watched.tenant_id != tenant.id:
            core.reply(transport, req, 404, f"Not Found (no extension {uri.user})")
            return
        expires = self._expires(req, transport)
        if expires is None:
            return
        if expires > 0 and not self.limit.take(device.id):
            core.reply(transport, req, 403, f"Forbidden (at most {self.limit.most} subscriptions per phone)")
            return
        ok = make_response(
            req,
            200,
            to_tag=new_tag(),
            extra=[("Expires", str(expires)), ("Contact", core.network.contact(transport))],
        )
        core.network.send_response(transport, ok)
        entity = f"sip:{watched.extension}@{tenant.domain}"
        sub = Subscription(
            tenant.id, device.id, watched, entity, Dialog.from_uas(req, ok), transport, addr, now + expires
        )
        log.info("sip.subscribe event=%s watcher=%s watched=%s", self.package, device.username, entity)
        self.subscribed(sub, now)
        if expires > 0:
            self.subs[(req.call_id, req.from_.tag or "")] = sub
            self.notify(sub, now)
        else:
            self.notify(sub, now, terminated=True)  # a fetch (RFC 6665 §4.4.3)
            self.dropped(sub)

    def _refresh(self, sub: Subscription, req: Request, transport: str, now: float) -> None:
        core = self.core
        if not sub.dialog.receive_request(req):
            core.reply(transport, req, 500, "Server Internal Error (CSeq out of order)")
            return
        expires = self._expires(req, transport)
        if expires is None:
            return
        core.network.send_response(
            transport, make_response(req, 200, to_tag=sub.dialog.local_tag, extra=[("Expires", str(expires))])
        )
        sub.expires_at = now + expires
        if expires == 0:
            self.drop(sub)
            self.notify(sub, now, terminated=True)
        else:
            self.notify(sub, now)

    def drop(self, sub: Subscription) -> None:
        if self.subs.pop((sub.dialog.call_id, sub.dialog.remote_tag or ""), None) is not None:
            self.limit.give_back(sub.device_id)
            self.dropped(sub)

    def notify(
        self, sub: Subscription, now: float, *, terminated: bool = False, body: bytes | None = None
    ) -> None:
        if body is None:
            body = self.body(sub, now)
        left = max(0, round(sub.expires_at - now))
        state = "terminated;reason=timeout" if terminated else f"active;expires={left}"
        request = sub.dialog.create_request(
            "NOTIFY",
            body=body,
            content_type=self.content_type,
            extra=[("Event", self.package), ("Subscription-State", state)],
        )
        key = self.core.send(sub.transport, request, sub.addr)
        if not terminated:
            self._pending[key] = sub

    # A NOTIFY answered 481 (the phone forgot us) or never answered ends the subscription
    # (RFC 6665 §4.1.3 / §4.2.2).
    def response(self, key: TransactionKey, resp: Response, now: float) -> bool:
        sub = self._pending.get(key)
        if sub is None:
            return False
        if resp.status < 200:
            return True
        del self._pending[key]
        if resp.status == 481 or resp.status >= 500:
            self.drop(sub)
        return True

    def timed_out(self, key: TransactionKey, event: TransactionTimedOut | TransportError, now: float) -> bool:
        sub = self._pending.pop(key, None)
        if sub is None:
            return False
        self.drop(sub)
        return True

    # -- expiry --------------------------------------------------------------------------------
    def next_timer(self) -> float | None:
        return min((s.expires_at for s in self.subs.values()), default=None)

    def tick(self, now: float) -> None:
        for sub in [s for s in self.subs.values() if s.expires_at <= now]:
            self.drop(sub)
            self.notify(sub, now, terminated=True)
