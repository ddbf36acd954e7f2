"""The alarm-clocks job as the scheduler runs it: a dry run reports what would escalate and changes
nothing; a real run escalates and mails; a second run escalates nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from centrex.config import Settings
from centrex.ops.alarm_policy import AlarmPolicy, configure
from centrex.ops.alarms import raise_alarm
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import run_job
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models.alarms import AlarmNotificationRow, AlarmRow
from tests.e911_store.servers import smtp_server


def test_alarm_clocks_dry_run_then_real_run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    configure(AlarmPolicy.from_settings(Settings(alarm_escalate="duty@provider.example")))
    raised = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)
    with transaction(sessions) as s:
        raise_alarm(s, key="database", component="database", priority=1, summary="unreachable", now=raised)
    job = builtin_registry().get("alarm-clocks")
    late = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    try:
        with smtp_server() as (mail, port):
            monkeypatch.setenv("CENTREX_SMTP_HOST", "127.0.0.1")
            monkeypatch.setenv("CENTREX_SMTP_PORT", str(port))
            dry = run_job(sessions, job, late, dry_run=True)
            assert dry.status == "ok" and dry.report is not None
            assert dry.report.counts == {"escalated": 1} and dry.report.rows == [
                {"escalated": "alarm database"}
            ]
            with transaction(sessions) as s:
                assert s.scalars(select(AlarmRow)).one().escalated_at is None
            real = run_job(sessions, job, late)
            assert real.report is not None and real.report.counts == {
                "escalated": 1,
                "sent": 1,
                "retried": 0,
                "failed": 0,
            }
            assert [m["To"] for m in mail.messages] == ["duty@provider.example"]
            again = run_job(sessions, job, datetime(2026, 12, 25, 10, 1, tzinfo=UTC))
            assert again.report is not None and again.report.counts["escalated"] == 0
            assert len(mail.messages) == 1
        with transaction(sessions) as s:
            assert [n.status for n in s.scalars(select(AlarmNotificationRow))] == ["sent"]
    finally:
        configure(None)
        engine.dispose()
