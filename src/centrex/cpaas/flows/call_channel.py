"""A flow's live call (issue 20 §1): what the voice widgets (voice_widgets.py) do to the call a flow
runs on — say, play, gather DTMF, dial an extension or a number, record a voicemail, hand the caller
to a queue, hang up.

Nothing here touches media itself: every operation is one of the voice-app interpreter's
(cpaas/voice/runner.py) — ``prompt`` for Say/Play, ``collect`` for Gather, ``capture`` for Record
(media_verbs.py), ``place`` for Dial (dial_verbs.py: it refuses 911/933 under cpaas.txt §2.4.4 and
writes the refusal in the call's log), ``hand_to_queue`` for Enqueue (queue_verbs.py) — so a flow's
call sounds, records and dials exactly as a TwiML app's does, and its notices land in the same call
log (cpaas_call_notices).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from centrex.cpaas.voice.control import DialResult, DialTarget, VoiceCall
from centrex.cpaas.voice.runner import Interpreter
from centrex.cpaas.voice.verbs import MAX_LOOP, Dial, Gather, Pause, Play, Prompt, Record, Say

__all__ = ["CallChannel", "Gathered", "Recorded"]

HANDOFF_S = 5.0  # after a REFER is accepted the switch BYEs the app server's leg within this


@dataclass(frozen=True, slots=True)
class Gathered:
    """What gather-input-on-call heard: the digits, the finish key, or why nothing."""

    digits: str = ""
    finished_on_key: str = ""
    hung_up: bool = False


@dataclass(frozen=True, slots=True)
class Recorded:
    """A recording taken by record-voicemail; ``sid`` "" when nothing was heard."""

    sid: str = ""
    url: str = ""
    duration_s: int = 0
    digits: str = ""
    hung_up: bool = False


class CallChannel:
    """One answered call, driven by a flow's widgets. ``call`` is Twilio's view of it (CallSid, From,
    To …): the trigger's ``trigger.call`` variables are built from it."""

    channel = "voice"

    def __init__(self, interpreter: Interpreter) -> None:
        self._interp = interpreter
        self.hung_up_by_flow = False

    @property
    def call(self) -> VoiceCall:
        return self._interp.call

    @property
    def closed(self) -> bool:
        """The caller hung up (or the call was handed away)."""
        return self._interp.media.closed.is_set()

    def params(self) -> dict[str, str]:
        """Twilio's call parameters (CallSid, AccountSid, From, To, CallStatus, Direction …)."""
        return self._interp.params()

    async def notice(self, message: str, *, code: int | None = None, level: str = "error") -> None:
        """A line in the call's log (cpaas_call_notices)."""
        await self._interp.notice(message, code=code, level=level)

    # -- prompts ----------------------------------------------------------------------------------
    async def say(self, text: str, *, voice: str = "alice", language: str = "en-US", loop: int = 1) -> None:
        await self._interp.prompt(Say(text, voice, language, _loop(loop)), interrupt="")

    async def play(self, url: str, *, loop: int = 1) -> None:
        await self._interp.prompt(Play(url, _loop(loop)), interrupt="")

    async def play_digits(self, digits: str) -> None:
        await self._interp.prompt(Play(digits=digits), interrupt="")

    async def pause(self, seconds: int) -> None:
        await self._interp.prompt(Pause(seconds), interrupt="")

    # -- input ------------------------------------------------------------------------------------
    async def gather(
        self,
        prompts: Sequence[Prompt] = (),
        *,
        num_digits: int | None = None,
        timeout_s: int = 5,
        finish_on_key: str = "#",
    ) -> Gathered:
        """Prompts (interrupted by the first key) then DTMF (RFC 4733 or SIP INFO) until
        ``num_digits``, a finish key, or ``timeout_s`` without a key."""
        g = Gather(tuple(prompts), num_digits=num_digits, timeout=timeout_s, finish_on_key=finish_on_key)
        got = await self._interp.collect(g)
        if got is None:
            return Gathered(hung_up=True)
        return Gathered(*got)

    async def record(
        self,
        *,
        max_length_s: int = 3600,
        timeout_s: int = 5,
        finish_on_key: str = "#",
        play_beep: bool = True,
        source: str = "RecordVerb",  # Twilio's source of a Studio voicemail's recording too
    ) -> Recorded:
        r = Record(
            max_length=max_length_s, timeout=timeout_s, finish_on_key=finish_on_key, play_beep=play_beep
        )
        took = await self._interp.capture(r, source=source[:24])
        if took is None:
            return Recorded()
        url = self._interp.env.recording_url(self.call, took.sid) if took.sid else ""
        return Recorded(took.sid, url, took.duration_s, took.digit, took.hung_up)

    # -- the call itself --------------------------------------------------------------------------
    async def dial(
        self,
        targets: Sequence[DialTarget],
        *,
        caller_id: str | None = None,
        timeout_s: int = 30,
        time_limit_s: int = 14400,
        record: str = "do-not-record",
    ) -> DialResult:
        """Call the targets and bridge the first to answer; returns when that call ends (the
        caller's leg stays for the flow's next widget). 911/933 is refused (cpaas.txt §2.4.4)."""
        d = Dial(
            tuple(targets), timeout=timeout_s, time_limit=time_limit_s, caller_id=caller_id, record=record
        )
        return await self._interp.place(d)

    async def enqueue(self, name: str) -> str:
        """Hand the caller to the tenant's queue ``name``: "enqueued" (the switch has the call and the
        flow's part ends), "error" (no such queue), "system-error" (the switch refused)."""
        result = await self._interp.hand_to_queue(name, "enqueue-call")
        if result == "enqueued":
            # The switch has the caller now and ends the app server's leg: wait for that, so the
            # flow's end does not race it with a BYE of its own.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._interp.media.closed.wait(), HANDOFF_S)
        return result

    async def hangup(self) -> None:
        self.hung_up_by_flow = True
        with contextlib.suppress(Exception):
            await self._interp.control.hangup()


def _loop(n: int) -> int:
    """Studio's loop: 1 by default, 0 … forever (capped as <Say loop="0"> is)."""
    return MAX_LOOP if n <= 0 else min(n, MAX_LOOP)
