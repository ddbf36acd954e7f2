"""The auto attendant's rules, without I/O (issue 4 point 3): which menu a schedule picks at an
instant, the key-press state machine of one menu, where a choice sends the caller, and dial by name.

- **Schedule.** Local time in the schedule's IANA zone (zoneinfo, so daylight saving is the
  zone's): a holiday (a local date) wins over everything, then business hours per weekday
  (``opens <= t < closes``; ``closes`` 00:00 means midnight), else the after-hours menu.
- **Menu.** One key chooses an option. Silence for ``timeout_s``: the menu is said again once, then
  the time-out destination. A key with no option: "invalid" and the menu again, and at the
  ``max_invalid``-th the invalid destination.
- **Dial by name.** The first three letters of the last name on the keypad (2 ABC … 9 WXYZ), over
  the users listed in the tenant's directory; one match goes to that extension, several are read
  out as "for <name>, press 1" (at most 9).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

# What each action means is in store/models/attendants.py AttendantAction; plain strings here so the
# logic does not import the store.
EXTENSION = "extension"
HUNT_GROUP = "hunt_group"
VOICEMAIL = "voicemail"
SUB_MENU = "sub_menu"
DIAL_BY_NAME = "dial_by_name"
OPERATOR = "operator"
REPEAT = "repeat"
HANGUP = "hangup"
ACTIONS = (EXTENSION, HUNT_GROUP, VOICEMAIL, SUB_MENU, DIAL_BY_NAME, OPERATOR, REPEAT, HANGUP)
OPTION_DIGITS = "0123456789*#"
NAME_LETTERS = 3
MAX_NAME_CHOICES = 9

KEYPAD = {
    **dict.fromkeys("ABC", "2"),
    **dict.fromkeys("DEF", "3"),
    **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"),
    **dict.fromkeys("MNO", "6"),
    **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"),
    **dict.fromkeys("WXYZ", "9"),
}


@dataclass(frozen=True, slots=True)
class Destination:
    action: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    digit: str
    action: str
    target: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Menu:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    options: Mapping[str, Option] = field(default_factory=dict)
    greeting_text: str | None = None
    greeting_path: str | None = None
    timeout_s: float = 5.0
    max_invalid: int = 3
    timeout: Destination = Destination(OPERATOR)
    invalid: Destination = Destination(HANGUP)
    operator_extension: str | None = None


@dataclass(frozen=True, slots=True)
class Hours:
    weekday: int  # 0 Monday … 6 Sunday
    opens: time
    closes: time  # exclusive; 00:00 is midnight at the end of the day


@dataclass(frozen=True, slots=True)
class Schedule:
    menu_id: uuid.UUID  # the entry menu: plays in business hours
    time_zone: str
    after_hours_menu_id: uuid.UUID
    hours: tuple[Hours, ...] = ()
    holidays: frozenset[date] = frozenset()
    holiday_menu_id: uuid.UUID | None = None  # None: the after-hours menu


def is_open(schedule: Schedule, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(schedule.time_zone))
    t = local.time().replace(tzinfo=None)
    for h in schedule.hours:
        if h.weekday != local.weekday():
            continue
        if h.opens <= t and (t < h.closes or h.closes == time(0)):
            return True
    return False


def active_menu(schedule: Schedule, at: datetime) -> uuid.UUID:
    """The menu a caller reaching ``schedule.menu_id`` hears at the UTC instant ``at``."""
    if at.tzinfo is None:
        raise ValueError("at: a naive datetime (time is UTC and aware)")
    local_day = at.astimezone(ZoneInfo(schedule.time_zone)).date()
    if local_day in schedule.holidays:
        return schedule.holiday_menu_id or schedule.after_hours_menu_id
    if is_open(schedule, at):
        return schedule.menu_id
    return schedule.after_hours_menu_id


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- one menu's keys ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Step:
    """What the app does next: ``menu`` say the menu (again) and wait; ``invalid`` say "invalid",
    then the menu; ``go`` leave for ``destination`` (after "invalid" when ``invalid`` is set)."""

    kind: str
    destination: Destination | None = None
    said_invalid: bool = False


class MenuMachine:
    """Keys and time-outs of one menu in, steps out. A new menu (sub-menu) gets a new machine."""

    def __init__(self, menu: Menu) -> None:
        self.menu = menu
        self.invalid = 0
        self.timeouts = 0

    def start(self) -> Step:
        return Step("menu")

    def on_digit(self, digit: str) -> Step:
        self.timeouts = 0
        option = self.menu.options.get(digit)
        if option is None:
            self.invalid += 1
            if self.invalid >= self.menu.max_invalid:
                return Step("go", self.menu.invalid, said_invalid=True)
            return Step("invalid")
        if option.action == REPEAT:
            return Step("menu")
        return Step("go", Destination(option.action, option.target))

    def on_timeout(self) -> Step:
        self.timeouts += 1
        if self.timeouts == 1:
            return Step("menu")  # say it once more: the caller may have missed it
        return Step("go", self.menu.timeout)

    def on_refused(self) -> Step:
        """The switch would not take the call there (404 to the REFER): like an invalid key."""
        return self.on_digit("\x00")


def refer_target(menu: Menu, destination: Destination) -> str | None:
    """The Refer-To user part for a destination the switch routes, or None (hang up; or the app
    handles it itself: sub-menu, dial by name, repeat)."""
    action, target = destination.action, destination.target
    if action in (EXTENSION, HUNT_GROUP):
        return target or None
    if action == OPERATOR:
        return target or menu.operator_extension or None
    if action == VOICEMAIL:
        return f"vm-deposit.{target}" if target else None
    return None


def option_label(option: Option) -> str:
    """What the menu says for an option: its label, else a default naming the action."""
    if option.label:
        return option.label
    if option.action in (EXTENSION, HUNT_GROUP) and option.target:
        return "extension " + " ".join(option.target)
    return {
        VOICEMAIL: "voicemail",
        DIAL_BY_NAME: "the company directory",
        OPERATOR: "the operator",
        SUB_MENU: "more choices",
        REPEAT: "to hear these choices again",
    }.get(option.action, option.action.replace("_", " "))


def menu_sentences(menu: Menu) -> list[str]:
    """The options in key order (digits, then * and #), one sentence each."""
    order = {d: i for i, d in enumerate(OPTION_DIGITS)}
    out = []
    for digit in sorted(menu.options, key=lambda d: order.get(d, 99)):
        option = menu.options[digit]
        key = {"*": "star", "#": "pound"}.get(digit, digit)
        label = option_label(option)
        out.append(
            f"{label[0].upper()}{label[1:]}, press {key}."
            if option.action == REPEAT
            else f"For {label}, press {key}."
        )
    return out


# -- dial by name ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Listing:
    user_id: uuid.UUID
    name: str
    extension: str


def last_name(name: str) -> str:
    words = [w for w in name.replace(",", " ").split() if any(c.isalpha() for c in w)]
    return words[-1] if words else ""


def keypad_digits(text: str) -> str:
    """Letters as keypad digits; anything else is skipped (O'Brien -> 62744)."""
    return "".join(KEYPAD[c] for c in text.upper() if c in KEYPAD)


def match_names(listings: Iterable[Listing], keys: str) -> list[Listing]:
    """Users whose last name starts with the letters the keys spell, by last then full name."""
    keys = "".join(k for k in keys if k in "23456789")
    if not keys:
        return []
    found = [entry for entry in listings if keypad_digits(last_name(entry.name))[: len(keys)] == keys]
    return sorted(found, key=lambda e: (last_name(e.name).lower(), e.name.lower(), e.extension))


def choices_sentences(matches: list[Listing]) -> list[str]:
    return [f"For {m.name}, press {i}." for i, m in enumerate(matches[:MAX_NAME_CHOICES], start=1)]
