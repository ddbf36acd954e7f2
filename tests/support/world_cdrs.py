"""Call records for the CDR routes: two calls of the tenant, written by the switch's own CDR writer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from centrex.adapters.call_records import write_cdr
from centrex.calls.events import CallEnded
from centrex.calls.model import LegRecord
from centrex.store.models import User

T0 = datetime(2020, 1, 2, 15, 0, tzinfo=UTC)  # before the calls of tests/api/test_cdrs_api.py


def extend(session: Session, tw: object) -> None:
    ids: dict[str, uuid.UUID] = tw.ids  # type: ignore[attr-defined]
    caller = session.get(User, ids["end_user"])
    callee = session.get(User, ids["user"])
    assert caller is not None and callee is not None
    answered = T0 + timedelta(seconds=4)
    ended = answered + timedelta(seconds=61)
    leg = LegRecord(
        callee.id, callee.extension, None, "sip:x@127.0.0.1", T0, answered, ended, 200, "answered"
    )
    ids["cdr"] = write_cdr(
        session,
        CallEnded(
            uuid.uuid4(),
            caller.tenant_id,
            caller.site_id,
            caller.id,
            ids["device"],
            caller.extension,
            callee.extension,
            callee.extension,
            "on_net",
            T0,
            answered,
            ended,
            61_000,
            "answered",
            "caller_bye",
            200,
            (leg,),
        ),
    )
