"""`centrex demo`: an idempotent demo tenant with two sites and users 1001-1010.

Credentials are derived from a random seed kept in the data directory (mode 0600), so running the
command again prints the same SIP passwords and tokens without storing any of them in the database,
which keeps only HA1 values and token hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.cpaas.accounts import ensure_account
from centrex.store.credentials import TOKEN_PREFIX, hash_password, sip_ha1s, token_hash
from centrex.store.models import (
    ApiToken,
    CallRestrictionClass,
    Device,
    Mailbox,
    NumberStatus,
    NumberTarget,
    Operator,
    PhoneNumber,
    Role,
    Site,
    Tenant,
    TenantDesignation,
    TokenKind,
    User,
)

T = TypeVar("T")

DEMO_DOMAIN = "demo.centrex.test"
OPERATOR_EMAIL = "ops@centrex.test"
NAMES = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Margaret Hamilton",
    "Ken Thompson",
    "Radia Perlman",
    "Vint Cerf",
]


@dataclass(frozen=True)
class DemoLine:
    extension: str
    name: str
    number: str
    sip_username: str
    sip_password: str
    site: str


@dataclass(frozen=True)
class DemoResult:
    tenant_id: str
    sip_domain: str
    operator_token: str
    office_admin_token: str
    lines: list[DemoLine]
    # The Twilio-compatible API's credentials (issue 16 §2): Client(account_sid, auth_token).
    account_sid: str = ""
    auth_token: str = ""
    # The portal password of the operator (OPERATOR_EMAIL) and of every demo user (their e-mail,
    # e.g. ada@demo.centrex.test): set where the account has none yet (docs/portal-auth.md).
    portal_password: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def load_seed(data_dir: Path) -> bytes:
    path = data_dir / "demo-seed"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    seed = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(seed.hex())
    return seed


def _derive(seed: bytes, label: str, length: int) -> str:
    return hmac.new(seed, label.encode(), hashlib.sha256).hexdigest()[:length]


def _token(session: Session, seed: bytes, label: str, **values: object) -> str:
    prefix = _derive(seed, f"prefix:{label}", 12)
    plaintext = f"{TOKEN_PREFIX}{prefix}.{_derive(seed, f'secret:{label}', 43)}"
    if session.scalar(select(ApiToken).where(ApiToken.prefix == prefix)) is None:
        session.add(
            ApiToken(prefix=prefix, secret_hash=token_hash(plaintext), name=f"demo {label}", **values)
        )
    return plaintext


def _get_or_add(session: Session, model: type[T], where: dict[str, object], **values: object) -> T:
    obj = session.scalar(select(model).filter_by(**where))
    if obj is None:
        obj = model(**where, **values)
        session.add(obj)
        session.flush()
    return obj


def seed_demo(session: Session, data_dir: Path) -> DemoResult:
    seed = load_seed(data_dir)
    op = _get_or_add(session, Operator, {"email": OPERATOR_EMAIL}, name="Demo Operator")
    tenant = _get_or_add(session, Tenant, {"sip_domain": DEMO_DOMAIN}, name="Demo Dental Group")
    main = _get_or_add(
        session,
        Site,
        {"tenant_id": tenant.id, "name": "Main Office"},
        street="100 N 5th St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        npa_nxx="217528",
        rate_center="SPRINGFIELD",
        calling_units=8,
        bandwidth_kbps=10000,
    )
    branch = _get_or_add(
        session,
        Site,
        {"tenant_id": tenant.id, "name": "Chicago Branch"},
        street="233 S Wacker Dr",
        city="Chicago",
        state="IL",
        postal_code="60606",
        npa_nxx="312621",
        rate_center="CHICAGO",
        calling_units=4,
        bandwidth_kbps=5000,
    )
    standard = _get_or_add(session, CallRestrictionClass, {"tenant_id": tenant.id, "name": "Standard"})
    lines: list[DemoLine] = []
    for i, name in enumerate(NAMES):
        ext = str(1001 + i)
        site = main if i < 6 else branch
        user = _get_or_add(
            session,
            User,
            {"tenant_id": tenant.id, "extension": ext},
            name=name,
            email=f"{name.split()[0].lower()}@demo.centrex.test",
            site_id=site.id,
            restriction_class_id=standard.id,
        )
        _get_or_add(session, Mailbox, {"tenant_id": tenant.id, "user_id": user.id})
        password = _derive(seed, f"sip:{ext}", 20)
        md5, sha = sip_ha1s(ext, DEMO_DOMAIN, password)
        device = _get_or_add(
            session,
            Device,
            {"tenant_id": tenant.id, "sip_username": ext},
            ha1_md5=md5,
            ha1_sha256=sha,
            user_id=user.id,
            site_id=site.id,
            description=f"{name}'s desk phone",
        )
        device.ha1_md5, device.ha1_sha256 = md5, sha
        e164 = f"+1{site.npa_nxx}{1000 + i + 1}"
        _get_or_add(
            session,
            PhoneNumber,
            {"e164": e164},
            tenant_id=tenant.id,
            status=NumberStatus.ASSIGNED,
            target_type=NumberTarget.USER,
            target_id=user.id,
            cnam=name[:15],
        )
        lines.append(DemoLine(ext, name, e164, ext, password, site.name))
    users = {u.extension: u for u in session.scalars(select(User).where(User.tenant_id == tenant.id))}
    for role, ext in ((Role.OFFICE_ADMIN, "1001"), (Role.BACKUP_ADMIN, "1002"), (Role.CPNI_ADMIN, "1003")):
        _get_or_add(session, TenantDesignation, {"tenant_id": tenant.id, "role": role}, user_id=users[ext].id)
    op_token = _token(session, seed, "operator", kind=TokenKind.OPERATOR, operator_id=op.id)
    admin_token = _token(
        session, seed, "office-admin", kind=TokenKind.USER, tenant_id=tenant.id, user_id=users["1001"].id
    )
    portal_password = _derive(seed, "portal", 16)
    hashed = None
    accounts: list[Operator | User] = [op, *users.values()]
    for account in accounts:
        if account.password_hash is None:
            hashed = hashed or hash_password(portal_password)
            account.password_hash = hashed
    session.flush()
    cpaas = ensure_account(session, tenant.id, friendly_name=tenant.name)
    return DemoResult(
        str(tenant.id),
        DEMO_DOMAIN,
        op_token,
        admin_token,
        lines,
        account_sid=cpaas.sid,
        auth_token=cpaas.auth_token,
        portal_password=portal_password,
    )
