"""A user's own voicemail greetings (issue 18 §2, "End user"): recorded in the browser or uploaded as a
WAV, played back, removed (the default greeting is played again). The same files the phone's
voicemail menu records (apps/vm_store.py), under the media directory."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from centrex.api.deps import TenantDep
from centrex.apps.vm_store import GREETINGS, MailboxInfo, VoicemailStore
from centrex.cpaas.voice.sounds import AudioError, decode_wav
from centrex.store import media_files
from centrex.store.access import TenantData
from centrex.store.errors import Invalid, NotFound

router = APIRouter(prefix="/tenants/{tenant_id}/me/voicemail/greetings", tags=["self service"])

Kind = Annotated[Literal["busy", "unavailable"], Path(description="which greeting")]
MAX_BYTES = 4_000_000  # a 2-minute greeting as 16-bit 16 kHz mono is 3.84 MB
MAX_SECONDS = 120


def _mailbox(request: Request, data: TenantData) -> tuple[VoicemailStore, MailboxInfo]:
    user = data.me()  # Resource.SELF: the owner only
    store = VoicemailStore(request.app.state.sessionmaker, media_files.root_or_settings())
    box = store.mailbox(data.tenant_id, user.id)
    if box is None:
        raise NotFound("you have no voicemail box", field="mailbox", rule="voicemail.no_mailbox")
    return store, box


class GreetingOut(BaseModel):
    kind: Literal["busy", "unavailable"]
    recorded: bool  # False: callers hear the default greeting
    duration_ms: int


@router.get("", response_model=list[GreetingOut])
def list_greetings(request: Request, data: TenantDep) -> Any:
    store, box = _mailbox(request, data)
    out = []
    for kind in GREETINGS:
        pcm = store.greeting(box, kind)
        out.append(
            GreetingOut(kind=kind, recorded=pcm is not None, duration_ms=0 if pcm is None else len(pcm) // 8)
        )
    return out


@router.get(
    "/{kind}",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "8 kHz 16-bit mono WAV"}},
)
def get_greeting(kind: Kind, request: Request, data: TenantDep) -> Any:
    store, box = _mailbox(request, data)
    path = store.greeting_path(box, kind)
    if not path.is_file():
        raise NotFound(
            f"no {kind} greeting recorded: callers hear the default", field="kind", rule="greeting.none"
        )
    return FileResponse(path, media_type="audio/wav", filename=f"greeting-{kind}.wav")


@router.put(
    "/{kind}",
    status_code=204,
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        }
    },
)
async def put_greeting(kind: Kind, request: Request, data: TenantDep) -> None:
    store, box = await run_in_threadpool(_mailbox, request, data)  # the owner only, before reading
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise Invalid(f"a greeting may be at most {MAX_BYTES} bytes", field="body", rule="greeting.size")
    try:
        pcm = await run_in_threadpool(decode_wav, body)
    except AudioError as exc:
        raise Invalid(
            str(exc).replace("Play: ", "greeting: "), field="body", rule="greeting.format"
        ) from None
    if not 0 < len(pcm) <= MAX_SECONDS * 8000:
        raise Invalid(f"a greeting lasts up to {MAX_SECONDS} s", field="body", rule="greeting.length")
    await run_in_threadpool(store.save_greeting, box, kind, pcm)


@router.delete("/{kind}", status_code=204)
def delete_greeting(kind: Kind, request: Request, data: TenantDep) -> None:
    store, box = _mailbox(request, data)
    store.greeting_path(box, kind).unlink(missing_ok=True)
