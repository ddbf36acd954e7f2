"""TwiML (Twilio Markup Language) for voice → the verb model (verbs.py). Pure: text in, Document out.

The document is untrusted XML from the customer's server, so it is parsed with ``defusedxml`` (no
entity expansion, no external entities, no DTD). Errors carry Twilio's codes: 12100 document parse
failure (not XML, or a verb Twilio does not know — execution halts, as Twilio's), 12102 the root is
not <Response>, 12200 schema validation (a verb nested where it may not be, a bad attribute value).
Verbs and attributes are case-sensitive as Twilio's (twilio.com/docs/voice/twiml).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from centrex.cpaas.voice.control import DialTarget
from centrex.cpaas.voice.verbs import (
    MAX_LOOP,
    Dial,
    Document,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Message,
    Pause,
    Play,
    Prompt,
    Record,
    Redirect,
    Reject,
    Say,
    Verb,
    VerbError,
    finish_keys,
    method_of,
    reject_reason,
)

MAX_DOCUMENT = 64 * 1024  # Twilio caps a TwiML response at 64 kB
KNOWN = frozenset(
    (
        "Say",
        "Play",
        "Pause",
        "Gather",
        "Record",
        "Dial",
        "Hangup",
        "Reject",
        "Redirect",
        "Enqueue",
        "Leave",
        "Message",
        "Sms",
    )
)
# Twilio verbs this server does not run (said so in docs/cpaas.md): a clear 12100, not silence.
UNSUPPORTED = ("Connect", "Start", "Stop", "Stream", "Pay", "Prompt", "Refer", "Echo", "Queue")


def parse_twiml(text: str | bytes) -> Document:
    if len(text) > MAX_DOCUMENT:
        raise VerbError(f"the document is larger than {MAX_DOCUMENT} bytes", 12100)
    try:
        root = SafeET.fromstring(text)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise VerbError(f"document parse failure: {exc}", 12100) from None
    if root.tag != "Response":
        raise VerbError(f"the root element must be <Response>, not <{root.tag}>", 12102)
    return Document(tuple(_verb(el) for el in root), "twiml")


def _verb(el: ET.Element) -> Verb:
    tag = el.tag
    if tag in UNSUPPORTED:
        raise VerbError(f"<{tag}> is not supported by this server", 12100)
    if tag not in KNOWN:
        raise VerbError(f"<{tag}> is not a TwiML voice verb", 12100)
    a = el.attrib
    if tag in ("Say", "Play", "Pause"):
        return _prompt(el)
    if tag == "Gather":
        prompts: list[Prompt] = []
        for child in el:
            if child.tag not in ("Say", "Play", "Pause"):
                raise VerbError(f"<Gather> may hold only <Say>, <Play> and <Pause>, not <{child.tag}>")
            prompts.append(_prompt(child))
        inputs = a.get("input", "dtmf")
        if "dtmf" not in inputs.split():
            raise VerbError(f"Gather: input {inputs!r} is not supported (only dtmf)")
        return Gather(
            prompts=tuple(prompts),
            num_digits=_int(a, "numDigits", None, "Gather", lo=1),
            timeout=_int(a, "timeout", 5, "Gather", lo=0) or 0,
            finish_on_key=finish_keys(a.get("finishOnKey"), "#", "Gather"),
            action=_url(a.get("action")),
            method=method_of(a.get("method"), "Gather"),
            action_on_empty_result=_bool(a, "actionOnEmptyResult", False, "Gather"),
            input="dtmf",
        )
    if tag == "Record":
        return Record(
            max_length=_int(a, "maxLength", 3600, "Record", lo=1) or 3600,
            timeout=_int(a, "timeout", 5, "Record", lo=0) or 0,
            finish_on_key=finish_keys(a.get("finishOnKey"), "1234567890*#", "Record"),
            play_beep=_bool(a, "playBeep", True, "Record"),
            action=_url(a.get("action")),
            method=method_of(a.get("method"), "Record"),
            recording_status_callback=_url(a.get("recordingStatusCallback")),
            recording_status_callback_method=method_of(a.get("recordingStatusCallbackMethod"), "Record"),
        )
    if tag == "Dial":
        return _dial(el)
    if tag == "Hangup":
        return Hangup()
    if tag == "Reject":
        return Reject(reject_reason(a.get("reason")))
    if tag == "Redirect":
        url = _text(el)
        if not url:
            raise VerbError("<Redirect> needs a URL")
        return Redirect(url, method_of(a.get("method"), "Redirect"))
    if tag == "Enqueue":
        name = _text(el)
        if not name:
            raise VerbError("<Enqueue> needs a queue name")
        return Enqueue(
            name, _url(a.get("action")), method_of(a.get("method"), "Enqueue"), _url(a.get("waitUrl"))
        )
    if tag == "Leave":
        return Leave()
    # Message (and its old name Sms)
    return Message(
        _text(el),
        to=a.get("to"),
        from_=a.get("from"),
        action=_url(a.get("action")),
        method=method_of(a.get("method"), tag),
        status_callback=_url(a.get("statusCallback")),
    )


def _prompt(el: ET.Element) -> Prompt:
    a = el.attrib
    if el.tag == "Say":
        return Say(
            _text(el),
            voice=a.get("voice", "alice"),
            language=a.get("language", "en-US"),
            loop=_loop(a, "Say"),
        )
    if el.tag == "Play":
        digits = a.get("digits", "")
        if any(d not in "0123456789*#wW" for d in digits):
            raise VerbError(f"Play: digits may hold 0-9, *, # and w, not {digits!r}")
        url = _text(el)
        if not url and not digits:
            raise VerbError("<Play> needs a URL or digits")
        return Play(url, loop=_loop(a, "Play"), digits=digits)
    return Pause(_int(a, "length", 1, "Pause", lo=0) or 0)


def _dial(el: ET.Element) -> Dial:
    a = el.attrib
    targets: list[DialTarget] = []
    nouns = {
        "Number": "number",
        "Sip": "sip",
        "Client": "client",
        "Conference": "conference",
        "Queue": "queue",
    }
    for child in el:
        kind = nouns.get(child.tag)
        if kind is None:
            raise VerbError(f"<Dial> may hold Number, Sip, Client, Conference or Queue, not <{child.tag}>")
        value = _text(child)
        if not value:
            raise VerbError(f"<{child.tag}> in <Dial> is empty")
        url = _url(child.attrib.get("url"))
        targets.append(DialTarget(kind, value, url, method_of(child.attrib.get("method"), child.tag)))  # type: ignore[arg-type]
    bare = (el.text or "").strip()
    if bare:
        targets.insert(0, DialTarget("number", bare))
    if not targets:
        raise VerbError("<Dial> needs a number, a SIP URI, a client, a conference or a queue")
    record = a.get("record", "do-not-record")
    if record not in ("do-not-record", "record-from-answer", "record-from-ringing", "true", "false"):
        raise VerbError(f"Dial: record {record!r} is not a recording mode")
    record = {"true": "record-from-answer", "false": "do-not-record"}.get(record, record)
    return Dial(
        targets=tuple(targets),
        action=_url(a.get("action")),
        method=method_of(a.get("method"), "Dial"),
        timeout=_int(a, "timeout", 30, "Dial", lo=5, hi=600) or 30,
        time_limit=_int(a, "timeLimit", 14400, "Dial", lo=1, hi=86400) or 14400,
        caller_id=a.get("callerId"),
        record=record,
        answer_on_bridge=_bool(a, "answerOnBridge", False, "Dial"),
        hangup_on_star=_bool(a, "hangupOnStar", False, "Dial"),
    )


# -- attribute helpers -------------------------------------------------------------------------------
def _text(el: ET.Element) -> str:
    return (el.text or "").strip()


def _url(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _int(
    a: dict[str, str], name: str, default: int | None, verb: str, lo: int = 0, hi: int | None = None
) -> int | None:
    raw = a.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise VerbError(f"{verb}: {name} must be a whole number, not {raw!r}") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise VerbError(f"{verb}: {name} must be {bound}, not {value}")
    return value


def _bool(a: dict[str, str], name: str, default: bool, verb: str) -> bool:
    raw = a.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise VerbError(f"{verb}: {name} must be true or false, not {raw!r}")
    return value == "true"


def _loop(a: dict[str, str], verb: str) -> int:
    value = _int(a, "loop", 1, verb, lo=0)
    return MAX_LOOP if value == 0 else min(value or 1, MAX_LOOP)
