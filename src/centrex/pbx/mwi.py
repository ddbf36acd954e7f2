"""Message-waiting indication (RFC 3842 over RFC 6665): phones SUBSCRIBE to message-summary and
get a NOTIFY on every change; phones that never subscribe get an unsolicited NOTIFY at each
registered contact (what most desk phones expect of a hosted PBX)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from centrex.calls.services import CallService
from centrex.sip.dialog import Dialog
from centrex.sip.events import Address, RequestReceived
from centrex.sip.headers import Headers
from centrex.sip.message import Request, make_response, new_call_id, new_tag
from centrex.sip.uri import parse_uri

log = logging.getLogger(__name__)

MWI_MAX_EXPIRES = 3600


@dataclass(eq=False)
class MwiSubscription:
    """A phone's RFC 3842 message-summary subscription (RFC 6665 dialog)."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    dialog: Dialog
    transport: str
    addr: Address
    expires_at: float


def _expires(req: Request, most: int) -> int:
    value = (req.headers.get("Expires") or "").strip()
    return min(most, int(value)) if value.isdigit() else most


def summary_body(account: str, new: int, old: int) -> bytes:
    return (
        f"Messages-Waiting: {'yes' if new else 'no'}\r\n"
        f"Message-Account: {account}\r\n"
        f"Voice-Message: {new}/{old} (0/0)\r\n"
    ).encode()


class MessageWaiting(CallService):
    name = "mwi"
    events = ("message-summary",)

    def __init__(self) -> None:
        # Message counts (new, old) of a user's mailbox, for SUBSCRIBE (apps/vm_store.py counts).
        self.counts: Callable[[uuid.UUID, uuid.UUID], tuple[int, int]] | None = None
        self._subs: dict[tuple[str, str], MwiSubscription] = {}  # (Call-ID, remote tag)

    def request(self, event: RequestReceived, transport: str, now: float) -> bool:
        req = event.request
        if req.method != "SUBSCRIBE":
            return False
        if req.to.tag:
            sub = self._subs.get((req.call_id, req.from_.tag or ""))
            if sub is None:
                return False
            self._refresh(sub, req, transport, now)
            return True
        if (req.headers.get("Event") or "").split(";")[0].strip().lower() != "message-summary":
            return False
        self._subscribe(req, event.addr, transport, now)
        return True

    def _subscribe(self, req: Request, addr: Address, transport: str, now: float) -> None:
        core = self.core
        who = core.authenticate(req, addr, transport, now)
        if who is None:
            return
        tenant, device = who
        user_id = device.user_id
        if user_id is None:
            core.reply(transport, req, 404, "Not Found (no mailbox for this phone)")
            return
        expires = _expires(req, MWI_MAX_EXPIRES)
        ok = make_response(
            req,
            200,
            to_tag=new_tag(),
            extra=[("Expires", str(expires)), ("Contact", core.network.contact(transport))],
        )
        core.network.send_response(transport, ok)
        dialog = Dialog.from_uas(req, ok)
        sub = MwiSubscription(tenant.id, user_id, dialog, transport, addr, now + expires)
        if expires > 0:
            self._subs[(req.call_id, req.from_.tag or "")] = sub
        self._notify(sub, now, terminated=expires == 0)

    def _refresh(self, sub: MwiSubscription, req: Request, transport: str, now: float) -> None:
        core = self.core
        if not sub.dialog.receive_request(req):
            core.reply(transport, req, 500, "Server Internal Error (CSeq out of order)")
            return
        expires = _expires(req, MWI_MAX_EXPIRES)
        core.network.send_response(
            transport, make_response(req, 200, to_tag=sub.dialog.local_tag, extra=[("Expires", str(expires))])
        )
        sub.expires_at = now + expires
        if expires == 0:
            self._subs.pop((req.call_id, req.from_.tag or ""), None)
        self._notify(sub, now, terminated=expires == 0)

    def _account(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
        """The mailbox's SIP address, or None when the user is not the tenant's."""
        user = self.core.directory.user(user_id)
        tenant = self.core.directory.tenant(tenant_id)
        if user is None or tenant is None or user.tenant_id != tenant_id:
            return None
        return f"sip:{user.extension}@{tenant.domain}"

    def _notify(
        self,
        sub: MwiSubscription,
        now: float,
        *,
        terminated: bool = False,
        counts: tuple[int, int] | None = None,
        account: str | None = None,
    ) -> None:
        if counts is None:
            counts = (0, 0)
            if self.counts is not None:
                try:
                    counts = self.counts(sub.tenant_id, sub.user_id)
                except Exception:
                    log.exception("sip.mwi.counts_failed user=%s", sub.user_id)
        account = account or self._account(sub.tenant_id, sub.user_id)
        if account is None:
            return
        body = summary_body(account, *counts)
        left = max(0, round(sub.expires_at - now))
        state = "terminated;reason=timeout" if terminated else f"active;expires={left}"
        notify = sub.dialog.create_request(
            "NOTIFY",
            body=body,
            content_type="application/simple-message-summary",
            extra=[("Event", "message-summary"), ("Subscription-State", state)],
        )
        self.core.send(sub.transport, notify, sub.addr)

    def notify(self, tenant_id: uuid.UUID, user_id: uuid.UUID, new: int, old: int, now: float) -> int:
        """RFC 3842 message-waiting indication as an unsolicited NOTIFY to every registered contact
        of the user (phones that subscribe get the same body). Returns how many were sent."""
        core = self.core
        account = self._account(tenant_id, user_id)
        if account is None:
            return 0
        body = summary_body(account, new, old)
        sent = 0
        subscribed: set[Address] = set()
        for key, sub in list(self._subs.items()):
            if sub.expires_at <= now:
                del self._subs[key]
            elif sub.user_id == user_id and sub.tenant_id == tenant_id:
                self._notify(sub, now, counts=(new, old), account=account)
                subscribed.add(sub.addr)
                sent += 1
        for binding in core.location.of_user(user_id, now):
            if binding.source in subscribed:
                continue  # that phone subscribed: it had its NOTIFY in its dialog
            headers = Headers()
            headers.add("Max-Forwards", "70")
            headers.add("From", f"<{account}>;tag={new_tag()}")
            headers.add("To", f"<{account}>")
            headers.add("Call-ID", new_call_id())
            headers.add("CSeq", "1 NOTIFY")
            headers.add("Event", "message-summary")
            headers.add("Subscription-State", "active")
            headers.add("Contact", core.network.contact(binding.transport))
            headers.add("Content-Type", "application/simple-message-summary")
            request = Request("NOTIFY", parse_uri(binding.contact), headers, body)
            core.send(binding.transport, request, binding.source)
            sent += 1
        return sent
