"""Numbers and 911 on storage: the rate-center table, port-in orders, directory listings, the 911
address table, registered dispatchable locations, 911 notification contacts and number usage.

The rules live in numbers/ and e911/ (pure functions); numbers/store.py applies them to these rows.
store/ imports nothing from the service packages, so states and designations that numbers/ owns
(port state, listing designation) are stored as their string values.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.secretbox import EncryptedText
from centrex.store.types import EnumText, UTCDateTime


class LocationSubject(StrEnum):
    """Whose registered 911 location a row is: a user's (where they sit) or a device's (where the
    phone is), voip-service-guide.txt §V.14.2."""

    USER = "user"
    DEVICE = "device"


class NotifyKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class RateCenterEntry(Base, Row):
    """One NPA-NXX of the operator's rate-center table (numbers/ratecenters.py RateCenter)."""

    __tablename__ = "rate_centers"
    npa_nxx: Mapped[str] = mapped_column(String(6), unique=True)
    rate_center: Mapped[str] = mapped_column(String(100))
    lata: Mapped[str] = mapped_column(String(5))
    state: Mapped[str] = mapped_column(String(2))


class AddressRange(Base, Row):
    """One street range of the operator's MSAG-like 911 address table (e911/address.py StreetRange)."""

    __tablename__ = "e911_address_ranges"
    __table_args__ = (Index("ix_e911_address_ranges_place", "state", "community"),)
    state: Mapped[str] = mapped_column(String(2))
    community: Mapped[str] = mapped_column(String(100))
    street: Mapped[str] = mapped_column(String(200))
    low: Mapped[int] = mapped_column(Integer)
    high: Mapped[int] = mapped_column(Integer)
    parity: Mapped[str] = mapped_column(String(8), default="both")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    esn: Mapped[str] = mapped_column(String(10), default="")
    psap: Mapped[str] = mapped_column(String(100), default="")


class PortOrder(Base, TenantOwned):
    """A port-in order: the customer service record of hosted-pbx.txt §2.5 (a–d), the PIN and
    billing telephone number the losing carrier checks, the letter of authorization, and where it
    stands (numbers/porting.py: draft → submitted → foc → completed, or rejected with a reason)."""

    __tablename__ = "port_orders"
    account_name: Mapped[str] = mapped_column(String(200), default="")
    account_street: Mapped[str] = mapped_column(String(200), default="")
    account_unit: Mapped[str] = mapped_column(String(50), default="")
    account_city: Mapped[str] = mapped_column(String(100), default="")
    account_state: Mapped[str] = mapped_column(String(2), default="")
    account_postal_code: Mapped[str] = mapped_column(String(10), default="")
    account_number: Mapped[str] = mapped_column(String(64), default="")
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    # The losing carrier's account PIN: it must be sent to that carrier, so it cannot be hashed;
    # the API never shows it and the audit log records only that it was set or changed.
    pin: Mapped[str] = mapped_column(String(15), default="")
    billing_telephone_number: Mapped[str] = mapped_column(String(32), default="")
    loa_signer: Mapped[str] = mapped_column(String(200), default="")
    loa_signed_on: Mapped[date | None] = mapped_column(Date, default=None)
    loa_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    requested_foc_date: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    foc_date: Mapped[date | None] = mapped_column(Date, default=None)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DirectoryListing(Base, TenantOwned):
    """A published directory listing (voip-service-guide.txt §III.3.4.1), as accepted: the name, its
    section, and the lines it is printed on after abbreviation."""

    __tablename__ = "directory_listings"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(16))  # E.164, one of the tenant's numbers
    designation: Mapped[str] = mapped_column(String(16))  # business / government
    lines: Mapped[list[str]] = mapped_column(JSON, default=list)
    abbreviated: Mapped[bool] = mapped_column(Boolean, default=False)
    furnished_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RegisteredLocation(Base, TenantOwned):
    """The registered dispatchable location of a user or a device: the civic address as the address
    table spells it, with what validation found (ESN and PSAP) and when."""

    __tablename__ = "e911_locations"
    __table_args__ = (UniqueConstraint("tenant_id", "subject_type", "subject_id"),)
    subject_type: Mapped[LocationSubject] = mapped_column(EnumText(LocationSubject))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    house_number: Mapped[str] = mapped_column(String(16))
    street: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(2), default="US")
    unit: Mapped[str] = mapped_column(String(50), default="")
    floor: Mapped[str] = mapped_column(String(50), default="")
    room: Mapped[str] = mapped_column(String(50), default="")
    location_name: Mapped[str] = mapped_column(String(200), default="")
    validated: Mapped[bool] = mapped_column(Boolean, default=False)
    esn: Mapped[str] = mapped_column(String(10), default="")
    psap: Mapped[str] = mapped_column(String(100), default="")
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class EmergencyContact(Base, TenantOwned):
    """Who is told when someone of the tenant dials 911: an e-mail address or a webhook URL."""

    __tablename__ = "e911_contacts"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "address"),)
    kind: Mapped[NotifyKind] = mapped_column(EnumText(NotifyKind))
    address: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(200), default="")
    # A webhook's HMAC signing key (e911/notice.py): shown once when made, never again; the sender
    # needs it to sign, so it is encrypted (store/secretbox.py, key outside the database), not
    # hashed; "(set)" in the audit log.
    signing_secret: Mapped[str | None] = mapped_column(EncryptedText(), default=None)


class NumberUsage(Base, Row):
    """When a number was last given to its tenant and last carried a call, for reclamation
    (cpaas.txt §2.4.5). A side table of `numbers`, written by the switch and by assignment."""

    __tablename__ = "number_usage"
    number_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("numbers.id", ondelete="CASCADE"), unique=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
