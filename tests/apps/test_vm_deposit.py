"""Leaving a voicemail through the app server, with SIPp playing the call engine's B-leg over
127.0.0.1: the caller skips the greeting with #, sends 3 s of a 1 kHz tone after the beep and hangs
up; the mailbox then holds a 3 s WAV whose dominant frequency is 1 kHz, the MWI callback says one
new message, and the owner gets an e-mail with the WAV attached."""

from __future__ import annotations

import io
import uuid
import wave

import numpy as np
import pytest
from sqlalchemy import select

from centrex.media.wav import read_wav
from centrex.store.models.voicemail import VoicemailFolder, VoicemailMessage
from tests.apps.conftest import Apps
from tests.apps.pcap import RtpScript, dominant_hz

pytestmark = pytest.mark.interop


def one_message(apps: Apps, user: uuid.UUID) -> VoicemailMessage:
    with apps.sessions() as s:
        rows = s.scalars(select(VoicemailMessage).where(VoicemailMessage.user_id == user)).all()
    assert len(rows) == 1, rows
    return rows[0]


async def test_a_message_is_recorded_stored_signalled_and_mailed(apps: Apps) -> None:
    office = apps.office
    # '#' skips the greeting, the beep takes 0.5 s, then 3 s of 1 kHz; the caller hangs up at 5 s.
    script = RtpScript().digits(0.3, "#").tone(1.5, 3.0, 1000.0)
    await apps.call(
        f"vm-deposit.{office.alice}",
        script,
        scenario="vm_call_hangup.xml",
        caller="2001",
        caller_name="Dana Dial",
        reason="no-answer",
        hold_ms=5000,
    )
    await apps.settle()

    row = one_message(apps, office.alice)
    assert (row.caller, row.caller_name, row.reason, row.folder) == (
        "2001",
        "Dana Dial",
        "no-answer",
        VoicemailFolder.NEW,
    )
    assert row.tenant_id == office.tenant_id and row.call_id is not None
    samples = read_wav(row.file_path)
    assert abs(len(samples) / 8000 - 3.0) < 0.1, len(samples) / 8000
    assert abs(row.duration_ms - 3000) < 100
    assert abs(dominant_hz(samples) - 1000.0) < 5.0
    assert row.size_bytes == 44 + 2 * len(samples)
    assert str(row.file_path).startswith(str(apps.data_dir))

    assert apps.mwi == [(office.tenant_id, office.alice, 1, 0)]
    # The caller heard the greeting and the beep before recording began.
    assert len(apps.sink.packets) >= 25

    [mail] = apps.mail.messages
    assert mail["To"] == "alice@acme.example.com"
    assert "Dana Dial <2001>" in mail["Subject"]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    wav = attachment.get_content()
    assert wav == open(row.file_path, "rb").read()  # noqa: SIM115
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() == len(samples)


async def test_pound_ends_the_message_and_the_app_hangs_up(apps: Apps) -> None:
    office = apps.office
    script = RtpScript().digits(0.3, "#").tone(1.5, 2.0, 1000.0).digits(3.7, "#")
    await apps.call(f"vm-deposit.{office.bob}", script, reason="busy")  # vm_call.xml: waits for our BYE
    await apps.settle()
    row = one_message(apps, office.bob)
    assert row.reason == "busy"
    assert abs(row.duration_ms - 2000) < 120
    assert apps.mwi == [(office.tenant_id, office.bob, 1, 0)]
    assert apps.mail.messages == []  # Bob's mailbox does not ask for e-mail


async def test_silence_ends_the_message(apps: Apps) -> None:
    office = apps.office
    script = RtpScript().digits(0.3, "#").tone(1.5, 1.5, 1000.0).tone(3.0, 4.0, 1000.0, level_dbm0=-70.0)
    await apps.call(f"vm-deposit.{office.bob}", script)
    await apps.settle()
    row = one_message(apps, office.bob)
    # 1.5 s of tone, then 200 ms kept after the last voiced frame.
    assert 1500 <= row.duration_ms <= 1800


async def test_hanging_up_at_the_beep_leaves_nothing(apps: Apps) -> None:
    office = apps.office
    await apps.call(
        f"vm-deposit.{office.bob}",
        RtpScript().digits(0.3, "#"),
        scenario="vm_call_hangup.xml",
        hold_ms=1200,
    )
    await apps.settle()
    with apps.sessions() as s:
        assert s.scalars(select(VoicemailMessage)).all() == []
    assert apps.mwi == []
    assert np.size(list((apps.data_dir / "voicemail").rglob("*.wav"))) == 0
