"""The call widgets of a flow (issue 20 §1), under Twilio Studio's names, properties and transition
events, so a Studio flow's JSON runs as is:

- say-play (say, play, digits, voice, language, loop) → audioComplete.
- gather-input-on-call (say, play, voice, language, loop, number_of_digits, timeout, finish_on_key,
  stop_gather) → keypress, timeout; outputs Digits, FinishedOnKey.
- connect-call-to (noun: number, number-multi, extension or sip; to, sip_endpoint, caller_id, timeout,
  time_limit, record) → callCompleted, hangup; outputs DialCallStatus, DialCallDuration, DialCallSid,
  RecordingSid.
- record-voicemail (max_length, timeout, finish_on_key, play_beep) → recordingComplete, noAudio,
  hangup; outputs RecordingSid, RecordingUrl, RecordingDuration, Digits.
- enqueue-call (queue_name: the tenant's queue by name or extension) → callComplete (the switch's
  queue has the caller), failedToEnqueue (no such queue), callFailure; output QueueResult.

Every text property is a Liquid template (``ctx.render``). Each widget works on the flow's live call
(``ctx.call``, a CallChannel over the voice-app interpreter); on an execution without a call (REST or
message trigger) it fails with a clear error instead of pretending. When the caller hangs up, the
widget's event is ``hangup`` (Studio's "caller hung up"); a state without that transition ends the
execution. Speech input is not offered (no local speech engine here): gather is DTMF only — a
``speech`` transition is never taken.

cpaas.txt §2.4.4: connect-call-to never dials 911 or 933, whatever the template renders to; the
refusal is the call's log line and the step's ``error`` output (DialCallStatus failed).
"""

from __future__ import annotations

from typing import Any

from centrex.cpaas.flows.call_channel import CallChannel
from centrex.cpaas.flows.widgets import FlowContext, Outcome, register
from centrex.cpaas.voice.control import DialKind, DialTarget
from centrex.cpaas.voice.emergency import REFUSAL, is_emergency
from centrex.cpaas.voice.verbs import Play, Prompt, Say

GATHER_KEYS = "0123456789*#"
MAX_TARGETS = 10  # Twilio's <Dial> rings at most 10 numbers at once


class WidgetError(ValueError):
    """A property that cannot be used (the step's error output says which)."""


def _call(ctx: FlowContext, widget: str) -> CallChannel:
    call = getattr(ctx, "call", None)
    if not isinstance(call, CallChannel):
        raise WidgetError(f"{widget} needs a call: this execution was started by {ctx.channel}, not a call")
    return call


def _text(ctx: FlowContext, props: dict[str, Any], key: str, default: str = "") -> str:
    value = props.get(key)
    if value is None or value == "":
        return default
    return ctx.render(str(value)).strip()


def _int(ctx: FlowContext, props: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    raw = props.get(key)
    if raw is None or raw == "":
        return default
    text = ctx.render(str(raw)).strip() if isinstance(raw, str) else str(raw)
    try:
        value = int(text)
    except ValueError:
        raise WidgetError(f"{key}: {text!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise WidgetError(f"{key}: {value} is not between {lo} and {hi}")
    return value


def _flag(ctx: FlowContext, props: dict[str, Any], key: str, default: bool) -> bool:
    raw = props.get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    return ctx.render(str(raw)).strip().lower() in ("true", "1", "yes", "on")


def _keys(ctx: FlowContext, props: dict[str, Any], key: str, default: str) -> str:
    keys = _text(ctx, props, key, default) if key in props else default
    if any(k not in GATHER_KEYS for k in keys):
        raise WidgetError(f"{key}: only 0-9, * and # may end the input, not {keys!r}")
    return keys


def _prompts(ctx: FlowContext, props: dict[str, Any]) -> list[Prompt]:
    """Studio's say or play (with voice, language, loop) as the interpreter's prompt."""
    loop = _int(ctx, props, "loop", 1, 0, 100)
    say, play = _text(ctx, props, "say"), _text(ctx, props, "play")
    if say:
        voice, language = _text(ctx, props, "voice", "alice"), _text(ctx, props, "language", "en-US")
        return [Say(say, voice, language, loop or 100)]
    if play:
        return [Play(play, loop or 100)]
    return []


async def _play(call: CallChannel, prompts: list[Prompt]) -> None:
    for p in prompts:
        if isinstance(p, Say):
            await call.say(p.text, voice=p.voice, language=p.language, loop=p.loop)
        elif isinstance(p, Play):
            await call.play(p.url, loop=p.loop)


def _hung_up(outputs: dict[str, Any] | None = None) -> Outcome:
    return Outcome("hangup", {"CallStatus": "completed", **(outputs or {})})


# -- say-play -------------------------------------------------------------------------------------
async def say_play(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    call = _call(ctx, "say-play")
    digits = _text(ctx, props, "digits")
    if digits and any(d not in GATHER_KEYS + "wW" for d in digits):
        raise WidgetError(f"digits: only 0-9, *, # and w may be played, not {digits!r}")
    prompts = _prompts(ctx, props)
    if not prompts and not digits:
        raise WidgetError("say-play needs say, play or digits")
    await _play(call, prompts)
    if digits:
        await call.play_digits(digits)
    if call.closed:
        return _hung_up()
    return Outcome("audioComplete")


# -- gather-input-on-call -------------------------------------------------------------------------
async def gather_input(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    call = _call(ctx, "gather-input-on-call")
    num = _int(ctx, props, "number_of_digits", 0, 0, 64)
    timeout = _int(ctx, props, "timeout", 5, 1, 600)
    finish = _keys(ctx, props, "finish_on_key", "#")
    prompts = _prompts(ctx, props)
    if not _flag(ctx, props, "stop_gather", True):
        await _play(call, prompts)  # stop_gather false: the prompt plays to its end, keys after it count
        prompts = []
    got = await call.gather(prompts, num_digits=num or None, timeout_s=timeout, finish_on_key=finish)
    if got.hung_up:
        return _hung_up()
    if not got.digits and not got.finished_on_key:
        return Outcome("timeout", {"Digits": ""})
    return Outcome("keypress", {"Digits": got.digits, "FinishedOnKey": got.finished_on_key})


# -- connect-call-to ------------------------------------------------------------------------------
NOUNS: dict[str, DialKind] = {
    "number": "number",
    "number-multi": "number",
    "extension": "extension",
    "sip": "sip",
}


def _targets(ctx: FlowContext, props: dict[str, Any]) -> list[DialTarget]:
    noun = _text(ctx, props, "noun", "number")
    if noun not in NOUNS:
        raise WidgetError(f"noun: {noun!r} is not offered (number, number-multi, extension or sip)")
    if noun == "sip":
        value = _text(ctx, props, "sip_endpoint") or _text(ctx, props, "to")
        values = [value] if value else []
    else:
        values = [v.strip() for v in _text(ctx, props, "to").split(",") if v.strip()]
        if noun != "number-multi":
            values = values[:1]
    if not values:
        raise WidgetError("to: nothing to connect the call to")
    if len(values) > MAX_TARGETS:
        raise WidgetError(f"to: at most {MAX_TARGETS} numbers are rung at once, not {len(values)}")
    return [DialTarget(NOUNS[noun], v) for v in values]


async def connect_call(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    call = _call(ctx, "connect-call-to")
    targets = _targets(ctx, props)
    refused = next((t.value for t in targets if is_emergency(t.value)), None)
    if refused is not None:
        # cpaas.txt §2.4.4: a flow never dials emergency services; the call's log and the step say so.
        message = REFUSAL.format(value=refused).replace("a voice app", "a flow")
        await call.notice(message, code=13227)
        return Outcome("callCompleted", {"DialCallStatus": "failed", "DialCallDuration": 0, "error": message})
    caller_id = _text(ctx, props, "caller_id") or None
    record = "record-from-answer" if _flag(ctx, props, "record", False) else "do-not-record"
    result = await call.dial(
        targets,
        caller_id=caller_id,
        timeout_s=_int(ctx, props, "timeout", 30, 1, 600),
        time_limit_s=_int(ctx, props, "time_limit", 14400, 1, 86400),
        record=record,
    )
    outputs: dict[str, Any] = {"DialCallStatus": result.status, "DialCallDuration": result.duration_s}
    if result.dialed_call_sid:
        outputs["DialCallSid"] = result.dialed_call_sid
    if result.recording_sid:
        outputs["RecordingSid"] = result.recording_sid
    if call.closed:
        return _hung_up(outputs)
    return Outcome("callCompleted", outputs)


# -- record-voicemail -----------------------------------------------------------------------------
async def record_voicemail(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    call = _call(ctx, "record-voicemail")
    took = await call.record(
        max_length_s=_int(ctx, props, "max_length", 3600, 1, 14400),
        timeout_s=_int(ctx, props, "timeout", 5, 0, 600),
        finish_on_key=_keys(ctx, props, "finish_on_key", "#"),
        play_beep=_flag(ctx, props, "play_beep", True),
    )
    outputs: dict[str, Any] = {}
    if took.sid:
        outputs = {"RecordingSid": took.sid, "RecordingUrl": took.url, "RecordingDuration": took.duration_s}
    if took.hung_up or call.closed:
        return _hung_up(outputs)
    if not took.sid:
        return Outcome("noAudio")
    return Outcome("recordingComplete", outputs | {"Digits": took.digits})


# -- enqueue-call ---------------------------------------------------------------------------------
ENQUEUE_EVENTS = {"enqueued": "callComplete", "error": "failedToEnqueue", "system-error": "callFailure"}


async def enqueue_call(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    call = _call(ctx, "enqueue-call")
    name = _text(ctx, props, "queue_name")
    if not name:
        raise WidgetError("queue_name: which of the tenant's queues (its name or extension)")
    result = await call.enqueue(name)
    return Outcome(ENQUEUE_EVENTS[result], {"QueueResult": result})


VOICE_WIDGETS = {
    "say-play": say_play,
    "gather-input-on-call": gather_input,
    "connect-call-to": connect_call,
    "record-voicemail": record_voicemail,
    "enqueue-call": enqueue_call,
}


def register_voice_widgets() -> None:
    for name, widget in VOICE_WIDGETS.items():
        register(name, widget)


register_voice_widgets()
