"""Seeded data for the lifecycle tests: the demo tenant (users, phones, mailboxes, numbers) with calls,
voicemail, recordings (files on disk) and a 911 webhook contact, and a second tenant beside it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.ops.demo import seed_demo
from centrex.store.models import CallDetail, Mailbox, Tenant, User
from centrex.store.models.numbering import EmergencyContact, NotifyKind
from centrex.store.models.recordings import CallRecording, RecordingTrigger
from centrex.store.models.voicemail import VoicemailMessage


@dataclass
class Seeded:
    tenant_id: uuid.UUID
    other_id: uuid.UUID
    files: list[Path]


def wav(path: Path, size: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + bytes(size - 4))
    return path


def voicemail(s: Session, tenant_id: uuid.UUID, received: datetime, path: Path) -> VoicemailMessage:
    user = s.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.extension)).first()
    assert user is not None
    box = s.scalar(select(Mailbox).where(Mailbox.user_id == user.id))
    if box is None:
        box = Mailbox(tenant_id=tenant_id, user_id=user.id)
        s.add(box)
        s.flush()
    row = VoicemailMessage(
        tenant_id=tenant_id,
        mailbox_id=box.id,
        user_id=user.id,
        caller="+12175550100",
        received_at=received,
        duration_ms=3000,
        file_path=str(wav(path)),
        size_bytes=1000,
    )
    s.add(row)
    return row


def seed(s: Session, data_dir: Path, now: datetime) -> Seeded:
    demo = seed_demo(s, data_dir)
    t = uuid.UUID(demo.tenant_id)
    other = Tenant(name="Other Co", sip_domain="other.lifecycle.example")
    s.add(other)
    s.flush()
    s.add(User(tenant_id=other.id, name="Olive", extension="2001"))
    s.flush()
    files = []
    for i, days in enumerate((400, 45, 10)):
        files.append(
            Path(voicemail(s, t, now - timedelta(days=days), data_dir / f"vm/{t}/{i}.wav").file_path)
        )
    files.append(
        Path(voicemail(s, other.id, now - timedelta(days=400), data_dir / "vm/other/0.wav").file_path)
    )
    for i in range(2):
        s.add(
            CallDetail(
                tenant_id=t,
                call_id=f"call-{i}",
                caller="+12175550100",
                callee="+12175550199",
                call_class="local",
                direction="outbound",
                start=now - timedelta(days=i + 1),
                duration_ms=60_000,
            )
        )
    rec = wav(data_dir / f"rec/{t}/r.wav")
    files.append(rec)
    s.add(
        CallRecording(
            tenant_id=t,
            call_id="call-0",
            trigger=RecordingTrigger.POLICY,
            direction="outbound",
            started_at=now - timedelta(days=1),
            file_path=str(rec),
            size_bytes=1000,
        )
    )
    s.add(
        EmergencyContact(
            tenant_id=t,
            kind=NotifyKind.WEBHOOK,
            address="https://hooks.example/911",
            signing_secret="whsec_x",
        )
    )
    s.flush()
    return Seeded(t, other.id, files)
