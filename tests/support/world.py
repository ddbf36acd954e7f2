"""Two tenants with a person in every role, and one of each kind of row, for API and access tests."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from centrex.store.credentials import new_token, sip_ha1s
from centrex.store.models import (
    ApiToken,
    BillingPlan,
    CallRestrictionClass,
    CpniGrant,
    Device,
    DirectoryEntry,
    HuntGroup,
    HuntGroupMember,
    InvoiceLineRow,
    InvoiceRow,
    Mailbox,
    NumberStatus,
    Operator,
    PhoneNumber,
    Role,
    Site,
    Tenant,
    TenantDesignation,
    TokenKind,
    User,
)
from centrex.store.sequences import next_number

ROLES = ("office_admin", "backup_admin", "cpni_admin", "end_user", "granted_user", "developer")


@dataclass
class TenantWorld:
    id: uuid.UUID
    domain: str
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)


@dataclass
class World:
    operator_token: str
    a: TenantWorld
    b: TenantWorld
    pool_number_id: uuid.UUID


def _token(session: Session, **values: object) -> str:
    made = new_token()
    session.add(ApiToken(prefix=made.prefix, secret_hash=made.secret_hash, name="test", **values))
    return made.plaintext


def _tenant(session: Session, label: str, npa: str) -> TenantWorld:
    tenant = Tenant(name=f"Tenant {label}", sip_domain=f"{label}.example.com")
    session.add(tenant)
    session.flush()
    tw = TenantWorld(tenant.id, tenant.sip_domain)
    site = Site(
        tenant_id=tenant.id,
        name="HQ",
        street="1 Main St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        npa_nxx=f"{npa}528",
        calling_units=4,
    )
    rclass = CallRestrictionClass(tenant_id=tenant.id, name="Standard")
    session.add_all([site, rclass])
    session.flush()
    users = {}
    for i, role in enumerate(
        ("office_admin", "backup_admin", "cpni_admin", "end_user", "granted_user", "other_user")
    ):
        u = User(tenant_id=tenant.id, name=f"{label} {role}", extension=str(2001 + i), site_id=site.id)
        session.add(u)
        session.flush()
        session.add(Mailbox(tenant_id=tenant.id, user_id=u.id))
        users[role] = u
    for role, key in (
        (Role.OFFICE_ADMIN, "office_admin"),
        (Role.BACKUP_ADMIN, "backup_admin"),
        (Role.CPNI_ADMIN, "cpni_admin"),
    ):
        session.add(TenantDesignation(tenant_id=tenant.id, role=role, user_id=users[key].id))
    grant = CpniGrant(tenant_id=tenant.id, user_id=users["granted_user"].id, granted_by="test")
    md5, sha = sip_ha1s("2001", tenant.sip_domain, "secret-password")
    device = Device(
        tenant_id=tenant.id, sip_username="2001", ha1_md5=md5, ha1_sha256=sha, user_id=users["end_user"].id
    )
    group = HuntGroup(tenant_id=tenant.id, name="Sales", extension="3000")
    entry = DirectoryEntry(tenant_id=tenant.id, name="Front desk", number="+12175550100")
    number = PhoneNumber(e164=f"+1{npa}5281234", tenant_id=tenant.id, status=NumberStatus.RESERVED)
    session.add_all([grant, device, group, entry, number])
    session.flush()
    session.add(HuntGroupMember(tenant_id=tenant.id, hunt_group_id=group.id, user_id=users["end_user"].id))
    for role in ("office_admin", "backup_admin", "cpni_admin", "end_user", "granted_user"):
        tw.tokens[role] = _token(session, kind=TokenKind.USER, tenant_id=tenant.id, user_id=users[role].id)
    tw.tokens["developer"] = _token(session, kind=TokenKind.DEVELOPER, tenant_id=tenant.id)
    session.flush()
    invoice = _billing(session, tenant)
    token_row = session.query(ApiToken).filter_by(tenant_id=tenant.id, kind=TokenKind.DEVELOPER).one()
    tw.ids.update(
        site=site.id,
        user=users["other_user"].id,
        end_user=users["end_user"].id,
        device=device.id,
        hunt_group=group.id,
        restriction=rclass.id,
        entry=entry.id,
        number=number.id,
        grant=grant.id,
        token=token_row.id,
        invoice=invoice.id,
    )
    return tw


def _billing(session: Session, tenant: Tenant) -> InvoiceRow:
    """A billing plan and one issued invoice, dated the first of the current month (so a dispute
    filed today is inside the 60-day Dispute Period)."""
    session.add(BillingPlan(tenant_id=tenant.id, code="std", seats=5, seat_monthly=Decimal("20.00")))
    first = datetime.now(UTC).date().replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    sequence = next_number(session, "invoice")
    invoice = InvoiceRow(
        tenant_id=tenant.id,
        number=f"INV-{sequence:06d}",
        sequence=sequence,
        invoice_date=first,
        due_date=first + timedelta(days=30),
        usage_start=previous,
        usage_end=first - timedelta(days=1),
        customer_name=tenant.name,
        subtotal=Decimal("100.00"),
        taxes_and_surcharges=Decimal("0.00"),
        total=Decimal("100.00"),
        issued_by="world",
    )
    session.add(invoice)
    session.flush()
    session.add(
        InvoiceLineRow(
            tenant_id=tenant.id,
            invoice_id=invoice.id,
            position=1,
            kind="recurring",
            description="Hosted PBX active seats",
            quantity=Decimal(5),
            unit_price=Decimal("20.00"),
            amount=Decimal("100.00"),
            period_start=first,
            period_end=date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1),
            source="hosted-pbx.txt 1.a",
        )
    )
    session.flush()
    return invoice


def build_world(session: Session) -> World:
    op = Operator(name="Olive Operator", email="olive@provider.example")
    session.add(op)
    session.flush()
    op_token = _token(session, kind=TokenKind.OPERATOR, operator_id=op.id)
    a = _tenant(session, "alpha", "217")
    b = _tenant(session, "beta", "312")
    pool = PhoneNumber(e164="+16175550123")
    session.add(pool)
    session.flush()
    _extend(session, a, b)
    return World(op_token, a, b, pool.id)


def _extend(session: Session, *tenants: TenantWorld) -> None:
    """Each resource family adds its rows in tests/support/world_<family>.py with
    `extend(session, tenant_world)`, storing the ids it makes in `tenant_world.ids`."""
    import tests.support as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("world_"):
            module = importlib.import_module(f"tests.support.{info.name}")
            for tw in tenants:
                module.extend(session, tw)
                session.flush()
