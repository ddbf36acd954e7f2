"""Twilio's Recordings (issue 16 §2): list (all, or a call's), fetch, the audio (.wav, .mp3), delete.

The rows and WAV files are the voice apps' (<Record>, <Dial record>, the native record of a live
call: cpaas_recordings, under the data dir). cpaas.txt §2.4.2 (i): content is kept thirty days —
after the retention job deleted the audio, the recording is still listed (a detail record) with
status ``deleted`` and its media answers 404. MP3 is encoded on the fly with LAME (the ``lameenc``
wheel: libmp3lame bundled, no ffmpeg needed), 8 kHz mono at 32 kbit/s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from centrex.api.deps import SessionDep
from centrex.api.twilio.formats import API_VERSION, account_uri, list_page, rfc2822
from centrex.api.twilio_auth import PREFIX, TwilioAccount, TwilioAccountDep, TwilioError, not_found
from centrex.store import media_files
from centrex.store.access import TenantData
from centrex.store.models.cpaas_voice import CpaasRecording
from centrex.store.policy import Resource
from centrex.store.types import utcnow

router = APIRouter(tags=["twilio"])
RECORDINGS = PREFIX + "/Recordings"


def recording_json(row: CpaasRecording) -> dict[str, Any]:
    base = f"/{API_VERSION}/Accounts/{row.account_sid}/Recordings/{row.sid}"
    return {
        "account_sid": row.account_sid,
        "api_version": API_VERSION,
        "call_sid": row.call_sid,
        "conference_sid": None,
        "date_created": rfc2822(row.created_at),
        "date_updated": rfc2822(row.updated_at),
        "start_time": rfc2822(row.start_time),
        "duration": str(row.duration_s),
        "sid": row.sid,
        "price": None,
        "price_unit": "USD",
        "status": "deleted" if row.content_deleted_at is not None else row.status,
        "channels": row.channels,
        "source": row.source,
        "error_code": None,
        "uri": base + ".json",
        "encryption_details": None,
        "subresource_uris": {
            "add_on_results": base + "/AddOnResults.json",
            "transcriptions": base + "/Transcriptions.json",
        },
        "media_url": base,  # + .wav or .mp3
    }


def _data(session: SessionDep, account: TwilioAccount) -> TenantData:
    return TenantData(session, account.principal, account.tenant_id)


def _row(session: SessionDep, account: TwilioAccount, sid: str) -> CpaasRecording:
    data = _data(session, account)
    row = session.scalar(data.select(CpaasRecording, Resource.CPAAS).where(CpaasRecording.sid == sid))
    if row is None:
        raise not_found(f"{account_uri(account.sid)}/Recordings/{sid}")
    return row


def _list(
    session: SessionDep, account: TwilioAccount, call_sid: str | None, page: int, page_size: int, uri: str
) -> dict[str, Any]:
    stmt = _data(session, account).select(CpaasRecording, Resource.CPAAS)
    if call_sid:
        stmt = stmt.where(CpaasRecording.call_sid == call_sid)
    stmt = stmt.order_by(CpaasRecording.start_time.desc(), CpaasRecording.id)
    found = list(session.scalars(stmt.limit(page_size + 1).offset(page * page_size)))
    items = [recording_json(r) for r in found[:page_size]]
    return list_page("recordings", items, uri, page, page_size, len(found) > page_size)


@router.get(RECORDINGS + ".json")
def twilio_list_recordings(
    account: TwilioAccountDep,
    session: SessionDep,
    call_sid: Annotated[str | None, Query(alias="CallSid", max_length=34)] = None,
    page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
    page: Annotated[int, Query(alias="Page", ge=0, le=100000)] = 0,
) -> dict[str, Any]:
    return _list(session, account, call_sid, page, page_size, f"{account_uri(account.sid)}/Recordings")


@router.get(PREFIX + "/Calls/{CallSid}/Recordings.json")
def twilio_list_call_recordings(
    account: TwilioAccountDep,
    session: SessionDep,
    call_sid: Annotated[str, PathParam(alias="CallSid", max_length=34)],
    page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
    page: Annotated[int, Query(alias="Page", ge=0, le=100000)] = 0,
) -> dict[str, Any]:
    uri = f"{account_uri(account.sid)}/Calls/{call_sid}/Recordings"
    return _list(session, account, call_sid, page, page_size, uri)


@router.get(RECORDINGS + "/{RecordingSid}.json")
def twilio_fetch_recording(
    account: TwilioAccountDep, session: SessionDep, sid: Annotated[str, PathParam(alias="RecordingSid")]
) -> dict[str, Any]:
    return recording_json(_row(session, account, sid))


def _audio_path(request: Request, row: CpaasRecording) -> Path:
    if row.content_deleted_at is not None or not row.path:
        # cpaas.txt §2.4.2 (i): the content is kept thirty days; the record stays.
        raise TwilioError(404, 20404, f"The audio of recording {row.sid} was deleted after 30 days")
    path = file_of(request, row.path)
    if path is None or not path.is_file():
        raise TwilioError(404, 20404, f"The audio of recording {row.sid} is not on this node")
    return path


def file_of(request: Request, key: str) -> Path | None:
    """The file a row's key names: under the media directory (store/media_files.py), else under
    the data dir (a process without one configured); None for a key leaving the directory."""
    try:
        return media_files.path_of(key)
    except ValueError:
        return None
    except RuntimeError:  # no media root configured (a tool's app): the settings' directory
        root = media_files.root_or_settings().resolve()
        path = (root / key).resolve()
        return path if root in path.parents else None


@router.get(RECORDINGS + "/{RecordingSid}.wav", response_class=FileResponse)
def twilio_recording_wav(
    request: Request,
    account: TwilioAccountDep,
    session: SessionDep,
    sid: Annotated[str, PathParam(alias="RecordingSid")],
) -> FileResponse:
    path = _audio_path(request, _row(session, account, sid))
    return FileResponse(path, media_type="audio/x-wav", filename=f"{sid}.wav")


@router.get(RECORDINGS + "/{RecordingSid}.mp3")
def twilio_recording_mp3(
    request: Request,
    account: TwilioAccountDep,
    session: SessionDep,
    sid: Annotated[str, PathParam(alias="RecordingSid")],
) -> Response:
    path = _audio_path(request, _row(session, account, sid))
    return Response(content=to_mp3(path), media_type="audio/mpeg")


def to_mp3(path: Path) -> bytes:
    import wave

    import lameenc

    with wave.open(str(path), "rb") as wav:
        rate, channels, frames = wav.getframerate(), wav.getnchannels(), wav.readframes(wav.getnframes())
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(32)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(5)
    return bytes(encoder.encode(frames) + encoder.flush())


@router.delete(RECORDINGS + "/{RecordingSid}.json", status_code=204)
def twilio_delete_recording(
    request: Request,
    account: TwilioAccountDep,
    session: SessionDep,
    sid: Annotated[str, PathParam(alias="RecordingSid")],
) -> Response:
    """The audio goes now; the row stays as the detail record (§2.4.2 (iv)), status deleted."""
    row = _row(session, account, sid)
    if row.content_deleted_at is None:
        path = file_of(request, row.path) if row.path else None
        if path is not None:
            path.unlink(missing_ok=True)
        _data(session, account).update(
            row,
            "cpaas.recording.delete",
            {"content_deleted_at": utcnow(), "status": "deleted"},
            Resource.CPAAS,
        )
    return Response(status_code=204)
