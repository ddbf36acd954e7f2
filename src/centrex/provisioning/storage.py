"""Provisioning on storage: per-device HTTP credentials, the sealed SIP password, and a phone's
``PhoneConfig`` read from the device, its user, its button rows and its registered 911 location.

A phone does not know its tenant: it is found by MAC (``devices.mac_address``) across tenants,
and only when exactly one enabled device has that MAC and a provisioning row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.provisioning.render import Key, Line, PhoneConfig
from centrex.provisioning.vendors import family_of
from centrex.store.models import Device, DeviceButton, Tenant, User
from centrex.store.models.numbering import LocationSubject, RegisteredLocation
from centrex.store.models.provisioning import DeviceProvisioning
from centrex.store.sealed import seal, unseal


@dataclass(frozen=True, slots=True)
class HttpCredentials:
    """Shown once, when made or rotated; only the SHA-256 of the password is kept."""

    username: str
    password: str


def _secret_hash(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def new_credentials() -> tuple[HttpCredentials, str]:
    creds = HttpCredentials("p" + secrets.token_hex(8), secrets.token_urlsafe(18))
    return creds, _secret_hash(creds.password)


def row_of(session: Session, device: Device) -> DeviceProvisioning | None:
    return session.scalar(select(DeviceProvisioning).where(DeviceProvisioning.device_id == device.id))


def remember_sip_password(session: Session, device: Device, password: str) -> HttpCredentials | None:
    """Keep the device's SIP password sealed for its provisioning file (called where the password
    is made: device creation and secret reset). A device without a provisioning row gets one, with
    new HTTP credentials, which are returned to be shown once; else None."""
    row = row_of(session, device)
    if row is not None:
        row.sip_secret_sealed = seal(session, password)
        return None
    creds, digest = new_credentials()
    session.add(
        DeviceProvisioning(
            tenant_id=device.tenant_id,
            device_id=device.id,
            http_username=creds.username,
            http_secret_hash=digest,
            sip_secret_sealed=seal(session, password),
        )
    )
    session.flush()
    return creds


def rotate_credentials(row: DeviceProvisioning) -> HttpCredentials:
    creds, digest = new_credentials()
    row.http_secret_hash = digest
    return creds


def authenticate(session: Session, username: str, password: str) -> tuple[DeviceProvisioning, Device] | None:
    """The provisioning row and device these HTTP credentials belong to, or None. The hash is
    compared in constant time, and computed even for an unknown user name (no timing oracle)."""
    row = session.scalar(select(DeviceProvisioning).where(DeviceProvisioning.http_username == username))
    expected = row.http_secret_hash if row is not None else "0" * 64
    if not hmac.compare_digest(_secret_hash(password), expected) or row is None:
        return None
    device = session.get(Device, row.device_id)
    if device is None or not device.enabled:
        return None
    return row, device


def location_text(loc: RegisteredLocation | None) -> str | None:
    if loc is None:
        return None
    parts = [f"{loc.house_number} {loc.street}".strip()]
    parts += [p for p in (loc.unit, loc.floor, loc.room, loc.location_name) if p]
    parts.append(f"{loc.city}, {loc.state} {loc.postal_code}".strip())
    return ", ".join(p for p in parts if p)


def _location(session: Session, device: Device) -> RegisteredLocation | None:
    """The device's registered 911 location, else its user's (voip-service-guide.txt §V.14.2)."""
    for kind, subject in ((LocationSubject.DEVICE, device.id), (LocationSubject.USER, device.user_id)):
        if subject is None:
            continue
        loc = session.scalar(
            select(RegisteredLocation).where(
                RegisteredLocation.tenant_id == device.tenant_id,
                RegisteredLocation.subject_type == kind,
                RegisteredLocation.subject_id == subject,
            )
        )
        if loc is not None:
            return loc
    return None


def phone_config(
    session: Session, row: DeviceProvisioning, device: Device, server: tuple[str, int]
) -> PhoneConfig | None:
    """What the phone's file is rendered from; None when there is nothing to serve yet (no model
    chosen, or no SIP password kept: a device made before provisioning needs a secret reset)."""
    family = family_of(row.model)
    if family is None or row.model is None or not row.sip_secret_sealed:
        return None
    tenant = session.get(Tenant, device.tenant_id)
    assert tenant is not None
    user = session.get(User, device.user_id) if device.user_id else None
    if user is not None and user.tenant_id != device.tenant_id:
        user = None
    line = Line(
        index=1,
        username=device.sip_username,
        password=unseal(session, row.sip_secret_sealed),
        domain=tenant.sip_domain,
        display_name=user.name if user else (device.description or device.sip_username),
        extension=user.extension if user else device.sip_username,
    )
    buttons = session.scalars(
        select(DeviceButton)
        .where(DeviceButton.tenant_id == device.tenant_id, DeviceButton.device_id == device.id)
        .order_by(DeviceButton.position)
    )
    keys = tuple(Key(b.position, b.kind.value, b.value, b.label or b.value) for b in buttons)
    return PhoneConfig(
        mac=device.mac_address or "",
        family=family,
        model=row.model,
        server_host=server[0],
        server_port=server[1],
        lines=(line,),
        keys=keys,
        time_zone=row.time_zone,
        location=location_text(_location(session, device)),
    )


def provisioning_of(
    session: Session, tenant_id: uuid.UUID, device_id: uuid.UUID
) -> DeviceProvisioning | None:
    return session.scalar(
        select(DeviceProvisioning).where(
            DeviceProvisioning.tenant_id == tenant_id, DeviceProvisioning.device_id == device_id
        )
    )
