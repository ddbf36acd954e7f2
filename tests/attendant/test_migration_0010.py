"""Migration 0010 on an existing 0009 database: attendant menus, options, schedules, hours and
holidays added (options and schedules go with their menu; one option per key); and back."""

from __future__ import annotations

from datetime import date, time

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, upgrade
from centrex.store.models import Tenant
from centrex.store.models.attendants import (
    AttendantAction,
    AttendantHoliday,
    AttendantHours,
    AttendantMenu,
    AttendantOption,
    AttendantSchedule,
)

TABLES = {
    "attendant_menus",
    "attendant_options",
    "attendant_schedules",
    "attendant_hours",
    "attendant_holidays",
}


def test_0010_follows_0009() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert script.get_revision("0010").down_revision == "0009"


def test_upgrade_from_0009_and_back(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine, "0009")
        factory = make_sessionmaker(engine)
        with transaction(factory) as s:
            tenant = Tenant(name="Old Co", sip_domain="old.example.com")
            s.add(tenant)
            s.flush()
            tenant_id = tenant.id
        upgrade(engine, "0010")
        with transaction(factory) as s:
            main = AttendantMenu(tenant_id=tenant_id, name="Main", extension="500")
            night = AttendantMenu(tenant_id=tenant_id, name="Night")
            s.add_all([main, night])
            s.flush()
            s.add(
                AttendantOption(
                    tenant_id=tenant_id,
                    menu_id=main.id,
                    digit="1",
                    action=AttendantAction.EXTENSION,
                    target="1001",
                )
            )
            schedule = AttendantSchedule(
                tenant_id=tenant_id,
                menu_id=main.id,
                time_zone="America/Chicago",
                after_hours_menu_id=night.id,
            )
            s.add(schedule)
            s.flush()
            s.add(
                AttendantHours(
                    tenant_id=tenant_id,
                    schedule_id=schedule.id,
                    weekday=0,
                    opens=time(9),
                    closes=time(17, 30),
                )
            )
            s.add(
                AttendantHoliday(
                    tenant_id=tenant_id, schedule_id=schedule.id, day=date(2026, 11, 26), name="Thanksgiving"
                )
            )
            main_id = main.id
        with factory() as s:
            menu = s.get(AttendantMenu, main_id)
            assert menu is not None and menu.timeout_seconds == 5 and menu.max_invalid == 3
            assert (
                menu.timeout_action is AttendantAction.OPERATOR
                and menu.invalid_action is AttendantAction.HANGUP
            )
            hours = s.scalars(select(AttendantHours)).one()
            assert (hours.opens, hours.closes) == (time(9), time(17, 30))
            assert s.scalars(select(AttendantHoliday.day)).one() == date(2026, 11, 26)
        with pytest.raises(IntegrityError), transaction(factory) as s:
            s.add(
                AttendantOption(
                    tenant_id=tenant_id, menu_id=main_id, digit="1", action=AttendantAction.REPEAT
                )
            )
        with transaction(factory) as s:
            s.delete(s.get(AttendantMenu, main_id))
        with factory() as s:
            assert s.scalars(select(AttendantOption)).all() == []
            assert s.scalars(select(AttendantSchedule)).all() == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0009")
        with engine.begin() as conn:
            assert not TABLES & set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
