"""World rows of messaging (issue 16 §4): per tenant of the world an approved 10DLC registration
covering its number, one message sent from it, and that number's SMS URL settings."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.cpaas.sids import sid_of
from centrex.store.models import PhoneNumber
from centrex.store.models.messaging import A2pRegistration, SmsMessage, SmsNumberConfig
from tests.support.world import TenantWorld


def number_of(tw: TenantWorld) -> str:
    """The tenant's number (world.py gives each tenant +1<npa>5281234)."""
    return "+12175281234" if tw.domain.startswith("alpha") else "+13125281234"


def extend(session: Session, tw: TenantWorld) -> None:
    number = number_of(tw)
    assert session.scalar(
        select(PhoneNumber).where(PhoneNumber.e164 == number, PhoneNumber.tenant_id == tw.id)
    )
    reg = A2pRegistration(
        tenant_id=tw.id,
        kind="10dlc",
        status="approved",
        brand_name="World Co",
        campaign_id="CWORLD",
        numbers=[number],
    )
    row_id = uuid.uuid4()
    message = SmsMessage(
        id=row_id,
        sid=sid_of("SM", row_id),
        tenant_id=tw.id,
        direction="outbound-api",
        from_number=number,
        to_number="+16175551234",
        body="hello",
        status="delivered",
    )
    session.add_all(
        [reg, message, SmsNumberConfig(tenant_id=tw.id, number=number, sms_url="https://example.com/sms")]
    )
    session.flush()
    tw.ids["a2p"] = reg.id
    tw.ids["sms_message"] = message.id
    tw.ids["sms_number"] = number  # type: ignore[assignment]  # a path segment, as the API names it
