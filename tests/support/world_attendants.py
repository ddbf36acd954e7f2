"""World rows of auto attendants (issue 4 point 3): per tenant a main menu (1 -> extension 2001,
2 -> the Sales hunt group 3000, 0 -> operator 2001) with a Chicago business-hours schedule whose
after-hours menu is the night menu, and a spare menu nothing uses (so it can be deleted)."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy.orm import Session

from centrex.store.models.attendants import (
    AttendantAction,
    AttendantHoliday,
    AttendantHours,
    AttendantMenu,
    AttendantOption,
    AttendantSchedule,
)
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    main = AttendantMenu(tenant_id=tw.id, name="Main", extension="500", operator_extension="2001")
    night = AttendantMenu(tenant_id=tw.id, name="Night", timeout_action=AttendantAction.HANGUP)
    spare = AttendantMenu(tenant_id=tw.id, name="Spare", timeout_action=AttendantAction.HANGUP)
    session.add_all([main, night, spare])
    session.flush()
    for digit, action, target in (
        ("1", AttendantAction.EXTENSION, "2001"),
        ("2", AttendantAction.HUNT_GROUP, "3000"),
        ("0", AttendantAction.OPERATOR, None),
    ):
        session.add(
            AttendantOption(tenant_id=tw.id, menu_id=main.id, digit=digit, action=action, target=target)
        )
    schedule = AttendantSchedule(
        tenant_id=tw.id, menu_id=main.id, time_zone="America/Chicago", after_hours_menu_id=night.id
    )
    session.add(schedule)
    session.flush()
    for day in range(5):
        session.add(
            AttendantHours(
                tenant_id=tw.id, schedule_id=schedule.id, weekday=day, opens=time(9), closes=time(17)
            )
        )
    session.add(
        AttendantHoliday(tenant_id=tw.id, schedule_id=schedule.id, day=date(2026, 12, 25), name="Christmas")
    )
    session.flush()
    tw.ids.update(aa_menu=main.id, aa_night=night.id, aa_spare=spare.id)
