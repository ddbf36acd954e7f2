"""The trunk and route tables on SQLite and PostgreSQL: migration 0006 on an existing 0005 database,
and the rules the database itself keeps (only pbx trunks have a tenant, one gateway per trunk, role
and position, gateways go with their trunk, a trunk with routes cannot be deleted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.routing import model
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import PhoneNumber, Tenant
from centrex.store.models import trunks as rows
from centrex.store.models.trunks import (
    EmergencyRouteRow,
    GatewayRole,
    OutboundRouteRow,
    TrunkGatewayRow,
    TrunkKind,
    TrunkRow,
)

NEW_TABLES = {"trunks", "trunk_gateways", "outbound_routes", "emergency_routes"}


def test_one_head_and_it_is_0006_or_later() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0006").down_revision == "0005"


def test_upgrade_from_0005_keeps_existing_rows_and_downgrade_removes_the_tables(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine, "0005")
        with engine.begin() as conn:
            assert not NEW_TABLES & set(inspect(conn).get_table_names())
        factory = make_sessionmaker(engine)
        with transaction(factory) as s:
            tenant = Tenant(name="Old Co", sip_domain="old.example.com")
            s.add(tenant)
            s.flush()
            s.add(PhoneNumber(e164="+12175550100", tenant_id=tenant.id))
            tenant_id = tenant.id
        upgrade(engine)
        assert is_current(engine)
        with transaction(factory) as s:
            assert (
                s.scalar(select(PhoneNumber.e164).where(PhoneNumber.tenant_id == tenant_id)) == "+12175550100"
            )
            trunk = TrunkRow(name="acme-pbx", kind=TrunkKind.PBX, tenant_id=tenant_id)
            s.add(trunk)
            s.flush()
            s.add(TrunkGatewayRow(trunk_id=trunk.id, host="192.0.2.10"))
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005")
        with engine.begin() as conn:
            assert not NEW_TABLES & set(inspect(conn).get_table_names())
        with factory() as s:
            assert s.scalar(select(Tenant.name).where(Tenant.id == tenant_id)) == "Old Co"
    finally:
        engine.dispose()


def test_store_enumerations_repeat_the_routing_model() -> None:
    """store/ may not import routing/, so its enumerations repeat the values: they must not drift."""
    assert {k.value for k in rows.TrunkKind} == {k.value for k in model.TrunkKind}
    assert {r.value for r in rows.GatewayRole} == {r.value for r in model.GatewayRole}


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _tenant(s: Session) -> Tenant:
    t = Tenant(name="Acme", sip_domain="acme.example.com")
    s.add(t)
    s.flush()
    return t


def test_only_pbx_trunks_have_a_tenant(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        tenant_id = _tenant(s).id
    for kind, tenant in ((TrunkKind.CARRIER, tenant_id), (TrunkKind.PBX, None)):
        with pytest.raises(IntegrityError), transaction(factory) as s:
            s.add(TrunkRow(name=f"bad-{kind.value}", kind=kind, tenant_id=tenant))
            s.flush()
    with transaction(factory) as s:
        s.add(TrunkRow(name="carrier-a", kind=TrunkKind.CARRIER))
        s.add(TrunkRow(name="acme-pbx", kind=TrunkKind.PBX, tenant_id=tenant_id))


def test_gateways_are_unique_per_role_and_position_and_go_with_their_trunk(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as s:
        trunk = TrunkRow(name="carrier-a", kind=TrunkKind.CARRIER)
        s.add(trunk)
        s.flush()
        trunk_id = trunk.id
        s.add_all(
            [
                TrunkGatewayRow(trunk_id=trunk_id, host="192.0.2.1", role=GatewayRole.PRIMARY, position=0),
                TrunkGatewayRow(trunk_id=trunk_id, host="192.0.2.2", role=GatewayRole.PRIMARY, position=1),
                TrunkGatewayRow(
                    trunk_id=trunk_id, host="198.51.100.1", role=GatewayRole.SECONDARY, position=0
                ),
            ]
        )
    with pytest.raises(IntegrityError), transaction(factory) as s:
        s.add(TrunkGatewayRow(trunk_id=trunk_id, host="192.0.2.3", role=GatewayRole.PRIMARY, position=1))
        s.flush()
    with pytest.raises(IntegrityError), transaction(factory) as s:
        s.add(TrunkGatewayRow(trunk_id=trunk_id, host="192.0.2.3", port=70000, position=7))
        s.flush()
    with transaction(factory) as s:
        s.delete(s.get(TrunkRow, trunk_id))
    with factory() as s:
        assert s.scalars(select(TrunkGatewayRow)).all() == []


def test_a_trunk_with_routes_cannot_be_deleted_and_a_tenant_takes_its_own_along(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as s:
        tenant_id = _tenant(s).id
        carrier = TrunkRow(name="carrier-a", kind=TrunkKind.CARRIER)
        pbx = TrunkRow(name="acme-pbx", kind=TrunkKind.PBX, tenant_id=tenant_id)
        s.add_all([carrier, pbx])
        s.flush()
        carrier_id = carrier.id
        s.add(TrunkGatewayRow(trunk_id=pbx.id, host="203.0.113.5"))
        s.add(OutboundRouteRow(trunk_id=carrier_id, prefix="1"))
        s.add(OutboundRouteRow(trunk_id=carrier_id, prefix="44", tenant_id=tenant_id))
        s.add(EmergencyRouteRow(trunk_id=carrier_id))
    with pytest.raises(IntegrityError), transaction(factory) as s:
        s.delete(s.get(TrunkRow, carrier_id))
        s.flush()
    with pytest.raises(IntegrityError), transaction(factory) as s:
        s.add(OutboundRouteRow(trunk_id=carrier_id, prefix="1", weight=0))
        s.flush()
    with transaction(factory) as s:
        s.delete(s.get(Tenant, tenant_id))
    with factory() as s:
        assert [t.name for t in s.scalars(select(TrunkRow))] == ["carrier-a"]
        assert s.scalars(select(TrunkGatewayRow)).all() == []
        assert [r.prefix for r in s.scalars(select(OutboundRouteRow))] == ["1"]
