"""The attendant's rules without sockets: the schedule on real dates (business hours Mon-Fri 9-17
America/Chicago, Thanksgiving 2026 and Christmas as holidays, daylight saving), the key-press state
machine (option, time-out twice, invalid keys up to the limit), REFER targets and dial by name."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest

from centrex.apps import aa_menu as aa
from centrex.apps.aa_menu import Destination, Hours, Listing, Menu, MenuMachine, Option, Schedule

OPEN, NIGHT, HOLIDAY = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
WEEKDAYS = tuple(Hours(d, time(9), time(17)) for d in range(5))
CHICAGO = Schedule(
    OPEN,
    "America/Chicago",
    NIGHT,
    WEEKDAYS,
    frozenset({date(2026, 11, 26), date(2026, 12, 25)}),
    HOLIDAY,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "menu", "why"),
    [
        (utc(2026, 11, 25, 15, 30), OPEN, "Wednesday 09:30 CST"),
        (utc(2026, 11, 25, 14, 59), NIGHT, "Wednesday 08:59 CST: not yet open"),
        (utc(2026, 11, 25, 15, 0), OPEN, "Wednesday 09:00 CST: opens"),
        (utc(2026, 11, 25, 22, 59), OPEN, "Wednesday 16:59 CST"),
        (utc(2026, 11, 25, 23, 0), NIGHT, "Wednesday 17:00 CST: closed (closes is exclusive)"),
        (utc(2026, 11, 26, 16, 0), HOLIDAY, "Thanksgiving 10:00 CST"),
        (utc(2026, 11, 27, 5, 59), HOLIDAY, "Thanksgiving 23:59 CST is still the holiday in Chicago"),
        (utc(2026, 11, 27, 16, 0), OPEN, "Friday after Thanksgiving 10:00 CST"),
        (utc(2026, 11, 28, 16, 0), NIGHT, "Saturday"),
        (utc(2026, 11, 30, 2, 0), NIGHT, "Sunday 20:00 CST (Monday in UTC)"),
        (utc(2026, 7, 6, 14, 30), OPEN, "Monday 09:30 CDT in summer (UTC-5)"),
        (utc(2026, 12, 7, 14, 30), NIGHT, "Monday 08:30 CST in winter (UTC-6): same UTC time, closed"),
        (utc(2026, 12, 25, 3, 0), NIGHT, "Christmas Eve 21:00 CST (already the 25th in UTC)"),
        (utc(2026, 12, 25, 6, 0), HOLIDAY, "Christmas 00:00 CST"),
    ],
)
def test_the_schedule_picks_the_menu_by_chicago_time(at: datetime, menu: uuid.UUID, why: str) -> None:
    assert aa.active_menu(CHICAGO, at) == menu, why


def test_without_a_holiday_menu_holidays_get_the_after_hours_menu() -> None:
    schedule = Schedule(OPEN, "America/Chicago", NIGHT, WEEKDAYS, frozenset({date(2026, 11, 26)}))
    assert aa.active_menu(schedule, utc(2026, 11, 26, 16, 0)) == NIGHT


def test_hours_to_midnight_and_naive_times_refused() -> None:
    late = Schedule(OPEN, "America/Chicago", NIGHT, (Hours(5, time(18), time(0)),))
    assert aa.active_menu(late, utc(2026, 11, 29, 5, 30)) == OPEN  # Saturday 23:30 CST
    assert aa.active_menu(late, utc(2026, 11, 28, 23, 30)) == NIGHT  # Saturday 17:30 CST
    with pytest.raises(ValueError, match="naive"):
        aa.active_menu(CHICAGO, datetime(2026, 11, 25, 15, 30))


def menu(**kw: object) -> Menu:
    options = {
        "1": Option("1", aa.EXTENSION, "1001", "sales"),
        "2": Option("2", aa.HUNT_GROUP, "2000"),
        "3": Option("3", aa.VOICEMAIL, "11111111-2222-3333-4444-555555555555"),
        "4": Option("4", aa.SUB_MENU, str(NIGHT)),
        "5": Option("5", aa.DIAL_BY_NAME),
        "0": Option("0", aa.OPERATOR),
        "9": Option("9", aa.REPEAT),
    }
    values: dict[str, object] = {
        "id": OPEN,
        "tenant_id": uuid.uuid4(),
        "name": "Main",
        "options": options,
        "operator_extension": "1000",
        "timeout": Destination(aa.OPERATOR),
        "invalid": Destination(aa.HANGUP),
        "max_invalid": 3,
    }
    values.update(kw)
    return Menu(**values)  # type: ignore[arg-type]


def test_a_key_chooses_its_option_and_nine_repeats() -> None:
    m = MenuMachine(menu())
    assert m.start().kind == "menu"
    assert m.on_digit("9").kind == "menu"
    step = m.on_digit("1")
    assert step.kind == "go" and step.destination == Destination(aa.EXTENSION, "1001")


def test_silence_repeats_the_menu_once_then_goes_to_the_timeout_destination() -> None:
    m = MenuMachine(menu())
    assert m.on_timeout().kind == "menu"
    step = m.on_timeout()
    assert step.kind == "go" and step.destination == Destination(aa.OPERATOR)
    assert aa.refer_target(m.menu, step.destination) == "1000"


def test_invalid_keys_say_invalid_and_repeat_until_the_third_goes_to_the_invalid_destination() -> None:
    m = MenuMachine(menu())
    assert m.on_digit("7").kind == "invalid"
    assert m.on_digit("#").kind == "invalid"
    step = m.on_digit("8")
    assert step.kind == "go" and step.said_invalid and step.destination == Destination(aa.HANGUP)
    assert aa.refer_target(m.menu, step.destination) is None  # goodbye


def test_max_invalid_one_and_a_refused_transfer_counts_as_invalid() -> None:
    m = MenuMachine(menu(max_invalid=2, invalid=Destination(aa.EXTENSION, "1002")))
    assert m.on_refused().kind == "invalid"
    step = m.on_digit("6")
    assert step.destination == Destination(aa.EXTENSION, "1002")


def test_refer_targets() -> None:
    m = menu()
    assert aa.refer_target(m, Destination(aa.EXTENSION, "1001")) == "1001"
    assert aa.refer_target(m, Destination(aa.HUNT_GROUP, "2000")) == "2000"
    assert aa.refer_target(m, Destination(aa.VOICEMAIL, "u-1")) == "vm-deposit.u-1"
    assert aa.refer_target(m, Destination(aa.OPERATOR)) == "1000"
    assert aa.refer_target(menu(operator_extension=None), Destination(aa.OPERATOR)) is None
    assert aa.refer_target(m, Destination(aa.SUB_MENU, str(NIGHT))) is None  # the app switches menus


def test_the_menu_is_said_in_key_order_with_labels_or_defaults() -> None:
    assert aa.menu_sentences(menu()) == [
        "For the operator, press 0.",
        "For sales, press 1.",
        "For extension 2 0 0 0, press 2.",
        "For voicemail, press 3.",
        "For more choices, press 4.",
        "For the company directory, press 5.",
        "To hear these choices again, press 9.",
    ]


DIRECTORY = [
    Listing(uuid.uuid4(), "Alice Smith", "1001"),
    Listing(uuid.uuid4(), "Bob Smithers", "1002"),
    Listing(uuid.uuid4(), "Carol Jones", "1003"),
    Listing(uuid.uuid4(), "Dan O'Brien", "1004"),
    Listing(uuid.uuid4(), "Erin Ng", "1005"),
]


def test_dial_by_name_on_the_keypad() -> None:
    assert aa.keypad_digits("Smith") == "76484"
    assert aa.keypad_digits("O'Brien") == "627436"
    assert [e.extension for e in aa.match_names(DIRECTORY, "566")] == ["1003"]  # J-O-N
    assert [e.extension for e in aa.match_names(DIRECTORY, "764")] == ["1001", "1002"]  # S-M-I
    assert [e.extension for e in aa.match_names(DIRECTORY, "627")] == ["1004"]  # O-B-R
    assert [e.extension for e in aa.match_names(DIRECTORY, "64")] == ["1005"]  # N-G, then #
    assert aa.match_names(DIRECTORY, "999") == []
    assert aa.match_names(DIRECTORY, "") == []
    assert aa.choices_sentences(aa.match_names(DIRECTORY, "764")) == [
        "For Alice Smith, press 1.",
        "For Bob Smithers, press 2.",
    ]
