"""Voice applications (issue 16 §1): what a number or an extension runs — a voice URL (TwiML or native
JSON verbs, fetched with Twilio's parameters and X-Twilio-Signature), its method, a fallback URL, a
status callback, or an inline document — or a flow (``flow_id``, issue 20 §1: its published revision
runs on the call, cpaas/flows/call_trigger.py). Made by the tenant's developers and the operator
(Resource.CPAAS). A number points at one with PUT /numbers/{id}/routing {"target_type": "app",
"target_id": <application id>}; an extension is a field here, in the tenant's one extension plan.
A document given inline is parsed now, so a bad one is a 422 naming the verb, not a failed call.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import AnyHttpUrl, BaseModel, Field, model_validator
from sqlalchemy import select

from centrex.api.checks import extension_free
from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Extension, Out, Page, page_of
from centrex.cpaas.sids import new_sid
from centrex.cpaas.voice.jsonverbs import parse_document
from centrex.cpaas.voice.verbs import VerbError
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models.cpaas_voice import Application
from centrex.store.models.flows import Flow
from centrex.store.policy import Resource

router = APIRouter(prefix="/tenants/{tenant_id}/cpaas/applications", tags=["cpaas"])

RES = Resource.CPAAS
AUDIT = "cpaas.application"
Method = Literal["GET", "POST"]


class ApplicationIn(BaseModel):
    friendly_name: str = Field("", max_length=100)
    voice_url: AnyHttpUrl | None = None
    voice_method: Method = "POST"
    voice_fallback_url: AnyHttpUrl | None = None
    voice_fallback_method: Method = "POST"
    status_callback: AnyHttpUrl | None = None
    status_callback_method: Method = "POST"
    document: str | None = Field(None, max_length=65536, description="TwiML or a JSON verb list, run as is")
    extension: Extension | None = None
    flow_id: uuid.UUID | None = Field(None, description="a flow to run instead (its published revision)")

    @model_validator(mode="after")
    def _something_to_run(self) -> ApplicationIn:
        if self.voice_url is None and self.document is None and self.flow_id is None:
            raise ValueError("voice_url, document or flow_id is required")
        return self


class ApplicationPatch(BaseModel):
    friendly_name: str | None = Field(None, max_length=100)
    voice_url: AnyHttpUrl | None = None
    voice_method: Method | None = None
    voice_fallback_url: AnyHttpUrl | None = None
    voice_fallback_method: Method | None = None
    status_callback: AnyHttpUrl | None = None
    status_callback_method: Method | None = None
    document: str | None = Field(None, max_length=65536)
    extension: Extension | None = Field(None, description="null: no extension")
    flow_id: uuid.UUID | None = Field(None, description="null: no flow (the voice URL or document runs)")


class ApplicationOut(Out):
    id: uuid.UUID
    sid: str
    friendly_name: str
    voice_url: str | None
    voice_method: str
    voice_fallback_url: str | None
    voice_fallback_method: str
    status_callback: str | None
    status_callback_method: str
    document: str | None
    extension: str | None
    flow_id: uuid.UUID | None
    app: str = Field(description="the app server user part a call to it goes to")
    created_at: datetime
    updated_at: datetime


def _out(row: Application) -> dict[str, Any]:
    fields = ApplicationOut.model_fields.keys() - {"app"}
    return {**{k: getattr(row, k) for k in fields}, "app": f"cpaas.{row.id}"}


def _values(body: BaseModel, exclude_unset: bool) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=exclude_unset)
    for key in ("voice_url", "voice_fallback_url", "status_callback"):
        if values.get(key) is not None:
            values[key] = str(values[key])
    return values


def _check(data: TenantData, values: dict[str, Any], exclude: uuid.UUID | None = None) -> None:
    if values.get("document"):
        try:
            parse_document(values["document"])
        except VerbError as exc:
            raise Invalid(
                f"document: {exc} (Twilio error {exc.code})", field="document", rule="verbs"
            ) from None
    if values.get("extension"):
        extension_free(data, values["extension"], exclude)
    if values.get("flow_id"):
        flow = data.session.scalar(
            select(Flow.id).where(Flow.id == values["flow_id"], Flow.tenant_id == data.tenant_id)
        )
        if flow is None:
            raise Invalid(
                f"flow_id {values['flow_id']} is not a flow of this tenant", field="flow_id", rule="exists"
            )


@router.get("", response_model=Page[ApplicationOut])
def list_applications(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(Application, RES).order_by(Application.created_at, Application.id)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_out(r) for r in rows], total, paging.limit, paging.offset)


@router.post("", response_model=ApplicationOut, status_code=201)
def create_application(body: ApplicationIn, data: TenantDep) -> Any:
    values = _values(body, exclude_unset=False)
    _check(data, values)
    return _out(data.create(Application, AUDIT, RES, sid=new_sid("AP"), **values))


@router.get("/{application_id}", response_model=ApplicationOut)
def get_application(application_id: uuid.UUID, data: TenantDep) -> Any:
    return _out(data.get(Application, application_id, RES))


@router.patch("/{application_id}", response_model=ApplicationOut)
def patch_application(application_id: uuid.UUID, body: ApplicationPatch, data: TenantDep) -> Any:
    row = data.get(Application, application_id, RES)
    changes = _values(body, exclude_unset=True)
    for required in ("voice_method", "voice_fallback_method", "status_callback_method", "friendly_name"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    _check(data, changes, exclude=row.id)
    if (
        changes.get("voice_url", row.voice_url)
        or changes.get("document", row.document)
        or changes.get("flow_id", row.flow_id)
    ) is None:
        raise Invalid("voice_url, document or flow_id is required", field="voice_url", rule="required")
    return _out(data.update(row, AUDIT, changes, RES))


@router.delete("/{application_id}", status_code=204)
def delete_application(application_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(Application, application_id, RES), AUDIT, RES)
