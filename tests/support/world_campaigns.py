"""World rows of campaigns (issue 20 §2): per tenant a contact list with one contact, a spare empty
list, a scheduled campaign over the first list, and a number on its do-not-call list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from centrex.store.models.campaigns import Campaign, Contact, ContactList, DncEntry
from tests.support.world import TenantWorld
from tests.support.world_messaging import number_of


def dnc_number_of(tw: TenantWorld) -> str:
    """Each tenant's own (different) DNC entry, so one tenant's path never finds the other's."""
    return "+12125550150" if tw.domain.startswith("alpha") else "+12125550151"


def extend(session: Session, tw: TenantWorld) -> None:
    lst = ContactList(tenant_id=tw.id, name="Customers")
    spare = ContactList(tenant_id=tw.id, name="Spare")
    session.add_all([lst, spare])
    session.flush()
    contact = Contact(
        tenant_id=tw.id, list_id=lst.id, number="+12125550123", state="NY", time_zones=["America/New_York"]
    )
    campaign = Campaign(
        tenant_id=tw.id,
        name="Spring",
        channel="sms",
        purpose="informational",
        list_id=lst.id,
        from_number=number_of(tw),
        body="Our hours change on Monday",
        status="scheduled",
        scheduled_at=datetime.now(UTC) + timedelta(days=30),
    )
    session.add_all([contact, campaign, DncEntry(tenant_id=tw.id, number=dnc_number_of(tw))])
    session.flush()
    tw.ids["contact_list"] = lst.id
    tw.ids["spare_contact_list"] = spare.id
    tw.ids["contact"] = contact.id
    tw.ids["campaign"] = campaign.id
    tw.ids["dnc_number"] = dnc_number_of(tw)  # type: ignore[assignment]  # a path segment
    tw.ids["registry_kind"] = "national-dnc"  # type: ignore[assignment]
