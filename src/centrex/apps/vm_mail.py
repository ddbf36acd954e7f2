"""Voicemail to e-mail: the message (pure) and its delivery through the operator's SMTP server
(ops/mailer.py).

The mailbox asks for it (``email_notify``, MAC 8) and the user has an e-mail address; the WAV goes
as an ``audio/wav`` attachment when ``attach_audio`` is set (else only the notice). Delivery is
tried 3 times with back-off (a greylisting server answers 4xx first); a 5xx is final. It never
delays or fails the deposit: it runs after the message is stored and only logs its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from centrex.apps.vm_store import MailboxInfo, MessageInfo
from centrex.ops.mailer import Mailer, SmtpConfig
from centrex.store import media_files

log = logging.getLogger(__name__)


def _duration(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def voicemail_email(
    box: MailboxInfo, message: MessageInfo, sender: str, audio: bytes | None = None
) -> EmailMessage:
    """The notice of one new message to its mailbox owner, with the WAV attached if given."""
    if not box.email:
        raise ValueError("email: the mailbox owner has no e-mail address")
    who = f"{message.caller_name} <{message.caller}>" if message.caller_name else message.caller or "unknown"
    msg = EmailMessage()
    msg["Subject"] = f"New voicemail from {who} ({_duration(message.duration_ms)})"
    msg["From"] = sender
    msg["To"] = box.email
    msg["Date"] = format_datetime(message.received_at)
    msg["Message-ID"] = make_msgid(str(message.id), domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    msg["X-Centrex-Event"] = "voicemail.new"
    lines = [
        f"{box.name}, you have a new voicemail in mailbox {box.extension}.",
        "",
        f"From:     {who}",
        f"Received: {message.received_at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"Length:   {_duration(message.duration_ms)}",
        "",
        "The recording is attached." if audio is not None else "Call your voicemail to listen to it.",
    ]
    msg.set_content("\n".join(lines) + "\n")
    if audio is not None:
        stamp = message.received_at.strftime("%Y%m%d-%H%M%S")
        msg.add_attachment(audio, maintype="audio", subtype="wav", filename=f"voicemail-{stamp}.wav")
    return msg


class VoicemailMailer:
    def __init__(
        self,
        smtp: SmtpConfig | None,
        sender: str,
        *,
        tries: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.smtp = smtp
        self.sender = sender
        self.tries = max(1, tries)
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context

    def wanted(self, box: MailboxInfo) -> bool:
        return box.email_notify and bool(box.email)

    async def send(self, box: MailboxInfo, message: MessageInfo) -> bool:
        """Build and deliver the notice; True when the server accepted it. Never raises."""
        smtp = self.smtp
        if smtp is None:
            log.warning("voicemail.email not sent for %s: no SMTP server (CENTREX_SMTP_HOST)", box.extension)
            return False
        try:
            audio = (
                await asyncio.to_thread(media_files.path_of(message.file_path).read_bytes)
                if box.attach_audio
                else None
            )
            email = voicemail_email(box, message, self.sender, audio)
        except Exception:
            log.exception("voicemail.email cannot be built for message %s", message.id)
            return False
        mailer = Mailer(smtp, timeout_s=self.timeout_s, ssl_context=self.ssl_context)
        sent = await mailer.deliver(email, tries=self.tries, backoff_s=self.backoff_s)
        if sent.ok:
            log.info("voicemail.email delivered message=%s to=%s", message.id, box.email)
            return True
        log.error(
            "voicemail.email FAILED message=%s after %d tries: %s", message.id, sent.attempts, sent.detail
        )
        return False
