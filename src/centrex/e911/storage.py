"""The 911 rules applied to stored data: the operator's address table, registered dispatchable
locations of users and devices, and the tenant's 911 notification contacts.

Validation is e911/address.py validate_address against the stored table (only the rows of the
address's state are read); a location that does not validate is refused with every problem, each
naming its field and, where one is close, the spelling the table has ("did you mean").
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select

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
from centrex.numbers.storage import Problem, ProblemList
from centrex.store.access import OperatorData, TenantData
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import Device, User
from centrex.store.models.numbering import (
    AddressRange,
    EmergencyContact,
    LocationSubject,
    NotifyKind,
    RegisteredLocation,
)
from centrex.store.policy import Action, Resource

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
        return data.create(
            RegisteredLocation,
            f"e911.location.{subject.value}",
            Resource.E911_LOCATION,
            subject_type=subject,
            subject_id=subject_id,
            **values,
        )
    return data.update(existing, f"e911.location.{subject.value}", values, Resource.E911_LOCATION)


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


def add_contact(data: TenantData, kind: NotifyKind, address: str, name: str) -> EmergencyContact:
    data.require(Resource.E911_CONTACT, Action.CREATE)
    address = _check_contact(kind, address)
    dup = data.session.scalar(
        data.select(EmergencyContact, Resource.E911_CONTACT).where(
            EmergencyContact.kind == kind, EmergencyContact.address == address
        )
    )
    if dup is not None:
        raise Conflict(f"{kind.value} {address} is already a 911 contact", field="address", rule="unique")
    return data.create(
        EmergencyContact,
        "e911.contact.add",
        Resource.E911_CONTACT,
        kind=kind,
        address=address,
        name=name.strip(),
    )
