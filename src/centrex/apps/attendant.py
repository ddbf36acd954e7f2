"""The auto attendant app (issue 4 point 3) at the app server's ``aa.<menu uuid>``.

The entry menu's schedule (if it has one) picks the menu for now; the app says the greeting (the
menu's recorded WAV, else its text by espeak-ng, else "Thank you for calling <name>") and the
options, and reads keys with aa_menu.MenuMachine. A choice the switch routes (an extension, a hunt
group, a mailbox, the operator) is handed back to it with an in-dialog REFER: on 202 the switch
BYEs this leg and rings the destination with forwarding and voicemail as for any call; a refusal
(404: no such extension) is said as "invalid" and the menu plays again. Sub-menus and dial by name
stay in the app. The attendant never bridges audio itself.

Speech: the fixed phrases and the menus' own texts (greeting, option labels, names) are rendered by
espeak-ng when the prompt library speaks (once per text: a WAV under ``<data>/prompts/attendant``),
else each text is a distinct tone pattern, so menus are timed the same in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.apps import aa_menu as aa
from centrex.apps.aa_menu import Listing, Menu, MenuMachine, Option, Schedule, Step
from centrex.apps.media import CallMedia
from centrex.apps.prompts import PromptLibrary, espeak_binary, render_espeak, tone_prompt
from centrex.media.g711 import Pcm
from centrex.media.tones import silence
from centrex.media.wav import read_wav, write_wav
from centrex.store.models import User
from centrex.store.models.attendants import (
    AttendantHoliday,
    AttendantHours,
    AttendantMenu,
    AttendantOption,
    AttendantSchedule,
)

log = logging.getLogger(__name__)

Refer = Callable[[str], Awaitable[int]]
MAX_MENUS = 20  # sub-menu hops in one call (a loop of menus must end)
BYE_WAIT_S = 5.0  # after 202 the switch BYEs us; hang up ourselves if it does not
NAME_KEY_S = 5.0  # per letter of dial by name

TEXTS = {
    "invalid": "That is not a valid choice.",
    "goodbye": "Goodbye.",
    "name-prompt": (
        "Please enter the first three letters of the person's last name. "
        "For a shorter name, press pound after the last letter."
    ),
    "name-none": "There is no one by that name.",
}


class _Caller(Protocol):
    @property
    def tenant_id(self) -> uuid.UUID: ...


class AttendantStore:
    """Menus, schedules and the directory, read per call (menus change without a reload)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def exists(self, tenant_id: uuid.UUID, menu_id: uuid.UUID) -> bool:
        with self.sessions() as s:
            row = s.get(AttendantMenu, menu_id)
            return row is not None and row.tenant_id == tenant_id

    def menu(self, tenant_id: uuid.UUID, menu_id: uuid.UUID) -> Menu | None:
        with self.sessions() as s:
            row = s.get(AttendantMenu, menu_id)
            if row is None or row.tenant_id != tenant_id:
                return None
            options = s.scalars(select(AttendantOption).where(AttendantOption.menu_id == row.id)).all()
            return Menu(
                id=row.id,
                tenant_id=row.tenant_id,
                name=row.name,
                options={o.digit: Option(o.digit, str(o.action), o.target, o.label) for o in options},
                greeting_text=row.greeting_text,
                greeting_path=row.greeting_path,
                timeout_s=float(row.timeout_seconds),
                max_invalid=row.max_invalid,
                timeout=aa.Destination(str(row.timeout_action), row.timeout_target),
                invalid=aa.Destination(str(row.invalid_action), row.invalid_target),
                operator_extension=row.operator_extension,
            )

    def schedule(self, tenant_id: uuid.UUID, menu_id: uuid.UUID) -> Schedule | None:
        with self.sessions() as s:
            row = s.scalar(
                select(AttendantSchedule).where(
                    AttendantSchedule.menu_id == menu_id, AttendantSchedule.tenant_id == tenant_id
                )
            )
            if row is None:
                return None
            hours = s.scalars(select(AttendantHours).where(AttendantHours.schedule_id == row.id)).all()
            days = s.scalars(select(AttendantHoliday.day).where(AttendantHoliday.schedule_id == row.id)).all()
            return Schedule(
                menu_id=row.menu_id,
                time_zone=row.time_zone,
                after_hours_menu_id=row.after_hours_menu_id,
                hours=tuple(aa.Hours(h.weekday, h.opens, h.closes) for h in hours),
                holidays=frozenset(days),
                holiday_menu_id=row.holiday_menu_id,
            )

    def listings(self, tenant_id: uuid.UUID) -> list[Listing]:
        """The users listed in the tenant's directory (``directory_listed``), for dial by name."""
        with self.sessions() as s:
            rows = s.execute(
                select(User.id, User.name, User.extension).where(
                    User.tenant_id == tenant_id, User.directory_listed.is_(True)
                )
            ).all()
            return [Listing(r.id, r.name, r.extension) for r in rows]


class Speaker:
    """Any text as audio: espeak-ng (cached as a WAV per text) when the prompts speak, else tones."""

    def __init__(self, prompts: PromptLibrary) -> None:
        self.prompts = prompts
        self._cache: dict[str, Pcm] = {}

    @property
    def directory(self) -> Path | None:
        return self.prompts.directory.parent / "attendant" if self.prompts.directory is not None else None

    def say(self, text: str) -> Pcm:
        """Blocking when espeak renders a new text: call it in a thread."""
        pcm = self._cache.get(text)
        if pcm is not None:
            return pcm
        binary = espeak_binary()
        folder = self.directory
        if self.prompts.spoken and binary is not None and folder is not None:
            path = folder / f"{hashlib.sha256(text.encode()).hexdigest()[:20]}.wav"
            try:
                pcm = read_wav(path)
            except Exception:  # not rendered yet (or damaged): render it now, once
                try:
                    pcm = render_espeak(text, binary)
                    folder.mkdir(parents=True, exist_ok=True)
                    write_wav(path, pcm)
                except Exception:
                    log.warning("attendant: espeak-ng failed for %r: tones instead", text[:60], exc_info=True)
                    pcm = tone_prompt(text)
        else:
            pcm = tone_prompt(text)
        if len(self._cache) < 500:
            self._cache[text] = pcm
        return pcm

    async def phrase(self, *texts: str) -> Pcm:
        parts = [await asyncio.to_thread(self.say, t) for t in texts if t]
        return np.concatenate([p for part in parts for p in (part, silence(150))]) if parts else silence(0)


class AttendantApp:
    def __init__(
        self,
        store: AttendantStore,
        prompts: PromptLibrary,
        clock: Callable[[], datetime] = aa.now_utc,
    ) -> None:
        self.store = store
        self.speaker = Speaker(prompts)
        self.clock = clock  # tests freeze it to hear the after-hours or holiday menu

    async def run(self, media: CallMedia, caller: _Caller, entry_id: uuid.UUID, refer: Refer) -> None:
        tenant = caller.tenant_id
        schedule = await asyncio.to_thread(self.store.schedule, tenant, entry_id)
        menu_id: uuid.UUID | None = aa.active_menu(schedule, self.clock()) if schedule else entry_id
        for _ in range(MAX_MENUS):
            if menu_id is None or media.closed.is_set():
                break
            menu = await asyncio.to_thread(self.store.menu, tenant, menu_id)
            if menu is None:
                log.warning("attendant: menu %s of tenant %s is gone", menu_id, tenant)
                break
            result = await self._menu(media, menu, refer)
            if result is True:
                return  # handed to the switch: it BYEs us
            menu_id = result if isinstance(result, uuid.UUID) else None
        if not media.closed.is_set():
            await media.play(await self.speaker.phrase(TEXTS["goodbye"]), interrupt="")

    async def _menu(self, media: CallMedia, menu: Menu, refer: Refer) -> uuid.UUID | bool | None:
        """Run one menu: True when the switch took the call, a menu id for a sub-menu, None to end."""
        machine = MenuMachine(menu)
        greeting = await self._greeting(menu)
        options = await self.speaker.phrase(*aa.menu_sentences(menu))
        invalid = await self.speaker.phrase(TEXTS["invalid"])
        step: Step = machine.start()
        first, refused = True, 0
        while not media.closed.is_set():
            if step.kind in ("menu", "invalid"):
                parts = (
                    ([invalid] if step.kind == "invalid" else []) + ([greeting] if first else []) + [options]
                )
                first = False
                digit = await media.play(np.concatenate(parts), interrupt=aa.OPTION_DIGITS)
                if digit is None and not media.closed.is_set():
                    digit = await media.next_digit(menu.timeout_s)
                if media.closed.is_set():
                    return None
                step = machine.on_digit(digit) if digit else machine.on_timeout()
                continue
            destination = step.destination
            assert destination is not None
            if step.said_invalid:
                await media.play(invalid, interrupt="")
            if destination.action == aa.REPEAT:
                step = Step("menu")
                continue
            if destination.action == aa.SUB_MENU:
                with contextlib.suppress(TypeError, ValueError):
                    return uuid.UUID(str(destination.target))
                return None
            if destination.action == aa.DIAL_BY_NAME:
                target = await self._dial_by_name(media, menu)
                if target is None:
                    step = Step("menu")
                    continue
            else:
                target = aa.refer_target(menu, destination)
            if target is None:
                return None  # goodbye
            status = await refer(target)
            log.info("attendant: menu %s sent the caller to %s: %d", menu.id, target, status)
            if status == 202:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(media.closed.wait(), BYE_WAIT_S)
                return True
            refused += 1
            if refused > menu.max_invalid:
                return None  # nothing the caller chooses can be reached: end politely
            step = machine.on_refused()
        return None

    async def _greeting(self, menu: Menu) -> Pcm:
        if menu.greeting_path:
            try:
                return await asyncio.to_thread(read_wav, Path(menu.greeting_path))
            except Exception:  # a missing recording: the text (or the name) is better than nothing
                log.warning("attendant: greeting %s of menu %s unreadable", menu.greeting_path, menu.id)
        return await self.speaker.phrase(menu.greeting_text or f"Thank you for calling {menu.name}.")

    async def _dial_by_name(self, media: CallMedia, menu: Menu) -> str | None:
        """Letters of the last name, then the one match or a choice among several: an extension."""
        digit = await media.play(await self.speaker.phrase(TEXTS["name-prompt"]), interrupt="23456789#")
        keys = ""
        while len(keys) < aa.NAME_LETTERS and not media.closed.is_set():
            if digit is None:
                digit = await media.next_digit(NAME_KEY_S)
            if digit is None or digit == "#":
                break
            keys += digit
            digit = None
        if media.closed.is_set():
            return None
        listings = await asyncio.to_thread(self.store.listings, menu.tenant_id)
        matches = aa.match_names(listings, keys)
        if not matches:
            await media.play(await self.speaker.phrase(TEXTS["name-none"]), interrupt="")
            return None
        if len(matches) == 1:
            return matches[0].extension
        shown = matches[: aa.MAX_NAME_CHOICES]
        choice = await media.play(
            await self.speaker.phrase(*aa.choices_sentences(shown)), interrupt="123456789"
        )
        if choice is None and not media.closed.is_set():
            choice = await media.next_digit(menu.timeout_s)
        if choice is None or not choice.isdigit() or not 1 <= int(choice) <= len(shown):
            return None
        return shown[int(choice) - 1].extension
