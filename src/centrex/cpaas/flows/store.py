"""Flows on storage: create, save a draft (validated and linted), publish (one published revision
at a time), executions and their step log. Every query is scoped by tenant.

Every execution is written by ``create_execution`` (REST, messages, calls, subflows), so the flow's
``flags.allow_concurrent_calls`` is enforced there and nowhere else."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.flows import waits
from centrex.cpaas.flows.schema import has_errors, lint, validate
from centrex.cpaas.flows.steplog import jsonable, step_log
from centrex.cpaas.sids import parse_sid, sid_of
from centrex.store.models.flows import Flow, FlowExecution, FlowNumber, FlowRevision, FlowStep

if TYPE_CHECKING:
    from centrex.cpaas.flows.widgets import FlowContext, Outcome


class InvalidDefinition(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors


class ContactBusy(Exception):
    """The flow does not allow concurrent calls and the contact already has an active execution of
    it: the API answers 409, an incoming call 486 Busy Here, an incoming message is not started."""

    def __init__(self, flow_id: uuid.UUID, contact: str, active: uuid.UUID | None) -> None:
        which = f" ({sid_of('FN', active)})" if active is not None else ""
        route = f".../flows/{sid_of('FW', flow_id)}/executions/{sid_of('FN', active) if active else '{sid}'}"
        super().__init__(
            f"{contact} already has an active execution{which} of flow {sid_of('FW', flow_id)}, whose "
            "flags.allow_concurrent_calls is false: end that one first"
            f' (POST {{"status": "ended"}} to {route})'
        )
        self.contact = contact
        self.active = active


class PublishRefused(ValueError):
    def __init__(self, warnings: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{w['state']}: {w['problem']}" for w in warnings))
        self.warnings = warnings


def now() -> datetime:
    return datetime.now(UTC)


def starter_definition(description: str = "") -> dict[str, Any]:
    """A new flow: Studio's blank canvas, the trigger alone."""
    return {
        "description": description,
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"event": "incomingRequest"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            }
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def checked(definition: Any) -> list[dict[str, str]]:
    """The lint warnings of a valid definition; InvalidDefinition (the 422) otherwise."""
    errors = validate(definition)
    if errors:
        raise InvalidDefinition(errors)
    return lint(definition)


def create_flow(s: Session, tenant_id: uuid.UUID, friendly_name: str, definition: Any = None) -> Flow:
    if definition is None:
        definition = starter_definition(friendly_name)
    warnings = checked(definition)
    flow = Flow(id=uuid.uuid4(), tenant_id=tenant_id, friendly_name=friendly_name, draft_revision=1)
    s.add(flow)
    s.flush()
    s.add(
        FlowRevision(
            tenant_id=tenant_id,
            flow_id=flow.id,
            revision=1,
            status="draft",
            definition=definition,
            warnings=warnings,
        )
    )
    s.flush()
    return flow


def get_flow(s: Session, tenant_id: uuid.UUID, flow_id: uuid.UUID, *, lock: bool = False) -> Flow | None:
    q = select(Flow).where(Flow.id == flow_id, Flow.tenant_id == tenant_id)
    if lock:
        q = q.with_for_update()
    return s.scalar(q)


def flow_by_ref(s: Session, tenant_id: uuid.UUID, ref: str) -> Flow | None:
    """A flow by its id or its SID (FW…)."""
    flow_id = parse_sid(ref, "FW")
    if flow_id is None:
        try:
            flow_id = uuid.UUID(ref)
        except ValueError:
            return None
    return get_flow(s, tenant_id, flow_id)


def list_flows(s: Session, tenant_id: uuid.UUID) -> list[Flow]:
    return list(s.scalars(select(Flow).where(Flow.tenant_id == tenant_id).order_by(Flow.created_at)))


def revision(s: Session, flow: Flow, number: int | None) -> FlowRevision | None:
    if number is None:
        return None
    return s.scalar(
        select(FlowRevision).where(
            FlowRevision.tenant_id == flow.tenant_id,
            FlowRevision.flow_id == flow.id,
            FlowRevision.revision == number,
        )
    )


def revisions(s: Session, flow: Flow) -> list[FlowRevision]:
    return list(
        s.scalars(
            select(FlowRevision)
            .where(FlowRevision.tenant_id == flow.tenant_id, FlowRevision.flow_id == flow.id)
            .order_by(FlowRevision.revision)
        )
    )


def save_draft(s: Session, flow: Flow, definition: Any) -> FlowRevision:
    """A new revision (Studio keeps every save); the previous unpublished draft is superseded."""
    warnings = checked(definition)
    previous = revision(s, flow, flow.draft_revision)
    if previous is not None and previous.status == "draft":
        previous.status = "superseded"
    last = max((r.revision for r in revisions(s, flow)), default=0)
    row = FlowRevision(
        tenant_id=flow.tenant_id,
        flow_id=flow.id,
        revision=last + 1,
        status="draft",
        definition=definition,
        warnings=warnings,
    )
    s.add(row)
    flow.draft_revision = row.revision
    s.flush()
    return row


def publish(s: Session, flow: Flow) -> int:
    """The draft becomes the one published revision; the one before is retired. PublishRefused
    when the lint finds errors (a transition to an unknown state)."""
    draft = revision(s, flow, flow.draft_revision)
    assert draft is not None, "a flow always has its draft revision"
    errors = [w for w in draft.warnings if has_errors([w])]
    if errors:
        raise PublishRefused(errors)
    if flow.published_revision == draft.revision:
        return draft.revision
    old = revision(s, flow, flow.published_revision)
    if old is not None:
        old.status = "retired"
    draft.status = "published"
    flow.published_revision = draft.revision
    s.flush()
    return draft.revision


def delete_flow(s: Session, flow: Flow) -> None:
    s.delete(flow)
    s.flush()


# -- numbers whose incoming messages start a flow ------------------------------------------------
def flow_for_number(s: Session, number: str) -> FlowNumber | None:
    return s.scalar(select(FlowNumber).where(FlowNumber.number == number))


def numbers_of(s: Session, flow: Flow) -> list[str]:
    return list(
        s.scalars(
            select(FlowNumber.number).where(
                FlowNumber.tenant_id == flow.tenant_id, FlowNumber.flow_id == flow.id
            )
        )
    )


def set_numbers(s: Session, flow: Flow, numbers: list[str]) -> None:
    for row in s.scalars(
        select(FlowNumber).where(FlowNumber.tenant_id == flow.tenant_id, FlowNumber.flow_id == flow.id)
    ):
        s.delete(row)
    s.flush()
    for n in numbers:
        s.add(FlowNumber(tenant_id=flow.tenant_id, flow_id=flow.id, number=n))
    s.flush()


# -- executions ----------------------------------------------------------------------------------
def allows_concurrent(definition: dict[str, Any]) -> bool:
    """Studio's ``flags.allow_concurrent_calls``; a definition without it allows them (Studio's
    default for a new flow)."""
    flags = definition.get("flags")
    return not isinstance(flags, dict) or flags.get("allow_concurrent_calls") is not False


def active_execution(s: Session, flow: Flow, contact: str) -> uuid.UUID | None:
    """The contact's active execution of the flow (not a subflow run inside another), if any."""
    return s.scalar(
        select(FlowExecution.id)
        .where(
            FlowExecution.tenant_id == flow.tenant_id,
            FlowExecution.flow_id == flow.id,
            FlowExecution.contact_address == contact[:64],
            FlowExecution.status == "active",
            FlowExecution.parent_id.is_(None),
        )
        .limit(1)
    )


def create_execution(
    s: Session,
    flow: Flow,
    revision_no: int,
    definition: dict[str, Any],
    channel: str,
    contact: str,
    flow_address: str,
    context: dict[str, Any],
    parent_id: uuid.UUID | None = None,
) -> FlowExecution:
    """The execution's row, active. ContactBusy when the revision's flags.allow_concurrent_calls
    is false and the contact already has an active execution of the flow; a subflow run is part of
    its parent's execution and is never refused."""
    one_per_contact = parent_id is None and not allows_concurrent(definition)
    flow_id = flow.id  # read now: a failed insert expires the session's rows
    if one_per_contact:
        active = active_execution(s, flow, contact)
        if active is not None:
            raise ContactBusy(flow_id, contact, active)
    row = FlowExecution(
        id=uuid.uuid4(),
        tenant_id=flow.tenant_id,
        flow_id=flow.id,
        revision=revision_no,
        channel=channel,
        contact_address=contact[:64],
        flow_address=flow_address[:64],
        status="active",
        one_per_contact=one_per_contact,
        context=context,
        parent_id=parent_id,
        steps=0,
    )
    s.add(row)
    try:
        s.flush()
    except IntegrityError as exc:
        # Another start for this contact (another thread or node) won between the look above and
        # this insert: the unique partial index on active executions is the last word.
        if one_per_contact and _active_contact_index(exc):
            raise ContactBusy(flow_id, contact, None) from None
        raise
    return row


def _active_contact_index(exc: IntegrityError) -> bool:
    text = str(exc.orig)  # PostgreSQL names the index; SQLite lists its columns
    return "uq_flow_executions_active_contact" in text or "flow_executions.contact_address" in text


def execution_by_ref(s: Session, tenant_id: uuid.UUID, flow: Flow, ref: str) -> FlowExecution | None:
    exec_id = parse_sid(ref, "FN")
    if exec_id is None:
        try:
            exec_id = uuid.UUID(ref)
        except ValueError:
            return None
    return s.scalar(
        select(FlowExecution).where(
            FlowExecution.id == exec_id,
            FlowExecution.tenant_id == tenant_id,
            FlowExecution.flow_id == flow.id,
        )
    )


def end_by_api(s: Session, row: FlowExecution) -> bool:
    """Studio's "end an active execution": the row ends (status ``ended``) with a step saying the
    API ended it, and a parked wait (waits.py) goes with it — a reply or a deadline only takes up an
    active execution. One compare-and-set, so the walk's own end and this one cannot both win; the
    walk's later writes leave an ended row alone (steplog.py). False when it had ended already."""
    done = s.execute(
        update(FlowExecution)
        .where(
            FlowExecution.id == row.id,
            FlowExecution.tenant_id == row.tenant_id,
            FlowExecution.status == "active",
        )
        .values(status="ended", ended_at=now(), steps=FlowExecution.steps + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        s.refresh(row)
        return False
    s.refresh(row)  # the row is ours (locked) until commit: the writer's updates wait for it
    state = waits.drop(row)
    s.add(
        FlowStep(
            id=uuid.uuid4(),
            tenant_id=row.tenant_id,
            execution_id=row.id,
            seq=row.steps,
            state=state,
            widget_type="api",
            event="ended",
            outputs={"ended_by": "api", "message": ENDED_BY_API},
        )
    )
    s.flush()
    return True


ENDED_BY_API = "the execution was ended by the API"


def is_active(sessions: sessionmaker[Session], tenant_id: uuid.UUID, execution_id: uuid.UUID) -> bool:
    """A call's walk asks before each widget (runtime.py): the API may have ended it meanwhile."""
    with sessions() as s:
        status = s.scalar(
            select(FlowExecution.status).where(
                FlowExecution.id == execution_id, FlowExecution.tenant_id == tenant_id
            )
        )
    return status == "active"


def executions(s: Session, flow: Flow, limit: int = 100) -> list[FlowExecution]:
    return list(
        s.scalars(
            select(FlowExecution)
            .where(FlowExecution.tenant_id == flow.tenant_id, FlowExecution.flow_id == flow.id)
            .order_by(FlowExecution.created_at.desc())
            .limit(limit)
        )
    )


def steps(s: Session, execution: FlowExecution) -> list[FlowStep]:
    return list(
        s.scalars(
            select(FlowStep)
            .where(FlowStep.tenant_id == execution.tenant_id, FlowStep.execution_id == execution.id)
            .order_by(FlowStep.seq)
        )
    )


def log_step(
    sessions: sessionmaker[Session],
    ctx: FlowContext,
    seq: int,
    state: str,
    widget_type: str,
    outcome: Outcome,
    next_state: str | None,
    duration_ms: int,
) -> None:
    """Queued for the log's writer (steplog.py): no commit on the caller's loop."""
    step_log(sessions).step(
        {
            "id": uuid.uuid4(),
            "tenant_id": ctx.tenant_id,
            "execution_id": ctx.execution_id,
            "seq": seq,
            "state": state[:100],
            "widget_type": widget_type[:40],
            "event": outcome.event[:40],
            "next_state": next_state,
            "outputs": jsonable(outcome.outputs),
            "duration_ms": duration_ms,
        }
    )


def queue_end(
    sessions: sessionmaker[Session], ctx: FlowContext, status: str, error: str | None
) -> concurrent.futures.Future[None]:
    """The execution's end, queued for the log's writer after its steps (no await: a cancelled
    walk can still end its execution); the future is done once it is stored."""
    context = jsonable(copy.deepcopy(dict(ctx.data)))
    return step_log(sessions).end(
        ctx.tenant_id,
        ctx.execution_id,
        {"status": status, "error": error, "ended_at": now(), "context": context},
    )


async def end_execution(
    sessions: sessionmaker[Session], ctx: FlowContext, status: str, error: str | None
) -> None:
    """Written after the execution's steps; returns once it is stored."""
    await asyncio.wrap_future(queue_end(sessions, ctx, status, error))


def execution_view(row: FlowExecution) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "sid": sid_of("FN", row.id),
        "flow_sid": sid_of("FW", row.flow_id),
        "revision": row.revision,
        "channel": row.channel,
        "contact_address": row.contact_address,
        "flow_address": row.flow_address,
        "status": row.status,
        "error": row.error,
        "current_state": row.current_state,
        "steps": row.steps,
        "context": row.context,
        "parent_sid": sid_of("FN", row.parent_id) if row.parent_id else None,
        "date_created": row.created_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
    }


def step_view(row: FlowStep) -> dict[str, Any]:
    return {
        "sid": sid_of("FT", row.id),
        "step": row.seq,
        "state": row.state,
        "widget_type": row.widget_type,
        "event": row.event,
        "next": row.next_state,
        "outputs": row.outputs,
        "duration_ms": row.duration_ms,
        "date_created": row.created_at.isoformat(),
        "content_erased": row.content_erased_at is not None,
    }
