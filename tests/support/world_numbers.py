"""World rows of the numbers and 911 family (issue 6): port orders in each state, a directory
listing, registered 911 locations, a 911 contact, and the operator's address table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.store.models import NumberStatus, PhoneNumber
from centrex.store.models.numbering import (
    AddressRange,
    DirectoryListing,
    EmergencyContact,
    LocationSubject,
    NotifyKind,
    PortOrder,
    RegisteredLocation,
)
from tests.support.world import TenantWorld

NPA = {"alpha.example.com": "217", "beta.example.com": "312"}

ADDRESS_TABLE_CSV = """state,community,street,low,high,parity,postal_code,esn,psap
IL,Springfield,Main St,1,999,both,62701,101,Sangamon County 911
IL,Springfield,Monroe St,100,898,even,62701,101,Sangamon County 911
IL,Springfield,Monroe St,101,899,odd,62701,101,Sangamon County 911
IL,Chicago,W Madison St,1,2999,both,60602,201,Chicago OEMC
IL,Chicago,N State St,1,1999,both,60602,201,Chicago OEMC
"""


def main_number(tw: TenantWorld) -> str:
    """The number world.py gives each tenant (+1 NPA 528 1234)."""
    return f"+1{NPA[tw.domain]}5281234"


def complete_order(tw: TenantWorld, first: int) -> dict[str, object]:
    """Every field of hosted-pbx.txt §2.5 plus PIN, BTN and LOA: submittable as it stands."""
    npa = NPA[tw.domain]
    numbers = [f"+1{npa}528{first:04d}", f"+1{npa}528{first + 1:04d}"]
    return {
        "account_name": "Acme Widgets LLC",
        "account_street": "100 Main St",
        "account_city": "Springfield",
        "account_state": "IL",
        "account_postal_code": "62701",
        "account_number": "ACCT-99812",
        "numbers": numbers,
        "services": ["2 analog lines", "1 hunt group"],
        "contact_phone": f"+1{npa}5289999",
        "contact_email": "it@acme.example.com",
        "pin": "4321",
        "billing_telephone_number": numbers[0],
        "loa_signer": "Pat Acme",
        "loa_signed_on": datetime.now(UTC).date() - timedelta(days=2),
        "loa_numbers": list(numbers),
    }


def _address_table(session: Session) -> None:
    if session.scalar(select(AddressRange.id).limit(1)) is not None:
        return
    lines = ADDRESS_TABLE_CSV.strip().splitlines()[1:]
    for line in lines:
        state, community, street, low, high, parity, postal, esn, psap = line.split(",")
        session.add(
            AddressRange(
                state=state,
                community=community,
                street=street,
                low=int(low),
                high=int(high),
                parity=parity,
                postal_code=postal,
                esn=esn,
                psap=psap,
            )
        )


def extend(session: Session, tw: TenantWorld) -> None:
    _address_table(session)
    npa = NPA[tw.domain]
    today = datetime.now(UTC).date()
    orders = {
        "port_order": PortOrder(tenant_id=tw.id, **complete_order(tw, 4001)),
        "port_submitted": PortOrder(tenant_id=tw.id, status="submitted", **complete_order(tw, 4011)),
        "port_foc": PortOrder(tenant_id=tw.id, status="foc", foc_date=today, **complete_order(tw, 4021)),
        "port_rejected": PortOrder(
            tenant_id=tw.id, status="rejected", rejection_reason="PIN mismatch", **complete_order(tw, 4031)
        ),
        "port_completed": PortOrder(tenant_id=tw.id, status="completed", **complete_order(tw, 4041)),
    }
    listed = PhoneNumber(e164=f"+1{npa}5282000", tenant_id=tw.id, status=NumberStatus.RESERVED)
    session.add_all([*orders.values(), listed])
    session.flush()
    listing = DirectoryListing(
        tenant_id=tw.id,
        name=f"Tenant {tw.domain.split('.')[0].title()}",
        number=listed.e164,
        designation="business",
        lines=[f"Tenant {tw.domain.split('.')[0].title()}"],
        furnished_at=datetime.now(UTC),
    )
    contact = EmergencyContact(tenant_id=tw.id, kind=NotifyKind.EMAIL, address=f"security@{tw.domain}")
    located = [
        RegisteredLocation(
            tenant_id=tw.id,
            subject_type=subject,
            subject_id=tw.ids[key],
            house_number="1",
            street="Main St",
            city="Springfield",
            state="IL",
            postal_code="62701",
            validated=True,
            esn="101",
            psap="Sangamon County 911",
            validated_at=datetime.now(UTC),
        )
        for subject, key in ((LocationSubject.USER, "end_user"), (LocationSubject.DEVICE, "device"))
    ]
    session.add_all([listing, contact, *located])
    session.flush()
    tw.ids.update({k: v.id for k, v in orders.items()})
    tw.ids.update(listing=listing.id, e911_contact=contact.id, listed_number=listed.id)
