"""Flows (issue 20 §1, FLOWS.md): Twilio Studio's flow JSON kept natively, drafts validated and
linted on save, one published revision at a time, import/export of Studio JSON, executions started
by REST and their per-step log. Office administrators, developers and the operator
(Resource.FLOW). docs/flows.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from centrex.api.deps import TenantDep
from centrex.cpaas.flows import store
from centrex.cpaas.flows.engine import NotRunnable, engine_for
from centrex.cpaas.messaging.checks import E164
from centrex.cpaas.messaging.records import tenant_number
from centrex.cpaas.sids import sid_of
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models.flows import Flow, FlowExecution
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/flows", tags=["flows"])
RES = Resource.FLOW
Definition = dict[str, Any]
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "the definition is not a flow: `errors` lists each problem and where"}
}


class FlowIn(BaseModel):
    friendly_name: str = Field(min_length=1, max_length=200)
    definition: Definition | None = Field(None, description="Studio flow JSON; a lone trigger if absent")


class DraftIn(BaseModel):
    definition: Definition = Field(description="Studio flow JSON: description, initial_state, flags, states")


class ExecutionIn(BaseModel):
    to: str = Field(min_length=1, max_length=64, description="the contact (Studio's To)")
    from_: str = Field(alias="from", min_length=1, max_length=64, description="the flow's number (From)")
    parameters: dict[str, Any] = Field(default_factory=dict, description="flow.data in templates")


class ExecutionUpdate(BaseModel):
    status: Literal["ended"] = Field(description="Studio's Status: `ended` is the one value it takes")


class NumbersIn(BaseModel):
    numbers: list[Annotated[str, Field(pattern=E164.pattern, max_length=16)]] = Field(
        max_length=100, description="the tenant's numbers whose incoming messages start this flow"
    )


def _invalid(exc: store.InvalidDefinition) -> JSONResponse:
    first = exc.errors[0]
    return JSONResponse(
        status_code=422,
        content={
            "error": "invalid_flow",
            "message": f"the flow definition is invalid: {exc}",
            "field": first["field"],
            "rule": "json-schema",
            "errors": exc.errors,
        },
    )


def _flow(data: TenantDep, ref: str, action: Action = Action.READ) -> Flow:
    data.require(RES, action)
    flow = store.flow_by_ref(data.session, data.tenant_id, ref)
    if flow is None:
        raise NotFound(f"flow {ref} not found", field="flow_id")
    return flow


def _view(data: TenantDep, flow: Flow) -> dict[str, Any]:
    s = data.session
    draft = store.revision(s, flow, flow.draft_revision)
    published = store.revision(s, flow, flow.published_revision)
    return {
        "id": str(flow.id),
        "sid": sid_of("FW", flow.id),
        "friendly_name": flow.friendly_name,
        "draft": {
            "revision": draft.revision,
            "definition": draft.definition,
            "warnings": draft.warnings,
        }
        if draft
        else None,
        "published": {"revision": published.revision, "definition": published.definition}
        if published
        else None,
        "numbers": store.numbers_of(s, flow),
        "date_created": flow.created_at.isoformat(),
        "date_updated": flow.updated_at.isoformat(),
    }


def _summary(flow: Flow) -> dict[str, Any]:
    return {
        "id": str(flow.id),
        "sid": sid_of("FW", flow.id),
        "friendly_name": flow.friendly_name,
        "draft_revision": flow.draft_revision,
        "published_revision": flow.published_revision,
        "date_created": flow.created_at.isoformat(),
    }


def _create(data: TenantDep, name: str, definition: Any) -> Any:
    data.require(RES, Action.CREATE)
    try:
        flow = store.create_flow(data.session, data.tenant_id, name, definition)
    except store.InvalidDefinition as exc:
        return _invalid(exc)
    data.audit("flow.create", "flows", flow.id, None, {"friendly_name": name}, data.tenant_id)
    return JSONResponse(status_code=201, content=_view(data, flow))


@router.get("")
def list_flows(data: TenantDep) -> dict[str, Any]:
    data.require(RES, Action.READ)
    return {"items": [_summary(f) for f in store.list_flows(data.session, data.tenant_id)]}


@router.post("", status_code=201, response_model=None, responses=INVALID)
def create_flow(data: TenantDep, body: FlowIn) -> Any:
    return _create(data, body.friendly_name, body.definition)


@router.post("/import", status_code=201, response_model=None, responses=INVALID)
def import_flow(
    data: TenantDep,
    studio: Annotated[Definition, Body(description="Studio's exported flow JSON (with friendly_name)")],
    friendly_name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Any:
    """Studio's export as it is (``{description, states, initial_state, flags}``), its name from
    ``friendly_name`` (the query or a key of the body) or its description; or ``{friendly_name,
    definition}``. Offsets and unknown keys are kept, so an export gives back what was imported."""
    studio = dict(studio)
    name = friendly_name or studio.pop("friendly_name", None)
    definition = studio.pop("definition") if "definition" in studio and "states" not in studio else studio
    name = str(
        name or (definition.get("description") if isinstance(definition, dict) else "") or "Imported flow"
    )
    return _create(data, name[:200], definition)


@router.get("/{flow_id}")
def get_flow(data: TenantDep, flow_id: str) -> dict[str, Any]:
    return _view(data, _flow(data, flow_id))


@router.delete("/{flow_id}", status_code=204)
def delete_flow(data: TenantDep, flow_id: str) -> None:
    flow = _flow(data, flow_id, Action.DELETE)
    data.audit("flow.delete", "flows", flow.id, {"friendly_name": flow.friendly_name}, None, data.tenant_id)
    store.delete_flow(data.session, flow)


@router.put("/{flow_id}/draft", response_model=None, responses=INVALID)
def save_draft(data: TenantDep, flow_id: str, body: DraftIn) -> Any:
    flow = _flow(data, flow_id, Action.UPDATE)
    try:
        row = store.save_draft(data.session, flow, body.definition)
    except store.InvalidDefinition as exc:
        return _invalid(exc)
    data.audit("flow.draft", "flows", flow.id, None, {"revision": row.revision}, data.tenant_id)
    return {"revision": row.revision, "warnings": row.warnings}


@router.post("/{flow_id}/publish")
def publish(data: TenantDep, flow_id: str) -> dict[str, Any]:
    flow = _flow(data, flow_id, Action.UPDATE)
    before = flow.published_revision
    try:
        number = store.publish(data.session, flow)
    except store.PublishRefused as exc:
        raise Conflict(
            f"the draft cannot be published: {exc}", field="definition", rule="flow-lint"
        ) from None
    data.audit("flow.publish", "flows", flow.id, {"published": before}, {"published": number}, data.tenant_id)
    return {"revision": number}


@router.get("/{flow_id}/revisions")
def revisions(data: TenantDep, flow_id: str) -> dict[str, Any]:
    flow = _flow(data, flow_id)
    return {
        "items": [
            {
                "revision": r.revision,
                "status": r.status,
                "warnings": r.warnings,
                "definition": r.definition,
                "date_created": r.created_at.isoformat(),
            }
            for r in store.revisions(data.session, flow)
        ]
    }


@router.get("/{flow_id}/export")
def export(
    data: TenantDep,
    flow_id: str,
    revision: Annotated[int | None, Query(ge=1, description="a revision; the draft if absent")] = None,
) -> dict[str, Any]:
    """Studio's flow JSON, as saved (offsets kept): what Studio's import takes."""
    flow = _flow(data, flow_id)
    row = store.revision(data.session, flow, revision or flow.draft_revision)
    if row is None:
        raise NotFound(f"flow {flow_id} has no revision {revision}", field="revision")
    return dict(row.definition)


@router.put("/{flow_id}/numbers")
def set_numbers(data: TenantDep, flow_id: str, body: NumbersIn) -> dict[str, Any]:
    """The tenant's numbers whose incoming SMS start this flow (Studio: a number's messaging
    configured to the flow); replaces the list."""
    flow = _flow(data, flow_id, Action.UPDATE)
    for n in body.numbers:
        if tenant_number(data.session, data.tenant_id, n) is None:
            raise Invalid(f"{n} is not a number of this tenant", field="numbers")
        taken = store.flow_for_number(data.session, n)
        if taken is not None and taken.flow_id != flow.id:
            raise Conflict(f"{n} already starts flow {sid_of('FW', taken.flow_id)}", field="numbers")
    store.set_numbers(data.session, flow, list(dict.fromkeys(body.numbers)))
    data.audit("flow.numbers", "flows", flow.id, None, {"numbers": body.numbers}, data.tenant_id)
    return {"numbers": store.numbers_of(data.session, flow)}


# -- executions ------------------------------------------------------------------------------------
@router.post(
    "/{flow_id}/executions",
    status_code=201,
    responses={
        409: {
            "description": "the flow has no published revision (rule flow-published), or it does not"
            " allow concurrent calls and `to` already has an active execution of it (rule"
            " flow-concurrent-calls)"
        }
    },
)
def start_execution(data: TenantDep, request: Request, flow_id: str, body: ExecutionIn) -> dict[str, Any]:
    """Studio's REST trigger (event incomingRequest): ``to`` is the contact
    (``{{contact.channel.address}}``), ``from`` the flow's number, ``parameters`` ``{{flow.data.*}}``.
    Runs the published revision; 409 if there is none, or if the flow's
    ``flags.allow_concurrent_calls`` is false and ``to`` already has an active execution of it."""
    flow = _flow(data, flow_id, Action.CREATE)
    engine = engine_for(request.app.state.sessionmaker)
    messenger = getattr(request.app.state, "messaging", None)
    if messenger is not None:
        engine.messenger = messenger
    try:
        row = engine.start_by_rest(data.tenant_id, flow.id, body.to, body.from_, body.parameters)
    except NotRunnable as exc:
        raise Conflict(str(exc), field="flow_id", rule="flow-published") from None
    except store.ContactBusy as exc:
        raise Conflict(str(exc), field="to", rule="flow-concurrent-calls") from None
    return store.execution_view(row)


@router.get("/{flow_id}/executions")
def list_executions(
    data: TenantDep, flow_id: str, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    flow = _flow(data, flow_id)
    return {"items": [store.execution_view(r) for r in store.executions(data.session, flow, limit)]}


def _execution(data: TenantDep, flow: Flow, ref: str) -> FlowExecution:
    row = store.execution_by_ref(data.session, data.tenant_id, flow, ref)
    if row is None:
        raise NotFound(f"execution {ref} not found", field="execution_id")
    return row


@router.get("/{flow_id}/executions/{execution_id}")
def get_execution(data: TenantDep, flow_id: str, execution_id: str) -> dict[str, Any]:
    flow = _flow(data, flow_id)
    return store.execution_view(_execution(data, flow, execution_id))


@router.get("/{flow_id}/executions/{execution_id}/steps")
def execution_steps(data: TenantDep, flow_id: str, execution_id: str) -> dict[str, Any]:
    flow = _flow(data, flow_id)
    row = _execution(data, flow, execution_id)
    return {"items": [store.step_view(s) for s in store.steps(data.session, row)]}


@router.post("/{flow_id}/executions/{execution_id}")
def end_execution(
    data: TenantDep, request: Request, flow_id: str, execution_id: str, body: ExecutionUpdate
) -> dict[str, Any]:
    """Studio's ``POST /v2/Flows/{FlowSid}/Executions/{Sid}`` with ``Status=ended``: the execution
    ends (a step says the API ended it), a wait for a reply goes with it, and its walk stops — here
    at once, a call's before its next widget (the call is then hung up). Ending an execution that
    has ended already answers 200 with it unchanged, as Twilio's update does."""
    flow = _flow(data, flow_id, Action.UPDATE)
    row = _execution(data, flow, execution_id)
    if row.status == "active":
        engine_for(request.app.state.sessionmaker).end_run(row.id)
    if store.end_by_api(data.session, row):
        data.audit("flow.execution_end", "flow_executions", row.id, None, {"status": "ended"}, data.tenant_id)
    return store.execution_view(row)
