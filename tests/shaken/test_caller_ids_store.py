"""routing/caller_ids.py on SQLite and PostgreSQL: a tenant's assigned numbers are owned, its
verified caller IDs verified, anything else (another tenant's DID, a number in the pool) foreign."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from centrex.routing.caller_ids import StoreCallerIds
from centrex.routing.caller_policy import Standing
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import NumberStatus, PhoneNumber, Tenant
from centrex.store.models.caller_ids import VerifiedCallerId


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_owned_verified_and_foreign_numbers(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        acme = Tenant(name="Acme", sip_domain="acme.example.com")
        other = Tenant(name="Other", sip_domain="other.example.com")
        s.add_all([acme, other])
        s.flush()
        s.add_all(
            [
                PhoneNumber(e164="+12175550101", tenant_id=acme.id, status=NumberStatus.ASSIGNED),
                PhoneNumber(e164="+12175550202", tenant_id=other.id, status=NumberStatus.ASSIGNED),
                PhoneNumber(e164="+12175550303", status=NumberStatus.AVAILABLE),
                VerifiedCallerId(tenant_id=acme.id, e164="+16465550142", verified_by="LOA"),
            ]
        )
        acme_id, other_id = acme.id, other.id
    ids = StoreCallerIds(factory, ttl_s=5.0)
    assert ids.standing(acme_id, "+12175550101", 0.0) is Standing.OWNED
    assert ids.standing(acme_id, "+16465550142", 0.0) is Standing.VERIFIED
    assert ids.standing(acme_id, "+12175550202", 0.0) is Standing.FOREIGN
    assert ids.standing(acme_id, "+12175550303", 0.0) is Standing.FOREIGN
    assert ids.standing(other_id, "+16465550142", 0.0) is Standing.FOREIGN
    assert ids.standing(other_id, "+12175550303", 0.0) is Standing.FOREIGN
    with transaction(factory) as s:
        s.add(VerifiedCallerId(tenant_id=other_id, e164="+12175550303", verified_by="call-back"))
    assert ids.standing(other_id, "+12175550303", 1.0) is Standing.FOREIGN  # kept ttl_s
    assert ids.standing(other_id, "+12175550303", 6.0) is Standing.VERIFIED
