"""Long operator tasks with progress, started from the portal and polled by it (issue 18 §2:
"rate decks (CSV import with progress), billing runs with progress").

A task is a row of ``portal_tasks`` and a worker thread of the API process. The thread writes its
progress (``done`` of ``total``, and the phase) in short transactions of its own, at most every
``PROGRESS_EVERY_S`` and at every phase change, so the page polling ``GET /tasks/{id}`` sees it move;
at the end the row holds the result, or the API's problem (message, field, rule) when it failed.
The work itself is what the synchronous routes and the CLI run: billing/deck_service.py import_deck
(with its ``on_read``/``on_stored`` hooks) and the scheduler's billing-run job (ops/jobs/billing.py,
through ops/scheduler.py run_job: its lock, its ``job_runs`` record, its ``ctx.progress``).

A task whose process dies stays ``running``: a task older than ``STALE_AFTER`` that is still
running is shown as failed ("interrupted") when read.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from centrex.billing.deck_service import import_deck
from centrex.billing.periods import add_months
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import run_job
from centrex.store.access import OperatorData, Principal
from centrex.store.db import transaction
from centrex.store.errors import StoreError
from centrex.store.models.portal_tasks import PortalTask
from centrex.store.types import utcnow

log = logging.getLogger(__name__)

RUNNING, DONE, FAILED = "running", "done", "failed"
PROGRESS_EVERY_S = 0.2
STALE_AFTER = timedelta(hours=6)
Work = Callable[["Progress"], dict[str, Any]]


# Progress of the tasks running in this process, as the last call left it: read first by
# GET /tasks/{id} (a poll reaching this node sees every step). The row gets it too, for polls reaching
# other nodes, except on SQLite: the import's own transaction holds the database's one write lock
# while it stores, so a second writer would wait on it for ever.
_live: dict[uuid.UUID, tuple[str, int, int | None]] = {}
_live_lock = threading.Lock()


class Progress:
    """``progress(done, total, phase)``: kept in memory, and written to the task's row (throttled)."""

    def __init__(self, sessions: sessionmaker[Session], task_id: uuid.UUID) -> None:
        self.sessions = sessions
        self.task_id = task_id
        self._last = 0.0
        self._phase: str | None = None
        bind = sessions.kw.get("bind")
        self._write = bind is None or bind.dialect.name != "sqlite"

    def __call__(self, done: int, total: int | None = None, phase: str | None = None) -> None:
        with _live_lock:
            _live[self.task_id] = (phase or self._phase or "", done, total)
        now = time.monotonic()
        if not self._write or (phase == self._phase and now - self._last < PROGRESS_EVERY_S):
            return
        self._last, self._phase = now, phase
        with transaction(self.sessions) as s:
            row = s.get(PortalTask, self.task_id)
            if row is not None:
                row.done, row.total = done, total
                if phase is not None:
                    row.phase = phase


def live(task_id: uuid.UUID) -> tuple[str, int, int | None] | None:
    """(phase, done, total) of a task running in this process."""
    with _live_lock:
        return _live.get(task_id)


def start(
    sessions: sessionmaker[Session], kind: str, actor: str, params: dict[str, Any], work: Work
) -> uuid.UUID:
    """Record the task (committed before its thread starts) and run ``work`` in a thread."""
    with transaction(sessions) as s:
        row = PortalTask(kind=kind, status=RUNNING, phase="queued", done=0, actor=actor, params=params)
        s.add(row)
        s.flush()
        task_id = row.id
    thread = threading.Thread(target=_run, args=(sessions, task_id, work), name=f"task-{kind}", daemon=True)
    thread.start()
    return task_id


def _run(sessions: sessionmaker[Session], task_id: uuid.UUID, work: Work) -> None:
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    try:
        result = work(Progress(sessions, task_id))
    except StoreError as exc:
        error = {"message": exc.message, "field": exc.field, "rule": exc.rule}
    except Exception:  # never leave the row running: the page would wait for ever
        log.exception("portal_task.failed task=%s", task_id)
        error = {"message": "the task failed on the server (see its log)", "field": None, "rule": "internal"}
    last = live(task_id)
    with transaction(sessions) as s:
        row = s.get(PortalTask, task_id)
        if row is not None:
            row.status = FAILED if error else DONE
            row.phase = "failed" if error else "done"
            row.result, row.error = result, error
            row.finished_at = utcnow()
            if last is not None:
                _, row.done, row.total = last
            if not error and row.total is not None:
                row.done = row.total
    with _live_lock:
        _live.pop(task_id, None)


def shown_status(row: PortalTask) -> tuple[str, dict[str, Any] | None]:
    """A running task older than STALE_AFTER was interrupted (its process stopped)."""
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    if row.status == RUNNING and utcnow() - created > STALE_AFTER:
        return FAILED, {"message": "interrupted: the service stopped while it ran", "rule": "stale"}
    return row.status, row.error


# --- the tasks -----------------------------------------------------------------------------------


def rate_deck_import(
    sessions: sessionmaker[Session], principal: Principal, name: str, text: str, out: Callable[..., Any]
) -> Work:
    """Parse then store a deck; progress in CSV rows (the header is not one)."""
    total = max(0, sum(1 for line in text.splitlines() if line.strip()) - 1)

    def work(progress: Progress) -> dict[str, Any]:
        progress(0, total, "reading")
        with transaction(sessions) as s:
            made = import_deck(
                OperatorData(s, principal),
                name,
                io.StringIO(text, newline=""),
                on_read=lambda n: progress(n, total, "reading"),
                on_stored=lambda n: progress(n, total, "storing"),
            )
            return dict(out(made.deck, made.version).model_dump(mode="json"))

    return work


def billing_run(sessions: sessionmaker[Session], month: date, dry_run: bool) -> Work:
    """The scheduler's billing-run job as of the 1st of the month after ``month`` (it closes the
    month before its run), so the portal and the schedule issue the same invoices the same way."""
    job = builtin_registry().get("billing-run")
    start_of_next = add_months(month, 1)
    as_of = datetime(start_of_next.year, start_of_next.month, start_of_next.day, 6, tzinfo=UTC)

    def work(progress: Progress) -> dict[str, Any]:
        progress(0, None, "invoicing")
        outcome = run_job(
            sessions,
            job,
            as_of,
            dry_run=dry_run,
            trigger="manual",
            on_progress=lambda done, total: progress(done, total, "invoicing"),
        )
        if outcome.status == "busy":
            raise StoreError("a billing run is already in progress", field="period", rule="busy")
        if outcome.status == "failed":
            raise StoreError(f"the billing run failed: {outcome.error}", field="period", rule="billing_run")
        report = outcome.report.as_json() if outcome.report else {}
        return {"period": outcome.period, "month": f"{month:%Y-%m}", "dry_run": dry_run, **report}

    return work
