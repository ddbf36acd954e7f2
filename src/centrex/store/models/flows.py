"""Flows (issue 20 §1): a tenant's flows, their revisions, executions and the per-step log.

- ``flows``: one flow (sid FW…); ``draft_revision`` the revision being edited, ``published_revision``
  the one that runs (None until published). One published revision at a time: the pointer is the only
  place that says which, and publishing moves it (cpaas/flows/store.py).
- ``flow_revisions``: every saved draft, Studio's JSON as given (offsets kept), its lint warnings and
  a status: draft, published, or retired (was published before the current one).
- ``flow_executions``: one run (sid FN…), its context (trigger, flow.variables, widgets' outputs).
  ``one_per_contact``: its revision's ``flags.allow_concurrent_calls`` was false, so a unique partial
  index lets the contact have one such execution of the flow active at a time (migration 0045).
- ``flow_steps``: the execution log, one row per widget run (state, type, event, outputs, timing).
- ``flow_numbers``: a number whose incoming messages start a flow.

cpaas.txt §2.4.2: executions and steps are application detail records, kept 3 years; the content in
them (message bodies, HTTP bodies: ``context`` and ``outputs``) is emptied after 30 days
(``content_erased_at``), by the flow-retention job.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, false, text
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class Flow(Base, TenantOwned):
    __tablename__ = "flows"
    friendly_name: Mapped[str] = mapped_column(String(200))
    draft_revision: Mapped[int] = mapped_column(Integer, default=1)
    published_revision: Mapped[int | None] = mapped_column(Integer, default=None)


class FlowRevision(Base, TenantOwned):
    __tablename__ = "flow_revisions"
    __table_args__ = (UniqueConstraint("flow_id", "revision"),)
    flow_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published | retired
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


# The rows the one-active-execution-per-contact rule covers: the database, not a process, refuses a
# second one, so two nodes starting the same contact's execution at once cannot both succeed.
ONE_ACTIVE = "status = 'active' AND one_per_contact"


class FlowExecution(Base, TenantOwned):
    __tablename__ = "flow_executions"
    __table_args__ = (
        Index("ix_flow_executions_tenant_created", "tenant_id", "created_at"),
        Index(
            "uq_flow_executions_active_contact",
            "tenant_id",
            "flow_id",
            "contact_address",
            unique=True,
            sqlite_where=text(ONE_ACTIVE),
            postgresql_where=text(ONE_ACTIVE),
        ),
    )
    flow_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)  # run by a run-subflow widget
    channel: Mapped[str] = mapped_column(String(16))  # rest | message | voice | subflow
    contact_address: Mapped[str] = mapped_column(String(64), default="")
    flow_address: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended | failed
    one_per_contact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    current_state: Mapped[str | None] = mapped_column(String(100), default=None)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class FlowStep(Base, TenantOwned):
    __tablename__ = "flow_steps"
    execution_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("flow_executions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(100))
    widget_type: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    next_state: Mapped[str | None] = mapped_column(String(100), default=None)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    content_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class FlowNumber(Base, TenantOwned):
    __tablename__ = "flow_numbers"
    __table_args__ = (UniqueConstraint("number"),)
    flow_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16))
