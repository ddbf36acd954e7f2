"""The verbs on the call's audio (issue 16 §1): <Say>, <Play> and <Pause> (``prompt``), <Gather>
(``collect`` digits, then the action URL) and <Record> (``capture`` a recording, then the action
URL). The flows' voice widgets use ``prompt``, ``collect`` and ``capture`` too
(cpaas/flows/call_channel.py), so a flow's call sounds and records as a TwiML app's does.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import numpy as np

from centrex.apps.prompts import beep
from centrex.cpaas.voice.app_session import AppSession
from centrex.cpaas.voice.fetch import FetchError, absolute
from centrex.cpaas.voice.sounds import AudioError
from centrex.cpaas.voice.verbs import Document, Gather, Pause, Prompt, Record, Say
from centrex.media.g711 import Pcm
from centrex.media.tones import dtmf_tone, silence
from centrex.store.types import utcnow

DIGITS = "0123456789*#"


@dataclass(frozen=True, slots=True)
class Captured:
    """A recording taken on the call: its sid (RE…, "" if not stored), length, the finish key."""

    sid: str
    duration_s: int
    digit: str
    hung_up: bool


class MediaVerbs(AppSession):
    """Say, Play, Pause, Gather and Record on the call's media."""

    # -- prompts ----------------------------------------------------------------------------------
    async def prompt(self, verb: Prompt, interrupt: str) -> str | None:
        """Play one Say/Play/Pause; the digit that interrupted it, if any."""
        if isinstance(verb, Pause):
            if verb.length:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.media.closed.wait(), verb.length)
            return None
        try:
            if isinstance(verb, Say):
                pcm = await self.env.sounds.say(verb.text, verb.language)
            elif verb.url:
                pcm = await self.env.sounds.play(absolute(self.url, verb.url), self.call.auth_token)
            else:
                pcm = _dtmf_audio(verb.digits)
        except AudioError as exc:
            await self.notice(str(exc), code=exc.code)
            return None
        for _ in range(verb.loop):
            digit = await self.media.play(pcm, interrupt=interrupt)
            if digit is not None or self.media.closed.is_set():
                return digit
        return None

    async def _say_plain(self, text: str) -> None:
        if not self.media.closed.is_set():
            with contextlib.suppress(Exception):
                await self.media.play(await self.env.sounds.say(text), interrupt="")

    # -- Gather -----------------------------------------------------------------------------------
    async def gather(self, g: Gather) -> Document | None:
        got = await self.collect(g)
        if got is None:
            return None
        digits, finished_on = got
        if not digits and not g.action_on_empty_result:
            return None  # Twilio: no input, go on with the next verb
        params = self.params() | {"Digits": digits}
        if finished_on:
            params["FinishedOnKey"] = finished_on
        return await self.fetch(g.action or self.url or "", g.method, params)

    async def collect(self, g: Gather) -> tuple[str, str] | None:
        """Play the prompts (a digit interrupts them) and collect digits until numDigits, a finish
        key or the timeout: (digits, the finish key pressed or ""); None if the caller hung up.
        <Gather> and the flows' gather-input-on-call (cpaas/flows/call_channel.py) both use it."""
        digits = ""
        finished_on = ""
        first: str | None = None
        for p in g.prompts:
            first = await self.prompt(p, interrupt=DIGITS)
            if first is not None or self.media.closed.is_set():
                break
        pending = first
        while not self.media.closed.is_set():
            digit = pending if pending is not None else await self.media.next_digit(g.timeout)
            pending = None
            if digit is None:
                break  # timeout
            if digit in g.finish_on_key:
                finished_on = digit
                break
            digits += digit
            if g.num_digits is not None and len(digits) >= g.num_digits:
                break
        if self.media.closed.is_set():
            return None
        return digits, finished_on

    # -- Record -----------------------------------------------------------------------------------
    async def record(self, r: Record) -> Document | None:
        took = await self.capture(r)
        if took is None:
            return None  # Twilio: an empty recording, go on with the next verb
        sid, duration, hung_up = took.sid, took.duration_s, took.hung_up
        params = self.params("completed" if hung_up else "in-progress")
        if sid:
            params |= {
                "RecordingSid": sid,
                "RecordingUrl": self.env.recording_url(self.call, sid),
                "RecordingDuration": str(duration),
            }
        params["Digits"] = "hangup" if hung_up else took.digit
        if r.recording_status_callback and sid:
            cb = params | {
                "RecordingStatus": "completed",
                "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
            }
            await self.callback(
                absolute(self.url, r.recording_status_callback),
                r.recording_status_callback_method,
                cb,
                "recording_status_callback",
            )
        url = r.action or self.url
        if url is None:
            return None
        if hung_up:  # Twilio requests the action URL and ignores what it answers
            with contextlib.suppress(FetchError):
                await self.env.client.send(absolute(self.url, url), r.method, params, self.call.auth_token)
            return None
        return await self.fetch(url, r.method, params)

    async def capture(self, r: Record, source: str = "RecordVerb") -> Captured | None:
        """Beep, record until silence, a finish key, maxLength or hang-up, and save the recording
        (its row and WAV); None for an empty recording (silence only) while the caller stays.
        <Record> and the flows' record-voicemail both use it."""
        if r.play_beep:
            await self.media.play(beep(), interrupt="")
        started = utcnow()
        silence_ms = r.timeout * 1000 if r.timeout else r.max_length * 1000 + 1000
        rec = await self.media.record(r.max_length * 1000, silence_ms=silence_ms, stop_digits=r.finish_on_key)
        hung_up = rec.reason == "hangup"
        if (len(rec.samples) == 0 or not np.any(rec.samples)) and not hung_up:
            return None
        sid, duration = "", 0
        if self.env.records is not None and len(rec.samples):
            saved = await asyncio.to_thread(
                self.env.records.save_recording, self.call, rec.samples, started, source
            )
            sid, duration = saved.sid, saved.duration_s
        return Captured(sid, duration, rec.digit or "", hung_up)


def _dtmf_audio(digits: str) -> Pcm:
    """<Play digits>: in-band DTMF tones (w: half a second's pause)."""
    parts = []
    for d in digits:
        parts.append(silence(500) if d in "wW" else np.concatenate([dtmf_tone(d, 100), silence(60)]))
    return np.concatenate(parts) if parts else silence(0)
