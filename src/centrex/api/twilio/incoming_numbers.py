"""Twilio's IncomingPhoneNumbers (issue 16 §2): the tenant's numbers, and where their calls go.

A number's VoiceUrl/VoiceMethod/VoiceFallbackUrl/VoiceFallbackMethod/StatusCallback/
StatusCallbackMethod live on a voice application (cpaas_applications, the voice-apps part's) that
the number points at (``numbers.target_type = 'app'``, ``target_id``): updating a number's VoiceUrl
creates that application when the number has none and points the number at it, so the next call
to the number runs the URL's document. VoiceApplicationSid points the number at an existing
application. SmsUrl/SmsMethod are the messaging part's (its SmsNumberConfig), written when that
part is present in this build. The SID of a number is ``PN`` + its id (cpaas/sids.py).
"""

from __future__ import annotations

import importlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy import select

from centrex.api.deps import SessionDep
from centrex.api.twilio.formats import API_VERSION, account_uri, list_page, rfc2822
from centrex.api.twilio_auth import PREFIX, TwilioAccount, TwilioAccountDep, TwilioError, not_found
from centrex.cpaas.sids import parse_sid, sid_of
from centrex.store.access import TenantData
from centrex.store.models import PhoneNumber
from centrex.store.models.cpaas_voice import Application
from centrex.store.models.enums import NumberStatus, NumberTarget
from centrex.store.policy import Resource

router = APIRouter(tags=["twilio"])
NUMBERS = PREFIX + "/IncomingPhoneNumbers"
_METHODS = ("GET", "POST")


def _sms_model() -> Any:
    """The messaging part's per-number SMS settings, when it is in this build."""
    try:
        return importlib.import_module("centrex.store.models.messaging").SmsNumberConfig
    except (ImportError, AttributeError):
        return None


def number_json(account_sid: str, n: PhoneNumber, app: Application | None, sms: Any) -> dict[str, Any]:
    sid = sid_of("PN", n.id)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}"
    return {
        "account_sid": account_sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "date_created": rfc2822(n.created_at),
        "date_updated": rfc2822(n.updated_at),
        "friendly_name": n.cnam or n.e164,
        "identity_sid": None,
        "phone_number": n.e164,
        "origin": "twilio",
        "sid": sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": getattr(sms, "sms_method", None) or "POST",
        "sms_url": getattr(sms, "sms_url", None),
        "status_callback": app.status_callback if app else None,
        "status_callback_method": app.status_callback_method if app else "POST",
        "trunk_sid": None,
        "uri": uri + ".json",
        "voice_application_sid": app.sid if app else None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": app.voice_fallback_method if app else "POST",
        "voice_fallback_url": app.voice_fallback_url if app else None,
        "voice_method": app.voice_method if app else "POST",
        "voice_url": app.voice_url if app else None,
        "emergency_status": "Inactive",  # cpaas.txt §2.4.4: not for emergency calls
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "voice_receive_mode": "voice",
        "subresource_uris": {"assigned_add_ons": uri + "/AssignedAddOns.json"},
    }


def _app_of(session: SessionDep, n: PhoneNumber) -> Application | None:
    if n.target_type != NumberTarget.APP or n.target_id is None:
        return None
    app = session.get(Application, n.target_id)
    return app if app is not None and app.tenant_id == n.tenant_id else None


def _sms_of(session: SessionDep, model: Any, n: PhoneNumber) -> Any:
    if model is None:
        return None
    return session.scalar(select(model).where(model.tenant_id == n.tenant_id, model.number == n.e164))


def _json(session: SessionDep, account: TwilioAccount, n: PhoneNumber) -> dict[str, Any]:
    return number_json(account.sid, n, _app_of(session, n), _sms_of(session, _sms_model(), n))


def _number(session: SessionDep, account: TwilioAccount, sid: str) -> PhoneNumber:
    data = TenantData(session, account.principal, account.tenant_id)
    number_id = parse_sid(sid, "PN")
    row = None
    if number_id is not None:
        row = session.scalar(data.select(PhoneNumber, Resource.CPAAS).where(PhoneNumber.id == number_id))
    if row is None:
        raise not_found(f"{account_uri(account.sid)}/IncomingPhoneNumbers/{sid}.json")
    return row


@router.get(NUMBERS + ".json")
def twilio_list_numbers(
    account: TwilioAccountDep,
    session: SessionDep,
    phone_number: Annotated[str | None, Query(alias="PhoneNumber", max_length=16)] = None,
    page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
    page: Annotated[int, Query(alias="Page", ge=0, le=100000)] = 0,
) -> dict[str, Any]:
    data = TenantData(session, account.principal, account.tenant_id)
    stmt = data.select(PhoneNumber, Resource.CPAAS)
    if phone_number:
        stmt = stmt.where(PhoneNumber.e164 == phone_number.strip())
    stmt = stmt.order_by(PhoneNumber.e164)
    found = list(session.scalars(stmt.limit(page_size + 1).offset(page * page_size)))
    items = [_json(session, account, n) for n in found[:page_size]]
    uri = f"{account_uri(account.sid)}/IncomingPhoneNumbers"
    return list_page("incoming_phone_numbers", items, uri, page, page_size, len(found) > page_size)


@router.get(NUMBERS + "/{Sid}.json")
def twilio_fetch_number(
    account: TwilioAccountDep, session: SessionDep, sid: Annotated[str, Path(alias="Sid")]
) -> dict[str, Any]:
    return _json(session, account, _number(session, account, sid))


def _check_url(value: str | None, name: str) -> str | None:
    """None: not given; "": cleared; else an http(s) URL."""
    if value is None:
        return None
    text = value.strip()
    if text and (not text.lower().startswith(("http://", "https://")) or len(text) > 1000):
        raise TwilioError(400, 21502 if name.startswith("Voice") else 21503, f"{name} is not a valid URL")
    return text


def _check_method(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    method = value.strip().upper()
    if method not in _METHODS:
        raise TwilioError(400, 21200, f"{name} must be GET or POST")
    return method


async def form_fields(request: Request) -> dict[str, str]:
    """The form as sent: FastAPI reads an empty field as "not given", Twilio as "clear it"."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post(NUMBERS + "/{Sid}.json")
def twilio_update_number(
    account: TwilioAccountDep,
    session: SessionDep,
    sid: Annotated[str, Path(alias="Sid")],
    raw: Annotated[dict[str, str], Depends(form_fields)],
    voice_url: Annotated[str | None, Form(alias="VoiceUrl")] = None,
    voice_method: Annotated[str | None, Form(alias="VoiceMethod")] = None,
    voice_fallback_url: Annotated[str | None, Form(alias="VoiceFallbackUrl")] = None,
    voice_fallback_method: Annotated[str | None, Form(alias="VoiceFallbackMethod")] = None,
    status_callback: Annotated[str | None, Form(alias="StatusCallback")] = None,
    status_callback_method: Annotated[str | None, Form(alias="StatusCallbackMethod")] = None,
    voice_application_sid: Annotated[str | None, Form(alias="VoiceApplicationSid")] = None,
    sms_url: Annotated[str | None, Form(alias="SmsUrl")] = None,
    sms_method: Annotated[str | None, Form(alias="SmsMethod")] = None,
    friendly_name: Annotated[str | None, Form(alias="FriendlyName", max_length=64)] = None,
) -> dict[str, Any]:
    number = _number(session, account, sid)
    data = TenantData(session, account.principal, account.tenant_id)
    cleared = {k for k, v in raw.items() if not v.strip()}
    voice_url = "" if "VoiceUrl" in cleared else voice_url
    voice_fallback_url = "" if "VoiceFallbackUrl" in cleared else voice_fallback_url
    status_callback = "" if "StatusCallback" in cleared else status_callback
    voice_application_sid = "" if "VoiceApplicationSid" in cleared else voice_application_sid
    sms_url = "" if "SmsUrl" in cleared else sms_url
    voice = {
        "voice_url": _check_url(voice_url, "VoiceUrl"),
        "voice_method": _check_method(voice_method, "VoiceMethod"),
        "voice_fallback_url": _check_url(voice_fallback_url, "VoiceFallbackUrl"),
        "voice_fallback_method": _check_method(voice_fallback_method, "VoiceFallbackMethod"),
        "status_callback": _check_url(status_callback, "StatusCallback"),
        "status_callback_method": _check_method(status_callback_method, "StatusCallbackMethod"),
    }
    voice = {
        k: (v or None) if k in ("voice_url", "voice_fallback_url", "status_callback") else v
        for k, v in voice.items()
        if v is not None
    }
    given = {"sms_url": _check_url(sms_url, "SmsUrl"), "sms_method": _check_method(sms_method, "SmsMethod")}
    sms = {k: v for k, v in given.items() if v is not None}
    app = _app_of(session, number)
    if voice_application_sid is not None:
        app = _point_at(session, data, number, voice_application_sid.strip())
    if voice:
        if app is None:
            app_id = uuid.uuid4()
            app = data.create(
                Application,
                "cpaas.application.create",
                Resource.CPAAS,
                id=app_id,
                sid=sid_of("AP", app_id),
                friendly_name=f"Voice of {number.e164}",
            )
            _route(data, number, app)
        data.update(app, "cpaas.application.update", voice, Resource.CPAAS)
    if sms:
        _set_sms(session, data, number, sms)
    if friendly_name is not None:
        data.update(number, "number.update", {"cnam": friendly_name.strip()[:15] or None}, Resource.CPAAS)
    session.flush()
    return _json(session, account, number)


def _point_at(session: SessionDep, data: TenantData, number: PhoneNumber, app_sid: str) -> Application | None:
    if not app_sid:  # "": the number no longer runs an application
        if number.target_type == NumberTarget.APP:
            data.update(number, "number.route", {"target_type": None, "target_id": None}, Resource.CPAAS)
        return None
    app = session.scalar(data.select(Application, Resource.CPAAS).where(Application.sid == app_sid))
    if app is None:
        raise TwilioError(
            400, 21606, f"VoiceApplicationSid {app_sid[:40]} is not an application of this account"
        )
    _route(data, number, app)
    return app


def _route(data: TenantData, number: PhoneNumber, app: Application) -> None:
    data.update(
        number,
        "number.route",
        {"target_type": NumberTarget.APP, "target_id": app.id, "status": NumberStatus.ASSIGNED},
        Resource.CPAAS,
    )


def _set_sms(session: SessionDep, data: TenantData, number: PhoneNumber, sms: dict[str, str]) -> None:
    model = _sms_model()
    if model is None:
        raise TwilioError(400, 21503, "SmsUrl cannot be set: messaging is not part of this build")
    row = _sms_of(session, model, number)
    values = {"sms_url": sms.get("sms_url") or None} if "sms_url" in sms else {}
    if "sms_method" in sms:
        values["sms_method"] = sms["sms_method"]
    if row is None:
        data.create(model, "sms_number.create", Resource.CPAAS, number=number.e164, **values)
    else:
        data.update(row, "sms_number.update", values, Resource.CPAAS)
