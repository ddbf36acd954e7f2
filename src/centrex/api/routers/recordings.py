"""Call recordings of a tenant and who is recorded (issue 4 point 5; hosted-pbx.txt, "Hosted Call
Recording").

- ``GET …/recordings`` (filters below), ``GET …/recordings/{id}`` (metadata, with the CDR it belongs
  to) and ``GET …/recordings/{id}.wav`` (the audio) are read, like call records, only by the operator,
  the tenant's CPNI administrator and the users that administrator granted (voip-service-guide.txt
  §V.12; ``Resource.RECORDING`` in store/policy.py). Each download is written to the audit log
  (``recording.download``): who listened to a call is worth knowing. A recording that retention
  deleted answers 410 (its metadata stays listed with ``include_deleted=true``).
- ``GET/PUT …/recording-policy`` (the tenant default, the on-demand feature code and the retention
  period) and ``GET/PUT …/users/{id}/recording-policy`` (a user's own mode; ``null`` follows the
  tenant) are the administrators' (office administrator, back-up, operator), each change audited.

List filters: ``user_id`` (whose policy or feature code made it), ``call_id``, ``direction``,
``trigger``, ``from`` / ``to`` on the recording's start (a bare date is that UTC day, as for CDRs).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import Select

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.api.routers.cdrs import _instant
from centrex.store import media_files
from centrex.store.access import TenantData
from centrex.store.errors import Invalid, NotFound, StoreError
from centrex.store.models import CallDetail, User
from centrex.store.models.recordings import (
    DEFAULT_FEATURE_CODE,
    DEFAULT_RETENTION_MONTHS,
    CallRecording,
    RecordingMode,
    RecordingSettings,
    RecordingTrigger,
    RecordingUserPolicy,
)
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["recordings"])

MAX_RETENTION_MONTHS = 120


class Gone(StoreError):
    status = 410
    code = "gone"


class RecordingOut(Out):
    id: uuid.UUID
    call_id: str
    cdr_id: uuid.UUID | None  # the call's record, once the switch has written it
    user_id: uuid.UUID | None
    trigger: RecordingTrigger
    direction: str
    caller: str
    callee: str
    started_at: datetime
    ended_at: datetime | None  # None: still recording
    duration_ms: int
    size_bytes: int
    sha256: str | None
    deleted_at: datetime | None  # retention deleted the audio


class RecordingFilters:
    def __init__(
        self,
        user_id: uuid.UUID | None = None,
        call_id: Annotated[str | None, Query(max_length=100)] = None,
        direction: Annotated[str | None, Query(pattern="^(internal|inbound|outbound)$")] = None,
        trigger: RecordingTrigger | None = None,
        from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
        to: Annotated[str | None, Query(max_length=40)] = None,
        include_deleted: bool = False,
    ) -> None:
        self.user_id, self.call_id, self.direction, self.trigger = user_id, call_id, direction, trigger
        self.start = _instant(from_, "from", end_of_day=False)
        self.end = _instant(to, "to", end_of_day=True)
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise Invalid("to must be after from", field="to", rule="date_range")
        self.include_deleted = include_deleted

    def apply(self, data: TenantData) -> Select[Any]:
        stmt = data.select(CallRecording, Resource.RECORDING)
        if self.user_id is not None:
            stmt = stmt.where(CallRecording.user_id == self.user_id)
        if self.call_id is not None:
            stmt = stmt.where(CallRecording.call_id == self.call_id)
        if self.direction is not None:
            stmt = stmt.where(CallRecording.direction == self.direction)
        if self.trigger is not None:
            stmt = stmt.where(CallRecording.trigger == self.trigger)
        if self.start is not None:
            stmt = stmt.where(CallRecording.started_at >= self.start)
        if self.end is not None:
            stmt = stmt.where(CallRecording.started_at < self.end)
        if not self.include_deleted:
            stmt = stmt.where(CallRecording.deleted_at.is_(None))
        return stmt.order_by(CallRecording.started_at.desc(), CallRecording.id)


FiltersDep = Annotated[RecordingFilters, Depends()]


def _cdr_ids(data: TenantData, call_ids: list[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for i in range(0, len(call_ids), 500):  # bounded IN lists
        stmt = (
            data.select(CallDetail, Resource.CDR)
            .with_only_columns(CallDetail.call_id, CallDetail.id)
            .where(CallDetail.call_id.in_(call_ids[i : i + 500]))
        )
        found.update((call_id, cdr_id) for call_id, cdr_id in data.session.execute(stmt))
    return found


def _out(row: CallRecording, cdr_id: uuid.UUID | None) -> dict[str, Any]:
    return {**{k: getattr(row, k) for k in RecordingOut.model_fields if k != "cdr_id"}, "cdr_id": cdr_id}


@router.get("/recordings", response_model=Page[RecordingOut])
def list_recordings(data: TenantDep, paging: PagingDep, filters: FiltersDep) -> Any:
    """The tenant's call recordings, newest first."""
    rows, total = data.page(filters.apply(data), paging.limit, paging.offset)
    cdrs = _cdr_ids(data, sorted({r.call_id for r in rows}))
    return page_of([_out(r, cdrs.get(r.call_id)) for r in rows], total, paging.limit, paging.offset)


@router.get(
    "/recordings/{recording_id}.wav",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}, 410: {"description": "deleted by retention"}},
)
def download_recording(recording_id: uuid.UUID, data: TenantDep) -> FileResponse:
    """The recording as an 8 kHz 16-bit stereo WAV: the caller left, the callee right."""
    row = data.get(CallRecording, recording_id, Resource.RECORDING)
    if row.deleted_at is not None:
        raise Gone(
            f"recording {row.id} was deleted on {row.deleted_at.date()} at the end of its retention period",
            field="id",
            rule="retention",
        )
    path = media_files.path_of(row.file_path)
    if not path.is_file():
        raise NotFound(f"the audio of recording {row.id} is not on this node", field="file_path")
    data.audit("recording.download", "call_recordings", row.id, None, None, data.tenant_id)
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"recording-{row.call_id}-{row.started_at:%Y%m%dT%H%M%SZ}.wav",
    )


@router.get("/recordings/{recording_id}", response_model=RecordingOut)
def get_recording(recording_id: uuid.UUID, data: TenantDep) -> Any:
    row = data.get(CallRecording, recording_id, Resource.RECORDING)
    return _out(row, _cdr_ids(data, [row.call_id]).get(row.call_id))


# -- who is recorded ---------------------------------------------------------------------------


class TenantPolicyIn(BaseModel):
    mode: RecordingMode
    feature_code: str = Field(
        DEFAULT_FEATURE_CODE,
        pattern=r"^[*#][0-9*#]{1,3}$",
        description="keyed during a call to start/stop an on-demand recording: * or # and 1-3 more keys",
    )
    retention_months: int = Field(
        DEFAULT_RETENTION_MONTHS,
        ge=1,
        le=MAX_RETENTION_MONTHS,
        description="recordings are deleted this many months after they started (hosted-pbx.txt 2.f)",
    )


class UserModeOut(BaseModel):
    user_id: uuid.UUID
    extension: str
    mode: RecordingMode


class TenantPolicyOut(BaseModel):
    mode: RecordingMode
    feature_code: str
    retention_months: int
    users: list[UserModeOut]  # users with a mode of their own


class UserPolicyIn(BaseModel):
    mode: RecordingMode | None = Field(description="the user's own mode; null follows the tenant's")


class UserPolicyOut(BaseModel):
    user_id: uuid.UUID
    mode: RecordingMode | None
    effective_mode: RecordingMode


def _settings(data: TenantData) -> RecordingSettings | None:
    stmt = data.select(RecordingSettings, Resource.RECORDING_POLICY)
    return data.session.scalars(stmt).first()


def _tenant_policy(data: TenantData) -> dict[str, Any]:
    settings = _settings(data)
    users = data.session.execute(
        data.select(RecordingUserPolicy, Resource.RECORDING_POLICY)
        .with_only_columns(RecordingUserPolicy.user_id, User.extension, RecordingUserPolicy.mode)
        .join(User, User.id == RecordingUserPolicy.user_id)
        .order_by(User.extension)
    ).all()
    return {
        "mode": settings.mode if settings else RecordingMode.OFF,
        "feature_code": settings.feature_code if settings else DEFAULT_FEATURE_CODE,
        "retention_months": settings.retention_months if settings else DEFAULT_RETENTION_MONTHS,
        "users": [{"user_id": u, "extension": e, "mode": m} for u, e, m in users],
    }


@router.get("/recording-policy", response_model=TenantPolicyOut)
def get_tenant_policy(data: TenantDep) -> Any:
    """The tenant's default mode (off until set), feature code and retention period."""
    return _tenant_policy(data)


@router.put("/recording-policy", response_model=TenantPolicyOut)
def put_tenant_policy(body: TenantPolicyIn, data: TenantDep) -> Any:
    data.require(Resource.RECORDING_POLICY, Action.UPDATE)
    settings = _settings(data)
    values = body.model_dump()
    if settings is None:
        data.create(RecordingSettings, "recording.policy", Resource.RECORDING_POLICY, **values)
    else:
        data.update(settings, "recording.policy", values, Resource.RECORDING_POLICY)
    return _tenant_policy(data)


def _user_policy(data: TenantData, user: User) -> tuple[RecordingUserPolicy | None, dict[str, Any]]:
    own = data.session.scalars(
        data.select(RecordingUserPolicy, Resource.RECORDING_POLICY).where(
            RecordingUserPolicy.user_id == user.id
        )
    ).first()
    settings = _settings(data)
    default = settings.mode if settings else RecordingMode.OFF
    mode = own.mode if own else None
    return own, {"user_id": user.id, "mode": mode, "effective_mode": mode or default}


@router.get("/users/{user_id}/recording-policy", response_model=UserPolicyOut)
def get_user_policy(user_id: uuid.UUID, data: TenantDep) -> Any:
    user = data.get(User, user_id, Resource.RECORDING_POLICY)
    return _user_policy(data, user)[1]


@router.put("/users/{user_id}/recording-policy", response_model=UserPolicyOut)
def put_user_policy(user_id: uuid.UUID, body: UserPolicyIn, data: TenantDep) -> Any:
    data.require(Resource.RECORDING_POLICY, Action.UPDATE)
    user = data.get(User, user_id, Resource.RECORDING_POLICY)
    own, _ = _user_policy(data, user)
    if body.mode is None:
        if own is not None:
            data.delete(own, "recording.user_policy", Resource.RECORDING_POLICY)
    elif own is None:
        data.create(
            RecordingUserPolicy,
            "recording.user_policy",
            Resource.RECORDING_POLICY,
            user_id=user.id,
            mode=body.mode,
        )
    else:
        data.update(own, "recording.user_policy", {"mode": body.mode}, Resource.RECORDING_POLICY)
    return _user_policy(data, user)[1]
