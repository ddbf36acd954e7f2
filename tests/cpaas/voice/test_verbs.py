"""TwiML and native JSON verbs parse into the one verb model; bad documents are refused with
Twilio's error codes and a message naming the verb and attribute."""

from __future__ import annotations

import pytest

from centrex.cpaas.voice.control import DialTarget
from centrex.cpaas.voice.emergency import is_emergency
from centrex.cpaas.voice.jsonverbs import parse_document, parse_json_verbs
from centrex.cpaas.voice.sounds import AudioError, decode_wav
from centrex.cpaas.voice.twiml import parse_twiml
from centrex.cpaas.voice.verbs import (
    MAX_LOOP,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Pause,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
    VerbError,
)

IVR = """<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather numDigits="1" action="/menu" method="GET" timeout="7">
    <Say language="en-GB">Press one for sales.</Say>
    <Pause length="2"/>
  </Gather>
  <Say loop="0">Goodbye</Say>
  <Play>https://example.com/a.wav</Play>
  <Record maxLength="30" finishOnKey="#" playBeep="false" action="/rec"/>
  <Dial callerId="+15005550006" timeout="20" action="/after">
    <Number>+15558675310</Number><Sip>sip:bob@example.com</Sip>
  </Dial>
  <Dial>+15551112222</Dial>
  <Enqueue waitUrl="/wait">support</Enqueue>
  <Redirect method="GET">/next</Redirect>
  <Reject reason="busy"/>
  <Hangup/>
</Response>"""


def test_twiml_document_becomes_verbs_with_twilio_defaults() -> None:
    doc = parse_twiml(IVR)
    assert doc.dialect == "twiml"
    gather, say, play, record, dial, bare, enqueue, redirect, reject, hangup = doc.verbs
    assert gather == Gather(
        prompts=(Say("Press one for sales.", language="en-GB"), Pause(2)),
        num_digits=1,
        timeout=7,
        finish_on_key="#",
        action="/menu",
        method="GET",
    )
    assert say == Say("Goodbye", loop=MAX_LOOP)
    assert play == Play("https://example.com/a.wav")
    assert record == Record(max_length=30, finish_on_key="#", play_beep=False, action="/rec")
    assert isinstance(dial, Dial) and dial.timeout == 20 and dial.caller_id == "+15005550006"
    assert dial.targets == (DialTarget("number", "+15558675310"), DialTarget("sip", "sip:bob@example.com"))
    assert isinstance(bare, Dial) and bare.targets == (DialTarget("number", "+15551112222"),)
    assert bare.timeout == 30 and bare.time_limit == 14400 and bare.action is None
    assert enqueue == Enqueue("support", wait_url="/wait")
    assert redirect == Redirect("/next", "GET")
    assert reject == Reject("busy")
    assert hangup == Hangup()


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("<Response><Say>hi</Response>", 12100, "parse failure"),
        ("<Response><Dance/></Response>", 12100, "<Dance> is not a TwiML voice verb"),
        ("<Response><say>hi</say></Response>", 12100, "<say>"),  # case-sensitive, as Twilio
        ("<Response><Connect/></Response>", 12100, "not supported"),
        ("<Document><Say>hi</Say></Document>", 12102, "<Response>"),
        ('<Response><Gather numDigits="one"/></Response>', 12200, "numDigits must be a whole number"),
        ("<Response><Gather><Dial>1</Dial></Gather></Response>", 12200, "only <Say>, <Play> and <Pause>"),
        ('<Response><Reject reason="angry"/></Response>', 12200, "rejected or busy"),
        ('<Response><Record playBeep="yes"/></Response>', 12200, "playBeep must be true or false"),
        ("<Response><Dial/></Response>", 12200, "<Dial> needs"),
        ('<Response><Redirect method="PUT">/x</Redirect></Response>', 12200, "GET or POST"),
    ],
)
def test_bad_twiml_is_refused_with_twilio_codes(text: str, code: int, words: str) -> None:
    with pytest.raises(VerbError) as info:
        parse_twiml(text)
    assert info.value.code == code
    assert words in str(info.value)


def test_twiml_entities_are_not_expanded() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]><Response><Say>&a;</Say></Response>'
    with pytest.raises(VerbError) as info:
        parse_twiml(bomb)
    assert info.value.code == 12100


def test_native_json_verbs_are_the_same_model() -> None:
    doc = parse_json_verbs(
        """[
        {"verb": "gather", "input": ["digits"], "numDigits": 1, "actionHook": "/menu",
         "say": {"text": "Press one"}},
        {"verb": "say", "text": "Bye", "loop": "forever"},
        {"verb": "play", "url": "https://example.com/a.wav"},
        {"verb": "pause", "length": 3},
        {"verb": "dial", "target": [{"type": "user", "name": "1001"},
                                    {"type": "phone", "number": "+15551230000"}],
         "actionHook": {"url": "/after", "method": "GET"}, "timeout": 15},
        {"verb": "record", "maxLength": 10, "playBeep": false, "actionHook": "/rec"},
        {"verb": "conference", "name": "standup"},
        {"verb": "sip:decline", "status": 486},
        {"verb": "redirect", "actionHook": "/next"},
        {"verb": "hangup"}
    ]"""
    )
    assert doc.dialect == "json"
    gather, say, play, pause, dial, record, conf, decline, redirect, hangup = doc.verbs
    assert gather == Gather(
        prompts=(Say("Press one"),), num_digits=1, action="/menu", action_on_empty_result=True
    )
    assert say == Say("Bye", loop=MAX_LOOP)
    assert play == Play("https://example.com/a.wav")
    assert pause == Pause(3)
    assert dial == Dial(
        targets=(DialTarget("extension", "1001"), DialTarget("number", "+15551230000")),
        action="/after",
        method="GET",
        timeout=15,
    )
    assert record == Record(max_length=10, play_beep=False, action="/rec")
    assert conf == Dial(targets=(DialTarget("conference", "standup"),))
    assert decline == Reject("busy")
    assert redirect == Redirect("/next")
    assert hangup == Hangup()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[{"verb": "dance"}]', "unknown verb 'dance'"),
        ('{"verb": "say"}', "list of verbs"),
        ('[{"verb": "say"}]', "verbs[0] (say): 'text' is required"),
        ('[{"verb": "gather", "numDigits": "2"}]', "'numDigits' must be a whole number"),
        ('[{"verb": "dial", "target": []}]', "'target' must be a non-empty list"),
        ('[{"verb": "sip:decline", "status": 500}]', "486 (busy) or 603"),
        ("[", "parse failure"),
    ],
)
def test_bad_json_verbs_name_the_verb_and_field(text: str, words: str) -> None:
    with pytest.raises(VerbError) as info:
        parse_json_verbs(text)
    assert words in str(info.value)


def test_document_dialect_by_content_type() -> None:
    assert parse_document(b'[{"verb": "hangup"}]', "application/json").dialect == "json"
    assert parse_document(b"<Response><Hangup/></Response>", "text/xml; charset=utf-8").dialect == "twiml"
    assert parse_document(b' [{"verb": "hangup"}]', None).dialect == "json"


@pytest.mark.parametrize("value", ["911", "+1911", "1-911", "9911", "933", "sip:911@example.com", " 9 1 1 "])
def test_emergency_numbers_in_every_dialled_form(value: str) -> None:
    assert is_emergency(value)


@pytest.mark.parametrize("value", ["+19115551234", "1001", "sip:bob@example.com", "411", "+15558675310"])
def test_other_numbers_are_not_emergency(value: str) -> None:
    assert not is_emergency(value)


def test_play_decodes_wav_to_8khz_mono() -> None:
    import io
    import wave

    import numpy as np

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        t = np.arange(16000) / 16000
        tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
        w.writeframes(np.repeat(tone, 2).tobytes())
    pcm = decode_wav(buf.getvalue())
    assert len(pcm) == 8000
    assert 5000 < int(np.max(np.abs(pcm))) < 9000
    with pytest.raises(AudioError, match="only WAV"):
        decode_wav(b"ID3\x03mp3 data")
