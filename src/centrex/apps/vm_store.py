"""Mailboxes, messages and greetings as the voicemail app sees them: the store and the files.

Blocking (SQLAlchemy and file writes): voicemail.py calls it through ``asyncio.to_thread``. Every
query names the tenant. Deposits are written by the switch itself (like call records); what a
mailbox owner does from the phone (save, delete, greetings, PIN) goes through ``TenantData`` with a
principal for that user, so it is policy-checked and audited like the same change made through /me.

Files: ``<media>/voicemail/<tenant>/<user>/<message id>.wav`` and ``greeting-<busy|unavailable>.wav``
beside them, 8 kHz 16-bit mono (media/wav.py). A row's ``file_path`` is a key under the media
directory (store/media_files.py), which several nodes share.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.media.g711 import Pcm
from centrex.media.wav import read_wav, write_wav
from centrex.store import media_files
from centrex.store.access import Principal, TenantData
from centrex.store.credentials import hash_password, verify_password
from centrex.store.models import Mailbox, Role, Tenant, TokenKind, User
from centrex.store.models.voicemail import VoicemailFolder, VoicemailMessage
from centrex.store.policy import Resource

log = logging.getLogger(__name__)

GREETINGS = ("busy", "unavailable")
PHONE_SESSION = uuid.UUID(int=0)  # the "token" of a principal that logged in by PIN on a phone


@dataclass(frozen=True, slots=True)
class MailboxInfo:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    mailbox_id: uuid.UUID
    extension: str
    name: str
    email: str | None
    domain: str
    enabled: bool
    pin_hash: str | None
    email_notify: bool
    attach_audio: bool
    max_message_seconds: int


@dataclass(frozen=True, slots=True)
class MessageInfo:
    id: uuid.UUID
    caller: str
    caller_name: str
    received_at: datetime
    duration_ms: int
    folder: str
    file_path: str
    size_bytes: int
    reason: str


def _message_info(row: VoicemailMessage) -> MessageInfo:
    return MessageInfo(
        row.id,
        row.caller,
        row.caller_name,
        row.received_at,
        row.duration_ms,
        row.folder.value,
        row.file_path,
        row.size_bytes,
        row.reason,
    )


def delete_file(path: str) -> None:
    """Remove a message's WAV; a file already gone is not an error."""
    try:
        os.unlink(media_files.path_of(path))
    except FileNotFoundError:
        pass
    except OSError:
        log.warning("voicemail: cannot delete %s", path, exc_info=True)


class VoicemailStore:
    def __init__(self, sessions: sessionmaker[Session], data_dir: Path | str) -> None:
        self.sessions = sessions
        self.root = Path(data_dir).resolve() / "voicemail"

    # -- mailboxes --------------------------------------------------------------------------------
    def mailbox(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> MailboxInfo | None:
        with self.sessions() as s:
            return self._box(s, tenant_id, User.id == user_id)

    def mailbox_by_extension(self, tenant_id: uuid.UUID, extension: str) -> MailboxInfo | None:
        with self.sessions() as s:
            return self._box(s, tenant_id, User.extension == extension)

    def _box(self, s: Session, tenant_id: uuid.UUID, which: object) -> MailboxInfo | None:
        row = s.execute(
            select(Mailbox, User, Tenant.sip_domain)
            .join(User, User.id == Mailbox.user_id)
            .join(Tenant, Tenant.id == Mailbox.tenant_id)
            .where(Mailbox.tenant_id == tenant_id, User.tenant_id == tenant_id, which)  # type: ignore[arg-type]
        ).first()
        if row is None:
            return None
        box, user, domain = row
        return MailboxInfo(
            tenant_id,
            user.id,
            box.id,
            user.extension,
            user.name,
            user.email,
            domain,
            box.enabled,
            box.pin_hash,
            box.email_notify,
            box.attach_audio,
            box.max_message_seconds,
        )

    def verify_pin(self, box: MailboxInfo, pin: str) -> bool:
        return verify_password(box.pin_hash, pin)

    # -- files --------------------------------------------------------------------------------------
    def directory(self, box: MailboxInfo) -> Path:
        path = self.root / str(box.tenant_id) / str(box.user_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def greeting_path(self, box: MailboxInfo, kind: str) -> Path:
        if kind not in GREETINGS:
            raise ValueError(f"greeting: {kind!r} is not one of {GREETINGS}")
        return self.root / str(box.tenant_id) / str(box.user_id) / f"greeting-{kind}.wav"

    def greeting(self, box: MailboxInfo, kind: str) -> Pcm | None:
        path = self.greeting_path(box, kind)
        if not path.exists():
            return None
        try:
            return read_wav(path)
        except Exception:
            log.warning("voicemail: unreadable greeting %s: the default is played", path, exc_info=True)
            return None

    def save_greeting(self, box: MailboxInfo, kind: str, samples: Pcm) -> None:
        path = self.greeting_path(box, kind)
        self.directory(box)
        tmp = path.with_suffix(".tmp")
        write_wav(tmp, samples)
        os.replace(tmp, path)  # a caller never hears half a greeting
        self._audit_phone(box, "self.voicemail_greeting", {"greeting": kind})

    def message_audio(self, box: MailboxInfo, message_id: uuid.UUID) -> Pcm | None:
        with self.sessions() as s:
            row = s.get(VoicemailMessage, message_id)
            if row is None or row.tenant_id != box.tenant_id or row.user_id != box.user_id:
                return None
            path = row.file_path
        try:
            return read_wav(media_files.path_of(path))
        except Exception:
            log.warning("voicemail: unreadable message %s", path, exc_info=True)
            return None

    # -- messages ----------------------------------------------------------------------------------
    def add_message(
        self,
        box: MailboxInfo,
        samples: Pcm,
        *,
        caller: str,
        caller_name: str,
        call_id: uuid.UUID | None,
        reason: str,
        received_at: datetime,
    ) -> MessageInfo:
        """Write the WAV, then its row; a row never points at a file that was not written."""
        message_id = uuid.uuid4()
        path = self.directory(box) / f"{message_id}.wav"
        write_wav(path, samples)
        try:
            with self.sessions() as s, s.begin():
                row = VoicemailMessage(
                    id=message_id,
                    tenant_id=box.tenant_id,
                    mailbox_id=box.mailbox_id,
                    user_id=box.user_id,
                    caller=caller[:64],
                    caller_name=caller_name[:200],
                    call_id=call_id,
                    reason=reason,
                    received_at=received_at,
                    duration_ms=len(samples) * 1000 // 8000,
                    folder=VoicemailFolder.NEW,
                    file_path=media_files.key_of(path),
                    size_bytes=path.stat().st_size,
                )
                s.add(row)
                s.flush()
                return _message_info(row)
        except BaseException:
            delete_file(str(path))
            raise

    def counts(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> tuple[int, int]:
        """(new, saved): what message-waiting indication reports (RFC 3842 new/old)."""
        with self.sessions() as s:
            rows = s.execute(
                select(VoicemailMessage.folder, func.count())
                .where(VoicemailMessage.tenant_id == tenant_id, VoicemailMessage.user_id == user_id)
                .group_by(VoicemailMessage.folder)
            ).all()
        by = {VoicemailFolder(f): n for f, n in rows}
        return by.get(VoicemailFolder.NEW, 0), by.get(VoicemailFolder.SAVED, 0)

    def messages(self, box: MailboxInfo) -> list[MessageInfo]:
        with self.sessions() as s:
            rows = s.scalars(
                select(VoicemailMessage)
                .where(VoicemailMessage.tenant_id == box.tenant_id, VoicemailMessage.user_id == box.user_id)
                .order_by(VoicemailMessage.received_at, VoicemailMessage.id)
            ).all()
            return [_message_info(r) for r in rows]

    # -- what the owner does from the phone (audited) ------------------------------------------------
    def _data(self, s: Session, box: MailboxInfo) -> TenantData:
        principal = Principal(
            TokenKind.USER,
            PHONE_SESSION,
            frozenset({Role.END_USER}),
            f"phone:{box.extension}@{box.domain}",
            tenant_id=box.tenant_id,
            user_id=box.user_id,
        )
        return TenantData(s, principal, box.tenant_id)

    def set_folder(self, box: MailboxInfo, message_id: uuid.UUID, folder: str) -> bool:
        with self.sessions() as s, s.begin():
            data = self._data(s, box)
            row = s.scalar(
                data.select(VoicemailMessage, Resource.VOICEMAIL).where(
                    VoicemailMessage.id == message_id, VoicemailMessage.user_id == box.user_id
                )
            )
            if row is None:
                return False
            data.update(
                row, "self.voicemail_message", {"folder": VoicemailFolder(folder)}, Resource.VOICEMAIL
            )
            return True

    def delete_message(self, box: MailboxInfo, message_id: uuid.UUID) -> bool:
        path = None
        with self.sessions() as s, s.begin():
            data = self._data(s, box)
            row = s.scalar(
                data.select(VoicemailMessage, Resource.VOICEMAIL).where(
                    VoicemailMessage.id == message_id, VoicemailMessage.user_id == box.user_id
                )
            )
            if row is None:
                return False
            path = row.file_path
            data.delete(row, "self.voicemail_message.delete", Resource.VOICEMAIL)
        delete_file(path)
        return True

    def change_pin(self, box: MailboxInfo, pin: str) -> None:
        with self.sessions() as s, s.begin():
            data = self._data(s, box)
            row = s.get(Mailbox, box.mailbox_id)
            if row is None or row.tenant_id != box.tenant_id:
                return
            data.update(row, "self.voicemail_pin", {"pin_hash": hash_password(pin)}, Resource.SELF)

    def _audit_phone(self, box: MailboxInfo, action: str, after: dict[str, str]) -> None:
        with self.sessions() as s, s.begin():
            data = self._data(s, box)
            data.audit(action, "mailboxes", box.mailbox_id, None, after, box.tenant_id)
