"""Voicemail messages on the API (issue 4 point 2).

The mailbox owner, under /me: list (newest first, by folder), read one, download its audio
(audio/wav, 8 kHz 16-bit mono), mark it saved or new, delete it (row and file). Another user's
message is simply not found.

The office administrator, back-up and operator may list a user's messages — who called, when, how
long, new or saved — to manage the mailbox (MAC 8), and nothing more: the audio and the caller's
name stay with the owner. A message is the content of a call; like call records (voip-service-guide
§V.12) it is not shown to staff who do not need it, so there is no administrator download.

A change made here is followed by the message-waiting update when the process runs an app server
(``app.state.voicemail_counts_changed``, set by whoever assembles the service).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import Select

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.apps.vm_store import delete_file
from centrex.store import media_files
from centrex.store.access import TenantData
from centrex.store.errors import NotFound
from centrex.store.models import User
from centrex.store.models.voicemail import VoicemailFolder, VoicemailMessage
from centrex.store.policy import Resource

router = APIRouter(tags=["voicemail"])
ME = "/tenants/{tenant_id}/me/voicemail/messages"

Folder = Literal["new", "saved"]


class MessageOut(Out):
    id: uuid.UUID
    caller: str
    caller_name: str
    received_at: datetime
    duration_ms: int
    folder: Folder
    reason: str
    size_bytes: int


class MessageSummaryOut(Out):
    """What an administrator sees of a message: no caller name, no audio."""

    id: uuid.UUID
    caller: str
    received_at: datetime
    duration_ms: int
    folder: Folder


class MessagePatch(BaseModel):
    folder: Folder


def _newest_first(stmt: Select[Any], folder: str | None) -> Select[Any]:
    if folder is not None:
        stmt = stmt.where(VoicemailMessage.folder == VoicemailFolder(folder))
    return stmt.order_by(VoicemailMessage.received_at.desc(), VoicemailMessage.id)


def _own(data: TenantData, message_id: uuid.UUID) -> VoicemailMessage:
    """The caller's own message. A token without a user (operator, developer) has no messages: 404,
    as for another user's or another tenant's message."""
    if data.principal.user_id is None:
        raise NotFound(f"voicemail message {message_id} not found", field="message_id")
    user = data.me()
    row = data.session.scalar(
        data.select(VoicemailMessage, Resource.VOICEMAIL).where(
            VoicemailMessage.id == message_id, VoicemailMessage.user_id == user.id
        )
    )
    if row is None:
        raise NotFound(f"voicemail message {message_id} not found", field="message_id")
    return row


def _counts_changed(
    request: Request, background: BackgroundTasks, data: TenantData, user_id: uuid.UUID
) -> None:
    hook: Callable[[uuid.UUID, uuid.UUID], None] | None = getattr(
        request.app.state, "voicemail_counts_changed", None
    )
    if hook is not None:
        background.add_task(hook, data.tenant_id, user_id)  # after the commit


@router.get(ME, response_model=Page[MessageOut])
def list_my_messages(
    data: TenantDep,
    paging: PagingDep,
    folder: Annotated[Folder | None, Query(description="new or saved; both when absent")] = None,
) -> Any:
    user = data.me()
    stmt = data.select(VoicemailMessage, Resource.VOICEMAIL).where(VoicemailMessage.user_id == user.id)
    rows, total = data.page(_newest_first(stmt, folder), paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.get(ME + "/{message_id}", response_model=MessageOut)
def get_my_message(message_id: uuid.UUID, data: TenantDep) -> Any:
    return _own(data, message_id)


@router.get(
    ME + "/{message_id}/audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "8 kHz 16-bit mono WAV"}},
)
def get_my_message_audio(message_id: uuid.UUID, data: TenantDep) -> Any:
    row = _own(data, message_id)
    path = media_files.path_of(row.file_path)
    if not path.is_file():
        raise NotFound("the message's audio file is missing", field="message_id", rule="voicemail.audio")
    stamp = row.received_at.strftime("%Y%m%d-%H%M%S")
    return FileResponse(path, media_type="audio/wav", filename=f"voicemail-{stamp}.wav")


@router.patch(ME + "/{message_id}", response_model=MessageOut)
def mark_my_message(
    message_id: uuid.UUID, body: MessagePatch, data: TenantDep, request: Request, background: BackgroundTasks
) -> Any:
    row = _own(data, message_id)
    data.update(row, "self.voicemail_message", {"folder": VoicemailFolder(body.folder)}, Resource.VOICEMAIL)
    _counts_changed(request, background, data, row.user_id)
    return row


@router.delete(ME + "/{message_id}", status_code=204)
def delete_my_message(
    message_id: uuid.UUID, data: TenantDep, request: Request, background: BackgroundTasks
) -> None:
    row = _own(data, message_id)
    path, user_id = row.file_path, row.user_id
    data.delete(row, "self.voicemail_message.delete", Resource.VOICEMAIL)
    data.session.flush()
    background.add_task(delete_file, path)  # after the commit: a failed delete keeps its file
    _counts_changed(request, background, data, user_id)


@router.get("/tenants/{tenant_id}/users/{user_id}/voicemail/messages", response_model=Page[MessageSummaryOut])
def list_user_messages(
    user_id: uuid.UUID,
    data: TenantDep,
    paging: PagingDep,
    folder: Annotated[Folder | None, Query(description="new or saved; both when absent")] = None,
) -> Any:
    """MAC 8 (voicemail programming): an administrator sees what is in a user's mailbox."""
    user = data.get(User, user_id)
    stmt = data.select(VoicemailMessage, Resource.MAILBOX).where(VoicemailMessage.user_id == user.id)
    rows, total = data.page(_newest_first(stmt, folder), paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)
