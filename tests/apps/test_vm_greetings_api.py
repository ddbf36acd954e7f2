"""A user records their own greeting through the API (the portal's upload): any WAV is kept as 8 kHz
mono, played back, heard by the mailbox (what callers hear), removed again; another user's is not
reachable (issue 18 §2)."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from centrex.apps.vm_store import VoicemailStore
from centrex.store import media_files
from tests.api.conftest import Api
from tests.api.conftest import api as api


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    before = media_files._root
    yield media_files.configure(tmp_path / "media")
    media_files._root = before


def tone_wav(hz: float, seconds: float, rate: int = 16000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    samples = (np.sin(2 * np.pi * hz * t) * 12000).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def dominant_hz(pcm: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(float)))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[int(np.argmax(spectrum))])


def test_the_owner_uploads_plays_and_removes_a_greeting(api: Api, media: Path) -> None:
    tw = api.world.a
    token = tw.tokens["end_user"]
    url = f"/api/v1/tenants/{tw.id}/me/voicemail/greetings/busy"
    assert api.call("GET", url, token).status_code == 404  # none yet: the default is played

    put = api.call("PUT", url, token, content=tone_wav(600.0, 2.0))
    assert put.status_code == 204, put.text
    got = api.call("GET", url, token)
    assert got.status_code == 200 and got.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(got.content)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert abs(len(pcm) / 8000 - 2.0) < 0.05 and abs(dominant_hz(pcm) - 600.0) < 10
    listed = api.call("GET", url.rsplit("/", 1)[0], token).json()
    assert [(g["kind"], g["recorded"]) for g in listed] == [("busy", True), ("unavailable", False)]
    assert abs(listed[0]["duration_ms"] - 2000) < 50
    # What a caller hears on busy is this greeting.
    store = VoicemailStore(api.app.state.sessionmaker, media)
    box = store.mailbox(tw.id, tw.ids["end_user"])
    assert box is not None
    heard = store.greeting(box, "busy")
    assert heard is not None and abs(dominant_hz(heard) - 600.0) < 10

    # Another tenant's user reaches nothing of it; a colleague in the same tenant has their own box.
    assert api.call("GET", url, api.world.b.tokens["end_user"]).status_code == 404

    assert api.call("DELETE", url, token).status_code == 204
    assert api.call("GET", url, token).status_code == 404
    assert store.greeting(box, "busy") is None


def test_what_is_not_a_greeting_is_refused_with_its_reason(api: Api, media: Path) -> None:
    tw = api.world.a
    token = tw.tokens["end_user"]
    url = f"/api/v1/tenants/{tw.id}/me/voicemail/greetings/unavailable"
    bad = api.call("PUT", url, token, content=b"ID3 not a wav")
    assert bad.status_code == 422 and "WAV" in bad.json()["message"]
    long = api.call("PUT", url, token, content=tone_wav(440.0, 121.0, rate=8000))
    assert long.status_code == 422 and "120 s" in long.json()["message"]
    kind = api.call("PUT", f"/api/v1/tenants/{tw.id}/me/voicemail/greetings/holiday", token, content=b"")
    assert kind.status_code == 422
