"""The execution log's writer: steps reach flow_steps through one thread per database that writes
what is queued in one transaction (group commit), so an execution's step costs a queue put on the
loop, not a commit; under load many executions' steps share one commit.

Order is kept: an execution's end (its status, context) is written after its steps, in the same
or a later batch, and the runtime awaits that write, so "ended" read through the API means its
steps are all there. What a crash loses: the steps queued but not yet written (milliseconds).
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Update, insert, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.store.db import transaction
from centrex.store.models.flows import FlowExecution, FlowStep

log = logging.getLogger(__name__)
BATCH = 2000


@dataclass
class _Item:
    step: dict[str, Any] | None = None  # a flow_steps row
    end: dict[str, Any] | None = None  # the execution's final values
    tenant_id: uuid.UUID | None = None
    execution_id: uuid.UUID | None = None
    done: concurrent.futures.Future[None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class StepLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0

    def _started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="centrex-flow-steps", daemon=True)
                    self._thread.start()

    def step(self, row: dict[str, Any]) -> None:
        self._started()
        self.queue.put(_Item(step=row, tenant_id=row["tenant_id"], execution_id=row["execution_id"]))

    def end(
        self, tenant_id: uuid.UUID, execution_id: uuid.UUID, values: dict[str, Any]
    ) -> concurrent.futures.Future[None]:
        self._started()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.queue.put(_Item(end=values, tenant_id=tenant_id, execution_id=execution_id, done=done))
        return done

    def flush(self, timeout: float = 10.0) -> None:
        """Returns once what was queued before is written (or after ``timeout``)."""
        self._started()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.queue.put(_Item(done=done))
        try:
            done.result(timeout)
        except Exception:  # a failed batch is logged by the writer; the caller goes on
            log.warning("flow steps: a flush did not complete")

    def _run(self) -> None:
        while True:
            items = [self.queue.get()]
            while len(items) < BATCH:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(items)
                error: BaseException | None = None
            except Exception as exc:  # the log must not stop for one bad batch; say so loudly
                log.exception("flow steps: a batch of %d was not written", len(items))
                error = exc
            for item in items:
                if item.done is not None:
                    if error is None:
                        item.done.set_result(None)
                    else:
                        item.done.set_exception(error)

    def _write(self, items: list[_Item]) -> None:
        steps = [i.step for i in items if i.step is not None]
        last: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
        for i in items:
            if i.step is not None and i.tenant_id is not None and i.execution_id is not None:
                last[(i.tenant_id, i.execution_id)] = {
                    "current_state": i.step["state"],
                    "steps": i.step["seq"],
                }
        with transaction(self.sessions) as s:
            if steps:
                s.execute(insert(FlowStep), steps)
            # Only an active row: one the API ended (store.end_by_api) stays as it was left, even
            # if its walk wrote on for a moment (a call's walk stops at its next widget).
            for (tenant_id, execution_id), values in last.items():
                s.execute(_active(tenant_id, execution_id).values(**values))
            for i in items:
                if i.end is not None and i.tenant_id is not None and i.execution_id is not None:
                    s.execute(_active(i.tenant_id, i.execution_id).values(**i.end))
        self.batches += 1


def _active(tenant_id: uuid.UUID, execution_id: uuid.UUID) -> Update:
    return update(FlowExecution).where(
        FlowExecution.id == execution_id,
        FlowExecution.tenant_id == tenant_id,
        FlowExecution.status == "active",
    )


_logs: weakref.WeakKeyDictionary[sessionmaker[Session], StepLog] = weakref.WeakKeyDictionary()
_logs_lock = threading.Lock()


def step_log(sessions: sessionmaker[Session]) -> StepLog:
    with _logs_lock:
        found = _logs.get(sessions)
        if found is None:
            found = _logs[sessions] = StepLog(sessions)
        return found


def jsonable(value: Any) -> Any:
    """Outputs as JSON keeps them (a widget may hand back bytes or numbers of any kind)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
