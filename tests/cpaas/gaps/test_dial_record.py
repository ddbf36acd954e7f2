"""Issue 16 gap 2: <Dial record="record-from-answer"> records the dialled call.

The `twilio` package places a call to 1002 (a SIPp phone sending a 1 kHz tone); its app dials 1003
(a SIPp phone sending 440 Hz, hanging up after 3 s) with record="record-from-answer". The action URL
gets RecordingSid and RecordingUrl; the recording is the caller's call's (source DialVerb), listed
and fetched with the `twilio` package, and its WAV — downloaded from the Recordings resource —
holds both parties: the 1 kHz and the 440 Hz tones."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.apps.pcap import RtpScript
from tests.cpaas.calls.conftest import OUR_NUMBER, Stack, hanging_up_callee, talking_callee
from tests.cpaas.calls.conftest import stack as stack  # the fixture
from tests.interop.conftest import free_udp_port

pytestmark = pytest.mark.interop

APP = (
    '<Response><Dial action="/dialed" timeout="20" record="record-from-answer">'
    "<Number>1003</Number></Dial></Response>"
)


def power_at(samples: np.ndarray, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    freqs = np.fft.rfftfreq(len(samples), 1 / 8000)
    band = (freqs > hz - 20) & (freqs < hz + 20)
    return float(spectrum[band].max() / (np.median(spectrum) + 1e-9))


async def test_dial_record_from_answer_records_both_parties(stack: Stack, tmp_path: Path) -> None:
    a, b = free_udp_port(), free_udp_port()
    await stack.switch.register("1002", a)
    await stack.switch.register("1003", b)
    caller_audio = RtpScript().tone(0.0, 8.0, 1000.0).write(tmp_path / "caller.pcap")
    callee_audio = RtpScript().tone(0.0, 8.0, 440.0).write(tmp_path / "callee.pcap")
    callee_text = Path(hanging_up_callee(tmp_path, 3000)).read_text()
    callee_text = callee_text.replace(
        '<recv request="ACK"/>',
        f'<recv request="ACK"/>\n  <nop><action><exec play_pcap_audio="{callee_audio}"/></action></nop>',
        1,
    )
    callee_path = tmp_path / "uas_talking_bye.xml"
    callee_path.write_text(callee_text)
    first = asyncio.create_task(
        stack.switch.sipp(talking_callee(tmp_path, caller_audio), "1002", port=a, client=False, timeout_s=25)
    )
    second = asyncio.create_task(
        stack.switch.sipp(str(callee_path), "1003", port=b, client=False, timeout_s=25)
    )
    await asyncio.sleep(0.3)
    stack.web.pages["/app"] = APP
    stack.web.pages["/dialed"] = "<Response><Hangup/></Response>"
    client = stack.twilio()
    call = await stack.off_loop(client.calls.create, to="1002", from_=OUR_NUMBER, url=f"{stack.web.base}/app")
    dialed = await stack.web.wait_for("/dialed", 40)
    assert dialed["DialCallStatus"] == "completed", dialed
    sid = dialed["RecordingSid"]
    assert sid.startswith("RE") and dialed["RecordingUrl"].endswith(f"/Recordings/{sid}")
    for phone in (first, second):
        done = await phone
        assert done.returncode == 0, done.output[-3000:]
    rec = await stack.off_loop(client.recordings(sid).fetch)
    assert rec.call_sid == call.sid and rec.source == "DialVerb" and int(rec.duration) >= 2
    listed = await stack.off_loop(client.recordings.list, call_sid=call.sid)
    assert [r.sid for r in listed] == [sid]
    url = f"{stack.api}/2010-04-01/Accounts/{stack.demo.account_sid}/Recordings/{sid}.wav"
    async with httpx.AsyncClient(timeout=20) as http:
        got = await http.get(url, auth=(stack.demo.account_sid, stack.demo.auth_token))
    assert got.status_code == 200 and got.headers["content-type"].startswith("audio/")
    with wave.open(io.BytesIO(got.content)) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert len(samples) >= 2 * 8000
    assert power_at(samples, 1000.0) > 20, "the caller (1002) is not in the recording"
    assert power_at(samples, 440.0) > 20, "the dialled party (1003) is not in the recording"
