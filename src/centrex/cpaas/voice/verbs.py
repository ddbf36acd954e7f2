"""The one verb model of a voice app: TwiML (twiml.py) and native JSON (jsonverbs.py) parse into it,
the interpreter (runner.py) runs it. Pure data: frozen dataclasses, no I/O.

Defaults are Twilio's (twilio.com/docs/voice/twiml): <Gather> timeout 5 s, finishOnKey "#",
<Record> maxLength 3600 s, timeout 5 s, playBeep true, <Dial> timeout 30 s, timeLimit 14400 s,
<Pause> length 1 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from centrex.cpaas.voice.control import DialTarget


class VerbError(ValueError):
    """A document that cannot be run. ``code`` is Twilio's error code: 12100 document parse failure,
    12200 schema validation (an unknown verb or a bad attribute), 12300 invalid content type."""

    def __init__(self, message: str, code: int = 12200) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    voice: str = "alice"
    language: str = "en-US"
    loop: int = 1  # 0: repeat until interrupted (Twilio: "loop=0 … loops indefinitely"); capped


@dataclass(frozen=True, slots=True)
class Play:
    url: str = ""
    loop: int = 1
    digits: str = ""  # <Play digits="ww1234">: DTMF to send (w = 0.5 s pause)


@dataclass(frozen=True, slots=True)
class Pause:
    length: int = 1


Prompt = Say | Play | Pause


@dataclass(frozen=True, slots=True)
class Gather:
    prompts: tuple[Prompt, ...] = ()
    num_digits: int | None = None
    timeout: int = 5
    finish_on_key: str = "#"
    action: str | None = None
    method: str = "POST"
    action_on_empty_result: bool = False
    input: str = "dtmf"


@dataclass(frozen=True, slots=True)
class Record:
    max_length: int = 3600
    timeout: int = 5  # seconds of silence that end it
    finish_on_key: str = "1234567890*#"
    play_beep: bool = True
    action: str | None = None
    method: str = "POST"
    recording_status_callback: str | None = None
    recording_status_callback_method: str = "POST"


@dataclass(frozen=True, slots=True)
class Dial:
    targets: tuple[DialTarget, ...] = ()
    action: str | None = None
    method: str = "POST"
    timeout: int = 30
    time_limit: int = 14400
    caller_id: str | None = None
    record: str = "do-not-record"
    answer_on_bridge: bool = False
    hangup_on_star: bool = False


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str = "rejected"  # rejected (603) or busy (486)


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Enqueue:
    name: str
    action: str | None = None
    method: str = "POST"
    wait_url: str | None = None


@dataclass(frozen=True, slots=True)
class Leave:
    pass


@dataclass(frozen=True, slots=True)
class Message:
    body: str
    to: str | None = None
    from_: str | None = None
    action: str | None = None
    method: str = "POST"
    status_callback: str | None = None


Verb = Say | Play | Pause | Gather | Record | Dial | Hangup | Reject | Redirect | Enqueue | Leave | Message


@dataclass(frozen=True, slots=True)
class Document:
    verbs: tuple[Verb, ...] = field(default_factory=tuple)
    dialect: str = "twiml"  # or "json"


MAX_LOOP = 100  # loop="0" (forever) is run this many times at most
METHODS = ("GET", "POST")


def method_of(value: str | None, where: str) -> str:
    method = (value or "POST").strip().upper()
    if method not in METHODS:
        raise VerbError(f"{where}: method must be GET or POST, not {value!r}")
    return method


def reject_reason(value: str | None) -> str:
    reason = (value or "rejected").strip().lower()
    if reason not in ("rejected", "busy"):
        raise VerbError(f"Reject: reason must be rejected or busy, not {value!r}")
    return reason


def finish_keys(value: str | None, default: str, where: str) -> str:
    if value is None:
        return default
    keys = value.strip()
    if any(k not in "0123456789*#" for k in keys):
        raise VerbError(f"{where}: finishOnKey may hold only 0-9, * and #, not {value!r}")
    return keys
