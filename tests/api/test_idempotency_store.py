"""Idempotency-Key answers are kept in the database (migration 0020): a retry after a restart (a new
application over the same database) gets the first answer; the same key with another body is a 422;
the job "idempotency-keys" deletes answers past 24 hours, and one past 24 h is not replayed."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from centrex.api.app import create_app
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import JobContext
from centrex.store.db import transaction
from centrex.store.models import IdempotencyRecord, User
from centrex.store.types import utcnow
from tests.api.conftest import Api


def test_a_retry_after_a_restart_gets_the_first_answer(api: Api, db_url: str) -> None:
    t = f"/api/v1/tenants/{api.world.a.id}/users"
    headers = {"Authorization": f"Bearer {api.world.a.tokens['office_admin']}", "Idempotency-Key": "k-77"}
    body = {"name": "Once Only", "extension": "7788"}
    first = api.client.post(t, headers=headers, json=body)
    assert first.status_code == 201, first.text

    restarted = create_app(db_url)  # another process's view: nothing of the first one in memory
    try:
        with TestClient(restarted) as client:
            again = client.post(t, headers=headers, json=body)
            assert again.status_code == 201 and again.json() == first.json()
            assert again.headers["idempotent-replayed"] == "true"
            other = client.post(t, headers=headers, json={**body, "name": "Someone Else"})
            assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
            assert "different request" in other.json()["message"]
        with transaction(restarted.state.sessionmaker) as s:
            made = s.scalar(
                select(func.count()).where(User.tenant_id == api.world.a.id, User.extension == "7788")
            )
            assert made == 1
    finally:
        restarted.state.engine.dispose()


def test_the_job_deletes_answers_past_a_day(api: Api) -> None:
    t = f"/api/v1/tenants/{api.world.a.id}/users"
    headers = {"Authorization": f"Bearer {api.world.a.tokens['office_admin']}", "Idempotency-Key": "k-old"}
    assert api.client.post(t, headers=headers, json={"name": "Old", "extension": "7789"}).status_code == 201
    sessions = api.app.state.sessionmaker
    with transaction(sessions) as s:
        s.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    # Past 24 h the key is free again: the same request runs (and meets its own user: 409).
    assert api.client.post(t, headers=headers, json={"name": "Old", "extension": "7789"}).status_code == 409
    job = builtin_registry().get("idempotency-keys")
    report = job.run(JobContext(sessions=sessions, now=utcnow()))
    assert report.counts["deleted"] == 1
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
