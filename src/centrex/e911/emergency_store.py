"""The call engine's 911 services on the store: the caller's registered location and the notices.

``location`` reads e911_locations (the device's own registered location first, else its user's:
a desk phone that moved has its own entry; voip-service-guide.txt §V.14). ``placed`` turns the
engine's ``EmergencyCallPlaced`` into an ``EmergencyNotice`` for the tenant's designated contacts
and hands it to the notifier, which delivers in the background: a notice never delays the call
(issue #6 point 6, hosted-pbx.txt emergency calling). These are the switch's own reads, scoped by
the tenant of the call, not a principal's: the caller is the phone that authenticated.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.e911.address import CivicAddress
from centrex.e911.notice import EmergencyNotice, NoticeContact
from centrex.e911.placed import EmergencyCallPlaced, EmergencyLocation
from centrex.store.models import Device, Tenant
from centrex.store.models.numbering import EmergencyContact, LocationSubject, RegisteredLocation

log = logging.getLogger(__name__)

CIVIC_FIELDS = ("house_number", "street", "city", "state", "postal_code", "country", "unit", "floor", "room")


def _address(row: RegisteredLocation) -> CivicAddress:
    return CivicAddress(
        **{f: getattr(row, f) or "" for f in CIVIC_FIELDS}, location_name=row.location_name or ""
    )


class StoreEmergency:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        submit: Callable[[EmergencyNotice, list[NoticeContact]], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._submit = submit
        self._source: dict[uuid.UUID, str] = {}  # call id -> "device"/"user" (whose location was sent)

    def _row(
        self, s: Session, tenant_id: uuid.UUID, user_id: uuid.UUID | None, device_id: uuid.UUID | None
    ) -> tuple[RegisteredLocation | None, str]:
        for subject, subject_id in ((LocationSubject.DEVICE, device_id), (LocationSubject.USER, user_id)):
            if subject_id is None:
                continue
            row = s.scalar(
                select(RegisteredLocation).where(
                    RegisteredLocation.tenant_id == tenant_id,
                    RegisteredLocation.subject_type == subject,
                    RegisteredLocation.subject_id == subject_id,
                )
            )
            if row is not None:
                return row, subject.value
        return None, ""

    def location(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, device_id: uuid.UUID | None
    ) -> EmergencyLocation | None:
        with self._sessions() as s:
            row, _ = self._row(s, tenant_id, user_id, device_id)
            if row is None:
                return None
            return EmergencyLocation(_address(row), row.psap or None, row.esn or None)

    def placed(self, call: EmergencyCallPlaced) -> None:
        if self._submit is None:
            return
        with self._sessions() as s:
            tenant = s.get(Tenant, call.tenant_id)
            _, source = self._row(s, call.tenant_id, call.user_id, call.device_id)
            device = s.get(Device, call.device_id) if call.device_id else None
            contacts = [
                NoticeContact(c.kind.value, c.address, c.name or "", c.signing_secret, c.id)
                for c in s.scalars(
                    select(EmergencyContact).where(EmergencyContact.tenant_id == call.tenant_id)
                )
            ]
        loc = call.location
        notice = EmergencyNotice(
            tenant_id=call.tenant_id,
            call_id=str(call.call_id),
            at=call.at,
            caller_name=call.caller_name,
            extension=call.extension,
            callback=call.callback if call.callback and call.callback.startswith("+") else None,
            device=device.sip_username if device else "",
            location=loc.address if loc else None,
            location_source=source,
            psap=(loc.psap or "") if loc else "",
            esn=(loc.esn or "") if loc else "",
            tenant_name=tenant.name if tenant else "",
            dialled=call.dialled,
        )
        if not contacts:
            log.warning("e911.notify.no_contacts tenant=%s call=%s", call.tenant_id, call.call_id)
            return
        self._submit(notice, contacts)
