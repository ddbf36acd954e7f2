"""The voicemail app's I/O: leaving a message, and the retrieval menu of vm_menu.py over RTP.

Deposit (issue 4 point 2): the owner's recorded greeting for the reason (busy, else unavailable —
no-answer uses the unavailable greeting), or a default naming the extension; # skips it; the beep;
then recording until #, ``max_message_seconds``, ``silence_s`` without voice, or the caller hanging
up (the usual end). A message shorter than ``min_message_ms`` is not kept (a caller who hangs up at
the beep leaves nothing). Kept messages: WAV + row, then the MWI callback with the new counts, then
the e-mail when the mailbox asks for it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime

from centrex.apps import vm_menu as vm
from centrex.apps.media import CallMedia
from centrex.apps.phrases import say_digits
from centrex.apps.prompts import PromptLibrary, beep
from centrex.apps.vm_mail import VoicemailMailer
from centrex.apps.vm_store import MailboxInfo, MessageInfo, VoicemailStore

log = logging.getLogger(__name__)

Mwi = Callable[[uuid.UUID, uuid.UUID, int, int], None]


@dataclass(frozen=True, slots=True)
class VoicemailSettings:
    silence_s: float = 5.0  # voice-free time that ends a message
    min_message_ms: int = 1000
    greeting_max_s: int = 60
    min_greeting_ms: int = 1000
    timing: vm.Timing = field(default_factory=vm.Timing)


@dataclass(frozen=True, slots=True)
class CallerInfo:
    """What the X-Centrex-* headers said (trusted only from an allowed source)."""

    tenant_id: uuid.UUID
    call_id: uuid.UUID | None
    caller: str
    caller_name: str
    caller_user: uuid.UUID | None


class VoicemailApp:
    def __init__(
        self,
        store: VoicemailStore,
        prompts: PromptLibrary,
        mailer: VoicemailMailer,
        settings: VoicemailSettings,
        mwi: Mwi | None = None,
    ) -> None:
        self.store = store
        self.prompts = prompts
        self.mailer = mailer
        self.settings = settings
        self.mwi = mwi
        self._background: set[asyncio.Task[object]] = set()

    # -- shared ---------------------------------------------------------------------------------
    def notify_mwi(self, tenant_id: uuid.UUID, user_id: uuid.UUID, new: int, old: int) -> None:
        if self.mwi is None:
            return
        try:
            self.mwi(tenant_id, user_id, new, old)
        except Exception:  # a broken listener must not lose the message
            log.exception("voicemail: MWI callback failed for user %s", user_id)

    async def _refresh_mwi(self, box: MailboxInfo) -> None:
        await self.refresh_counts(box.tenant_id, box.user_id)

    async def refresh_counts(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
        new, old = await asyncio.to_thread(self.store.counts, tenant_id, user_id)
        self.notify_mwi(tenant_id, user_id, new, old)

    def spawn(self, coro: Coroutine[object, object, object]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, timeout_s: float | None = None) -> None:
        """Wait for e-mails still being sent (shutdown, tests)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout_s)

    async def _say(self, media: CallMedia, keys: tuple[str, ...], interrupt: str = "") -> str | None:
        return await media.play(self.prompts.phrase(keys), interrupt=interrupt)

    # -- deposit ---------------------------------------------------------------------------------
    async def deposit(self, media: CallMedia, box: MailboxInfo, caller: CallerInfo, reason: str) -> None:
        kind = "busy" if reason == "busy" else "unavailable"
        greeting = await asyncio.to_thread(self.store.greeting, box, kind)
        if greeting is None:
            status = "vm-is-busy" if kind == "busy" else "vm-is-unavailable"
            keys = ("vm-person-at-extension", *say_digits(box.extension), status, "vm-leave-message")
            greeting = self.prompts.phrase(keys)
        await media.play(greeting, interrupt="#")  # pound skips the greeting
        if media.closed.is_set():
            return
        await media.play(beep(), interrupt="")
        media.clear_digits()  # keys pressed during the greeting do not end the message
        received_at = datetime.now(UTC)
        rec = await media.record(
            box.max_message_seconds * 1000, silence_ms=int(self.settings.silence_s * 1000), stop_digits="#"
        )
        kept = rec.duration_ms >= self.settings.min_message_ms
        if kept:
            message = await asyncio.to_thread(
                self.store.add_message,
                box,
                rec.samples,
                caller=caller.caller,
                caller_name=caller.caller_name,
                call_id=caller.call_id,
                reason=reason,
                received_at=received_at,
            )
            log.info(
                "voicemail: message %s for %s (%d ms, ended by %s)",
                message.id,
                box.extension,
                message.duration_ms,
                rec.reason,
            )
            await self._refresh_mwi(box)
            if self.mailer.wanted(box):
                self.spawn(self.mailer.send(box, message))
        if not media.closed.is_set():
            said = "vm-message-recorded" if kept else "vm-message-too-short"
            await self._say(media, (said, "vm-goodbye"))

    # -- retrieval -------------------------------------------------------------------------------
    async def retrieve(self, media: CallMedia, caller: CallerInfo, own: MailboxInfo | None) -> None:
        """vm-main when ``own`` is the caller's mailbox, vm-login (mailbox number first) when None."""
        menu = vm.VoicemailMenu(
            ask_mailbox=own is None,
            pin_required=own is None or own.pin_hash is not None,
            timing=self.settings.timing,
        )
        session = _Retrieval(self, media, caller, own)
        await session.run(menu)


class _Retrieval:
    """Carries out the menu's actions for one call."""

    def __init__(
        self, app: VoicemailApp, media: CallMedia, caller: CallerInfo, own: MailboxInfo | None
    ) -> None:
        self.app = app
        self.media = media
        self.caller = caller
        self.own = own
        self.box: MailboxInfo | None = None
        self.changed = False
        self.files: dict[uuid.UUID, MessageInfo] = {}

    async def run(self, menu: vm.VoicemailMenu) -> None:
        pending: deque[vm.Action] = deque(menu.start())
        media = self.media
        while pending and not media.closed.is_set():
            action = pending.popleft()
            nxt: list[vm.Action] | None = None
            if isinstance(action, vm.Play):
                digit = await media.play(
                    self.app.prompts.phrase(action.prompts),
                    interrupt="0123456789*#" if action.interruptible else "",
                )
                if digit is not None:
                    pending.clear()
                    nxt = menu.on_digit(digit)
            elif isinstance(action, vm.Wait):
                digit = await media.next_digit(action.seconds)
                if media.closed.is_set():
                    break
                nxt = menu.on_timeout() if digit is None else menu.on_digit(digit)
            elif isinstance(action, vm.PlayMessage):
                digit = await self._play_message(action.message_id)
                nxt = menu.on_message_end() if digit is None else menu.on_digit(digit)
            elif isinstance(action, vm.Record):
                nxt = menu.on_recorded(await self._record_greeting(action.greeting))
            elif isinstance(action, vm.Login):
                nxt = menu.on_login(await self._login(action))
            elif isinstance(action, vm.Hangup):
                break
            else:
                await self._effect(action)
            if nxt is not None:
                pending.clear()
                pending.extend(nxt)

    async def _login(self, action: vm.Login) -> vm.LoginResult | None:
        store = self.app.store
        if action.extension is None:
            box = self.own
        else:
            box = await asyncio.to_thread(store.mailbox_by_extension, self.caller.tenant_id, action.extension)
        if box is None or not box.enabled:
            ok = False
        elif action.pin is None:
            ok = box.pin_hash is None and box is self.own  # only vm-main, only without a PIN
        else:
            ok = await asyncio.to_thread(store.verify_pin, box, action.pin)  # argon2: ~50 ms of CPU
        if not ok or box is None:
            log.info(
                "voicemail: failed login to mailbox %s from %s",
                action.extension or "(own)",
                self.caller.caller,
            )
            return None
        self.box = box
        messages = await asyncio.to_thread(store.messages, box)
        self.files = {m.id: m for m in messages}
        refs = tuple(vm.MessageRef(m.id, m.caller, m.received_at, m.duration_ms, m.folder) for m in messages)
        return vm.LoginResult(refs)

    async def _play_message(self, message_id: uuid.UUID) -> str | None:
        assert self.box is not None
        audio = await asyncio.to_thread(self.app.store.message_audio, self.box, message_id)
        if audio is None:
            return None  # deleted meanwhile (through the API): go on as if it had played
        return await self.media.play(audio, interrupt="0123456789*#")

    async def _record_greeting(self, kind: str) -> bool:
        assert self.box is not None
        await self.media.play(beep(), interrupt="")
        self.media.clear_digits()
        rec = await self.media.record(
            self.app.settings.greeting_max_s * 1000,
            silence_ms=int(self.app.settings.silence_s * 1000),
            stop_digits="#",
        )
        if rec.duration_ms < self.app.settings.min_greeting_ms:
            return False
        await asyncio.to_thread(self.app.store.save_greeting, self.box, kind, rec.samples)
        return True

    async def _effect(self, action: vm.Action) -> None:
        assert self.box is not None
        store = self.app.store
        if isinstance(action, vm.SetFolder):
            self.changed |= await asyncio.to_thread(
                store.set_folder, self.box, action.message_id, action.folder
            )
        elif isinstance(action, vm.DeleteMessage):
            self.changed |= await asyncio.to_thread(store.delete_message, self.box, action.message_id)
        elif isinstance(action, vm.ChangePin):
            await asyncio.to_thread(store.change_pin, self.box, action.pin)
        if self.changed:
            # The lamp follows each change, not only the end of the call.
            await self.app._refresh_mwi(self.box)
            self.changed = False
