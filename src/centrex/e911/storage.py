"""The 911 rules applied to stored data: the operator's address table, registered dispatchable
locations of users and devices, the tenant's 911 notification contacts, and the notice of a 911
call (`emergency_notice_for`, which the call engine asks when someone dials 911).

Validation is e911/address.py validate_address against the stored table (only the rows of the
address's state are read); a location that does not validate is refused with every problem, each
naming its field and, where one is close, the spelling the table has ("did you mean").
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from centrex.e911.address import (
    AddressTable,
    AddressTableImportError,
    AddressValidationError,
    CivicAddress,
    Parity,
    StreetRange,
    load_address_table_csv,
    validate_address,
)
from centrex.e911.nomadic_store import confirm_location
from centrex.e911.notice import EmergencyNotice, NoticeContact, new_signing_secret
from centrex.numbers.storage import Problem, ProblemList
from centrex.store.access import OperatorData, TenantData, snapshot
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import Device, Tenant, User
from centrex.store.models.numbering import (
    AddressRange,
    EmergencyContact,
    LocationSubject,
    NotifyKind,
    RegisteredLocation,
)
from centrex.store.policy import Action, Resource

log = logging.getLogger(__name__)

ADDRESS_RULE = "voip-service-guide.txt §V.14.2 (registered location validated against the address table)"
CIVIC_FIELDS = (
    "house_number",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "unit",
    "floor",
    "room",
    "location_name",
)


def import_address_table(ops: OperatorData, text: str) -> int:
    """Replace the address table with a CSV (e911/address.py load_address_table_csv); a file with
    any bad row is refused whole, naming each row and field."""
    ops.require_operator()
    try:
        table = load_address_table_csv(text)
    except AddressTableImportError as exc:
        raise ProblemList(
            f"address-table CSV refused: {len(exc.problems)} problem(s)",
            [Problem(p.field, p.message, "e911 address table CSV", p.row) for p in exc.problems],
        ) from None
    ranges = [r for by_street in table.ranges.values() for rs in by_street.values() for r in rs]
    if not ranges:
        raise Invalid("the CSV has no rows", field="csv", rule="e911 address table CSV")
    ops.session.execute(delete(AddressRange))
    ops.session.add_all(
        AddressRange(
            state=r.state,
            community=r.community,
            street=r.street,
            low=r.low,
            high=r.high,
            parity=r.parity.value,
            postal_code=r.postal_code,
            esn=r.esn,
            psap=r.psap,
        )
        for r in ranges
    )
    ops.session.flush()
    ops.audit(
        "e911.address_table.import",
        "e911_address_ranges",
        None,
        None,
        {"rows": len(ranges), "sha256": hashlib.sha256(text.encode()).hexdigest()},
        None,
    )
    return len(ranges)


def address_table_for(session: Any, state: str) -> AddressTable:
    rows = session.scalars(select(AddressRange).where(AddressRange.state == state.strip().upper()))
    return AddressTable.from_ranges(
        StreetRange(
            r.state, r.community, r.street, r.low, r.high, Parity(r.parity), r.postal_code, r.esn, r.psap
        )
        for r in rows
    )


def _subject(data: TenantData, subject: LocationSubject, subject_id: uuid.UUID) -> None:
    """The user or device must be the tenant's (another tenant's is simply not found)."""
    data.get(User if subject is LocationSubject.USER else Device, subject_id, Resource.E911_LOCATION)


def get_location(
    data: TenantData, subject: LocationSubject, subject_id: uuid.UUID
) -> RegisteredLocation | None:
    _subject(data, subject, subject_id)
    return data.session.scalar(
        data.select(RegisteredLocation, Resource.E911_LOCATION).where(
            RegisteredLocation.subject_type == subject, RegisteredLocation.subject_id == subject_id
        )
    )


def register_location(
    data: TenantData, subject: LocationSubject, subject_id: uuid.UUID, civic: dict[str, str], at: datetime
) -> RegisteredLocation:
    """Validate and store the registered location of a user or device; `ProblemList` (422) with
    what does not match otherwise, and nothing stored."""
    data.require(Resource.E911_LOCATION, Action.UPDATE)
    existing = get_location(data, subject, subject_id)
    address = CivicAddress(**{k: civic.get(k, "") or "" for k in CIVIC_FIELDS})
    try:
        found = validate_address(address, address_table_for(data.session, address.state))
    except AddressValidationError as exc:
        raise ProblemList(
            "the address is not a valid dispatchable location: " + str(exc),
            [Problem(p.field, p.message, ADDRESS_RULE) for p in exc.problems],
        ) from None
    values = {k: getattr(found.address, k) for k in CIVIC_FIELDS}
    values.update(validated=True, esn=found.esn, psap=found.psap, validated_at=at)
    if existing is None:
        row = data.create(
            RegisteredLocation,
            f"e911.location.{subject.value}",
            Resource.E911_LOCATION,
            subject_type=subject,
            subject_id=subject_id,
            **values,
        )
    else:
        row = data.update(existing, f"e911.location.{subject.value}", values, Resource.E911_LOCATION)
    _re_registered(data, subject, subject_id, at)
    return row


def _re_registered(data: TenantData, subject: LocationSubject, subject_id: uuid.UUID, at: datetime) -> None:
    """Registering the location anew is §V.14.3 (b), "re-registers the VoIP phone for service ... at
    the end-user's current location": the network each affected phone is on now becomes known. A
    user's location is the location of their phones that have none of their own."""
    if subject is LocationSubject.DEVICE:
        devices = [data.get(Device, subject_id, Resource.E911_LOCATION)]
    else:
        own = select(RegisteredLocation.subject_id).where(
            RegisteredLocation.tenant_id == data.tenant_id,
            RegisteredLocation.subject_type == LocationSubject.DEVICE,
        )
        devices = list(
            data.session.scalars(
                select(Device).where(
                    Device.tenant_id == data.tenant_id, Device.user_id == subject_id, Device.id.not_in(own)
                )
            )
        )
    for device in devices:
        confirm_location(
            data, device, at, Resource.E911_LOCATION, require_location=False, reason="location registered"
        )


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _check_contact(kind: NotifyKind, address: str) -> str:
    address = address.strip()
    if kind is NotifyKind.EMAIL:
        if not _EMAIL.match(address):
            raise Invalid(f"'{address}' is not an e-mail address", field="address", rule="email")
        return address
    parts = urlsplit(address)
    if parts.scheme != "https" or not parts.hostname:
        raise Invalid(
            f"'{address}' is not an https:// URL (911 notifications carry a caller's location, so "
            "they are never sent in clear)",
            field="address",
            rule="webhook_https",
        )
    return address


def _redacted(row: EmergencyContact) -> dict[str, Any]:
    """The audit picture of a contact: the signing secret only as "(set)", like other secrets."""
    shown = snapshot(row)
    if shown.get("signing_secret"):
        shown["signing_secret"] = "(set)"
    return shown


def add_contact(data: TenantData, kind: NotifyKind, address: str, name: str) -> EmergencyContact:
    """A designated 911 contact. A webhook gets a signing secret (e911/notice.py), which the caller
    shows once in the response; it is never shown again (a new one can be made)."""
    data.require(Resource.E911_CONTACT, Action.CREATE)
    address = _check_contact(kind, address)
    dup = data.session.scalar(
        data.select(EmergencyContact, Resource.E911_CONTACT).where(
            EmergencyContact.kind == kind, EmergencyContact.address == address
        )
    )
    if dup is not None:
        raise Conflict(f"{kind.value} {address} is already a 911 contact", field="address", rule="unique")
    row = EmergencyContact(
        tenant_id=data.tenant_id,
        kind=kind,
        address=address,
        name=name.strip(),
        signing_secret=new_signing_secret() if kind is NotifyKind.WEBHOOK else None,
    )
    data.session.add(row)
    data.session.flush()
    data.audit(
        "e911.contact.add", EmergencyContact.__tablename__, row.id, None, _redacted(row), data.tenant_id
    )
    return row


def new_contact_secret(data: TenantData, contact_id: uuid.UUID) -> EmergencyContact:
    """A new signing secret for a webhook contact (lost, leaked, or made before secrets existed);
    the old one stops working at once."""
    data.require(Resource.E911_CONTACT, Action.UPDATE)
    row = data.get(EmergencyContact, contact_id, Resource.E911_CONTACT)
    if row.kind is not NotifyKind.WEBHOOK:
        raise Conflict("only webhook contacts have a signing secret", field="kind", rule="webhook_secret")
    had = bool(row.signing_secret)
    row.signing_secret = new_signing_secret()
    data.session.flush()
    data.audit(
        "e911.contact.secret",
        EmergencyContact.__tablename__,
        row.id,
        {"signing_secret": "(set)" if had else None},
        {"signing_secret": "(changed)"},
        data.tenant_id,
    )
    return row


def delete_contact(data: TenantData, contact_id: uuid.UUID) -> None:
    data.require(Resource.E911_CONTACT, Action.DELETE)
    row = data.get(EmergencyContact, contact_id, Resource.E911_CONTACT)
    data.audit(
        "e911.contact.delete", EmergencyContact.__tablename__, row.id, _redacted(row), None, data.tenant_id
    )
    data.session.delete(row)
    data.session.flush()


# --- the notice of a 911 call (the call engine) ---------------------------------------------------

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def _registered(
    session: Session, tenant_id: uuid.UUID, subject: LocationSubject, subject_id: uuid.UUID | None
) -> RegisteredLocation | None:
    if subject_id is None:
        return None
    return session.scalar(
        select(RegisteredLocation).where(
            RegisteredLocation.tenant_id == tenant_id,
            RegisteredLocation.subject_type == subject,
            RegisteredLocation.subject_id == subject_id,
        )
    )


def _own(session: Session, model: type[Any], tenant_id: uuid.UUID, row_id: uuid.UUID | None) -> Any:
    row = session.get(model, row_id) if row_id is not None else None
    return row if row is not None and row.tenant_id == tenant_id else None


def emergency_notice_for(
    session: Session,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID | None,
    device_id: uuid.UUID | None,
    call_id: str,
    at: datetime,
    callback: str | None,
    *,
    dialled: str = "911",
) -> tuple[EmergencyNotice, list[NoticeContact]]:
    """The notice of a 911 call and the tenant's designated contacts to send it to.

    The location is the one the PSAP gets: the device's registered location, else its user's
    (voip-service-guide.txt §V.14.2.1, §V.14.4.3 "directed to the correct PSAP for the ANI"); none
    is reported as such. `callback` is the E.164 number sent as ANI (anything else is reported as
    no callback number rather than refused: the notice must go). Reads only, tenant-scoped: the
    switch is no API principal, so it reads with its own session like calls/records.py."""
    tenant = session.get(Tenant, tenant_id)
    device = _own(session, Device, tenant_id, device_id)
    user = _own(session, User, tenant_id, user_id)
    if user is None and device is not None:
        user = _own(session, User, tenant_id, device.user_id)
    location = _registered(session, tenant_id, LocationSubject.DEVICE, device.id if device else None)
    if location is None:
        location = _registered(session, tenant_id, LocationSubject.USER, user.id if user else None)
    if callback is not None and not _E164.match(callback):
        log.warning("e911.notice call_id=%s callback %r is not E.164: reported as none", call_id, callback)
        callback = None
    civic = (
        None if location is None else CivicAddress(**{k: getattr(location, k) or "" for k in CIVIC_FIELDS})
    )
    notice = EmergencyNotice(
        tenant_id=tenant_id,
        call_id=call_id,
        at=at,
        caller_name=user.name if user is not None else (device.description or "" if device else ""),
        extension=user.extension if user is not None else "",
        callback=callback,
        device=device.sip_username if device is not None else "",
        location=civic,
        location_source=location.subject_type.value if location is not None else "",
        psap=location.psap if location is not None else "",
        esn=location.esn if location is not None else "",
        tenant_name=tenant.name if tenant is not None else "",
        dialled=dialled,
    )
    rows = session.scalars(
        select(EmergencyContact)
        .where(EmergencyContact.tenant_id == tenant_id)
        .order_by(EmergencyContact.created_at, EmergencyContact.id)
    )
    contacts = [NoticeContact(r.kind.value, r.address, r.name, r.signing_secret, r.id) for r in rows]
    return notice, contacts
