"""Listening to voicemail through the app server with SIPp as the caller pressing RFC 4733 keys over
127.0.0.1: PIN, new messages, delete, save, exit; three wrong logins; recording a greeting that the
next caller hears, and changing the PIN from the phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from centrex.media.g711 import ulaw_decode
from centrex.media.rtp import parse_rtp
from centrex.media.tones import sine
from centrex.media.wav import read_wav
from centrex.store.credentials import verify_password
from centrex.store.models import AuditEntry, Mailbox
from centrex.store.models.voicemail import VoicemailFolder, VoicemailMessage
from tests.apps.conftest import PIN, Apps
from tests.apps.pcap import RtpScript, dominant_hz

pytestmark = pytest.mark.interop
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the store is run on both above


def seed_messages(apps: Apps, count: int) -> list[VoicemailMessage]:
    box = apps.server.store.mailbox(apps.office.tenant_id, apps.office.alice)
    assert box is not None
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for i in range(count):
        apps.server.store.add_message(
            box,
            sine(440.0 * (i + 1), 1500),
            caller=f"200{i + 1}",
            caller_name=f"Caller {i + 1}",
            call_id=None,
            reason="no-answer",
            received_at=t0 + timedelta(minutes=i),
        )
    return messages(apps)


def messages(apps: Apps) -> list[VoicemailMessage]:
    with apps.sessions() as s:
        return list(s.scalars(select(VoicemailMessage).order_by(VoicemailMessage.received_at)).all())


def keys(at: float, *groups: tuple[float, str]) -> RtpScript:
    script = RtpScript()
    for start, digits in groups:
        script.digits(at + start, digits, spacing=0.25)
    return script


async def test_pin_then_delete_the_first_new_message_and_save_the_second(apps: Apps) -> None:
    first, second = seed_messages(apps, 2)
    script = keys(0.3, (0.0, f"{PIN}#"), (2.2, "1"), (3.8, "7"), (6.0, "9"), (8.0, "*"))
    await apps.call("vm-main", script, caller="1001", caller_user=apps.office.alice)  # ends by our BYE
    await apps.settle()

    [left] = messages(apps)
    assert left.id == second.id and left.folder is VoicemailFolder.SAVED
    assert not Path(first.file_path).exists() and Path(second.file_path).exists()
    assert apps.mwi[-1] == (apps.office.tenant_id, apps.office.alice, 0, 1)
    with apps.sessions() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry))]
        actors = {a.actor for a in s.scalars(select(AuditEntry))}
    assert "self.voicemail_message.delete" in actions and "self.voicemail_message" in actions
    assert actors == {"phone:1001@acme.example.com"}
    assert len(apps.sink.packets) > 100  # the caller heard the menu and the messages


@SQLITE_ONLY
async def test_three_wrong_logins_hang_up_and_change_nothing(apps: Apps) -> None:
    seed_messages(apps, 1)
    script = keys(0.3, (0.0, "1001#1111#"), (3.0, "1001#0000#"), (6.0, "1001#9999#"))
    result = await apps.call("vm-login", script, caller="2001", timeout_s=25)
    assert result.returncode == 0  # the app hung up by itself
    await apps.settle()
    [msg] = messages(apps)
    assert msg.folder is VoicemailFolder.NEW
    assert apps.mwi == []


@SQLITE_ONLY
async def test_vm_login_by_mailbox_number_and_pin(apps: Apps) -> None:
    seed_messages(apps, 1)
    script = keys(0.3, (0.0, f"1001#{PIN}#"), (3.5, "1"), (5.0, "9"), (7.0, "*"))
    await apps.call("vm-login", script, caller="+12175550100")
    await apps.settle()
    [msg] = messages(apps)
    assert msg.folder is VoicemailFolder.SAVED
    assert apps.mwi[-1] == (apps.office.tenant_id, apps.office.alice, 0, 1)


@SQLITE_ONLY
async def test_record_a_busy_greeting_the_next_caller_hears_and_change_the_pin(apps: Apps) -> None:
    office = apps.office
    script = keys(0.3, (0.0, f"{PIN}#"), (1.7, "0"), (2.3, "1"), (6.5, "#"), (7.2, "5"))
    script.tone(4.0, 2.5, 440.0)
    script.digits(7.8, "97531#", spacing=0.25)
    script.digits(9.6, "97531#", spacing=0.25)
    script.digits(11.6, "**", spacing=0.6)
    await apps.call("vm-main", script, caller="1001", caller_user=office.alice)
    await apps.settle()

    box = apps.server.store.mailbox(office.tenant_id, office.alice)
    assert box is not None
    greeting = read_wav(apps.server.store.greeting_path(box, "busy"))
    assert 2.2 <= len(greeting) / 8000 <= 2.8
    assert abs(dominant_hz(greeting) - 440.0) < 5.0
    assert not apps.server.store.greeting_path(box, "unavailable").exists()
    with apps.sessions() as s:
        mailbox = s.scalars(select(Mailbox).where(Mailbox.user_id == office.alice)).one()
        assert verify_password(mailbox.pin_hash, "97531") and not verify_password(mailbox.pin_hash, PIN)
        actions = {a.action for a in s.scalars(select(AuditEntry))}
    assert {"self.voicemail_greeting", "self.voicemail_pin"} <= actions

    # The next caller who finds Alice busy hears her greeting (440 Hz), then the beep.
    apps.sink.packets.clear()
    await apps.call(
        f"vm-deposit.{office.alice}", RtpScript(), scenario="vm_call_hangup.xml", reason="busy", hold_ms=3500
    )
    await apps.settle()
    heard = np.concatenate([ulaw_decode(parse_rtp(p).payload) for p in apps.sink.packets[:100]])
    assert abs(dominant_hz(heard) - 440.0) < 5.0
    assert messages(apps) == []  # silence is no message
