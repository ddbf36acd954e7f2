"""What was dialled and who is calling, read off SIP requests; the restriction-class rule."""

from __future__ import annotations

from urllib.parse import unquote

from centrex.calls.directory import Restriction
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass
from centrex.sip.errors import SipParseError
from centrex.sip.headers import parse_name_addr
from centrex.sip.message import Request
from centrex.sip.uri import SipUri, TelUri


def restriction_allows(restriction: Restriction | None, call_class: CallClass) -> bool:
    """hosted-pbx.txt MAC 4 (call restriction change): what a user's class lets them dial.
    On-net calls are always allowed; 911 is never restricted (e911/policy.py decides that)."""
    if not may_refuse(call_class, RefusalGround.RESTRICTION) or restriction is None:
        return True
    r = restriction
    allowed = {
        CallClass.ON_NET: True,
        CallClass.LOCAL: r.allow_local,
        CallClass.LD_INTRASTATE: r.allow_long_distance,
        CallClass.LD_INTERSTATE: r.allow_long_distance,
        CallClass.INTERNATIONAL: r.allow_international,
        CallClass.TOLL_FREE: r.allow_toll_free,
        CallClass.DIRECTORY_ASSISTANCE: r.allow_directory_assistance,
        CallClass.PREMIUM: r.allow_premium,
    }
    return allowed.get(call_class, True)


def dialled_of(uri: object) -> str:
    if isinstance(uri, SipUri):
        return unquote(uri.user or "")
    if isinstance(uri, TelUri):
        return uri.number
    return ""


def loose_e164(raw: str) -> str:
    """A number as trunks write it, made E.164: +…, 10 NANP digits, or 1 + 10 digits."""
    digits = raw.lstrip("+")
    if not digits.isdigit():
        return ""
    if raw.startswith("+"):
        return raw
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return "+" + digits


def remote_identity(req: Request, *, trusted: bool) -> tuple[str | None, str | None]:
    """The caller of a call from a trunk: P-Asserted-Identity when the trunk is trusted (RFC 3325),
    else the From; the number made E.164 when it looks like one."""
    value = req.headers.get("P-Asserted-Identity") if trusted else None
    try:
        source = parse_name_addr(value) if value else req.from_
    except SipParseError:
        source = req.from_
    user = dialled_of(source.uri)
    number = loose_e164(user) or user or None
    return (source.display_name or None), number


def privacy_requested(req: Request) -> bool:
    return any(p.strip().lower() == "id" for p in (req.headers.get("Privacy") or "").split(";"))
