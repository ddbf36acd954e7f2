"""The voicemail retrieval menu as a state machine, without sockets: each test is what a caller
presses and what they would hear and what the store is asked to do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from centrex.apps.vm_menu import (
    ChangePin,
    DeleteMessage,
    Hangup,
    Login,
    LoginResult,
    MessageRef,
    Play,
    PlayMessage,
    Record,
    SetFolder,
    State,
    VoicemailMenu,
    Wait,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def msgs(*folders: str, caller: str = "2001") -> tuple[MessageRef, ...]:
    return tuple(
        MessageRef(uuid.UUID(int=i + 1), caller, T0 + timedelta(minutes=i), 4000, f)
        for i, f in enumerate(folders)
    )


def press(menu: VoicemailMenu, keys: str) -> list[object]:
    out: list[object] = []
    for k in keys:
        out = list(menu.on_digit(k))
    return out


def said(actions: list[object]) -> list[str]:
    return [p for a in actions if isinstance(a, Play) for p in a.prompts]


def logged_in(
    messages: tuple[MessageRef, ...] = (), ask_mailbox: bool = False
) -> tuple[VoicemailMenu, list[object]]:
    menu = VoicemailMenu(ask_mailbox=ask_mailbox)
    menu.start()
    if ask_mailbox:
        press(menu, "1001#")
    assert press(menu, "2468#") == [Login("1001" if ask_mailbox else None, "2468")]
    return menu, list(menu.on_login(LoginResult(messages)))


def test_vm_main_asks_the_pin_then_says_the_counts_and_the_menu() -> None:
    menu = VoicemailMenu(ask_mailbox=False)
    first = menu.start()
    assert said(first) == ["vm-enter-pin"] and isinstance(first[-1], Wait)
    assert press(menu, "24") == [Wait(4.0)]  # between keys: the shorter pause
    assert press(menu, "68#") == [Login(None, "2468")]
    out = menu.on_login(LoginResult(msgs("new", "new", "saved")))
    assert said(out) == [
        "vm-you-have",
        "num-2",
        "vm-new-messages",
        "vm-and",
        "num-1",
        "vm-saved-message",
        "vm-main-menu",
    ]
    assert menu.state is State.MAIN


def test_vm_login_asks_the_mailbox_first() -> None:
    menu = VoicemailMenu(ask_mailbox=True)
    assert said(menu.start()) == ["vm-enter-mailbox"]
    assert said(press(menu, "1001#")) == ["vm-enter-pin"]
    assert press(menu, "2468#") == [Login("1001", "2468")]


def test_three_wrong_pins_hang_up() -> None:
    menu = VoicemailMenu(ask_mailbox=False)
    menu.start()
    for attempt in (1, 2):
        assert press(menu, "1111#") == [Login(None, "1111")]
        out = menu.on_login(None)
        assert said(out) == ["vm-login-incorrect", "vm-enter-pin"], attempt
    press(menu, "1111#")
    out = menu.on_login(None)
    assert said(out) == ["vm-login-incorrect", "vm-goodbye"] and out[-1] == Hangup()
    assert menu.state is State.DONE
    assert menu.on_digit("1") == []  # nothing more once done


def test_wrong_login_by_mailbox_number_starts_over_from_the_mailbox() -> None:
    menu = VoicemailMenu(ask_mailbox=True)
    menu.start()
    press(menu, "1009#")
    press(menu, "0000#")
    assert said(menu.on_login(None)) == ["vm-login-incorrect", "vm-enter-mailbox"]


def test_star_clears_a_half_entered_pin_and_a_pause_ends_it() -> None:
    menu = VoicemailMenu(ask_mailbox=False)
    menu.start()
    press(menu, "99")
    assert said(menu.on_digit("*")) == ["vm-enter-pin"]
    press(menu, "2468")
    assert menu.on_timeout() == [Login(None, "2468")]


def test_no_key_three_times_hangs_up() -> None:
    menu = VoicemailMenu(ask_mailbox=False)
    menu.start()
    assert said(menu.on_timeout()) == ["vm-enter-pin"]
    assert said(menu.on_timeout()) == ["vm-enter-pin"]
    assert menu.on_timeout()[-1] == Hangup()


def test_vm_main_without_a_pin_logs_in_at_once() -> None:
    menu = VoicemailMenu(ask_mailbox=False, pin_required=False)
    assert menu.start() == [Login(None, None)]
    assert menu.on_login(None)[-1] == Hangup()  # refused: no second chance without a PIN prompt


def test_new_messages_play_with_their_envelope_and_hearing_one_saves_it() -> None:
    m = msgs("new", "new", caller="+12175550100")
    menu, _ = logged_in(m)
    out = press(menu, "1")
    assert said(out)[:4] == ["vm-message", "num-1", "vm-from", "digit-1"]
    assert out[-1] == PlayMessage(m[0].id)
    after = menu.on_message_end()
    assert after[0] == SetFolder(m[0].id, "saved")
    assert said(after) == ["vm-message-options"] and isinstance(after[-1], Wait)
    assert not any(isinstance(a, SetFolder) for a in menu.on_message_end())  # saved once
    out = press(menu, "6")
    assert out[-1] == PlayMessage(m[1].id) and "num-2" in said(out)


def test_delete_save_previous_next_and_back() -> None:
    m = msgs("new", "new", "new")
    menu, _ = logged_in(m)
    press(menu, "1")
    out = press(menu, "7")  # delete the first while it plays
    assert out[0] == DeleteMessage(m[0].id)
    assert said(out)[0] == "vm-deleted" and out[-1] == PlayMessage(m[1].id)
    assert "num-1" in said(out)  # what was the second is now message 1
    out = press(menu, "9")
    assert out[0] == SetFolder(m[1].id, "saved") and out[-1] == PlayMessage(m[2].id)
    out = press(menu, "4")
    assert out[-1] == PlayMessage(m[1].id)
    out = press(menu, "4")
    assert said(out)[0] == "vm-no-previous" and out[-1] == PlayMessage(m[1].id)
    out = press(menu, "5")
    assert out[-1] == PlayMessage(m[1].id)
    press(menu, "#")  # skip to the last one
    out = press(menu, "6")
    assert said(out) == ["vm-no-more-messages", "vm-main-menu"] and menu.state is State.MAIN
    out = press(menu, "2")  # saved folder: the one saved with 9
    assert out[-1] == PlayMessage(m[1].id)
    assert said(press(menu, "*")) == ["vm-main-menu"]
    assert press(menu, "*")[-1] == Hangup()


def test_an_empty_folder_says_so() -> None:
    menu, _ = logged_in(msgs("saved"))
    assert said(press(menu, "1")) == ["vm-you-have", "vm-no", "vm-new-messages", "vm-main-menu"]
    assert said(press(menu, "8")) == ["vm-invalid", "vm-main-menu"]


def test_record_greetings_from_the_options() -> None:
    menu, _ = logged_in()
    assert said(press(menu, "0")) == ["vm-options-menu"]
    out = press(menu, "1")
    assert out == [Play(("vm-record-greeting",)), Record("busy")]
    assert said(menu.on_recorded(True)) == ["vm-greeting-saved", "vm-options-menu"]
    out = press(menu, "2")
    assert out[-1] == Record("unavailable")
    assert press(menu, "#") == [Record("unavailable")]  # a key skips the instructions
    assert said(menu.on_recorded(False)) == ["vm-greeting-too-short", "vm-options-menu"]
    assert said(press(menu, "*")) == ["vm-main-menu"]


def test_change_pin_twice_entered() -> None:
    menu, _ = logged_in()
    press(menu, "0")
    assert said(press(menu, "5")) == ["vm-enter-new-pin"]
    assert said(press(menu, "97531#")) == ["vm-reenter-pin"]
    out = press(menu, "97531#")
    assert out[0] == ChangePin("97531") and said(out) == ["vm-pin-changed", "vm-options-menu"]


def test_change_pin_refused_when_short_or_different() -> None:
    menu, _ = logged_in()
    press(menu, "05")
    assert said(press(menu, "123#")) == ["vm-pin-invalid", "vm-options-menu"]
    press(menu, "5")
    press(menu, "4444#")
    out = press(menu, "4445#")
    assert not any(isinstance(a, ChangePin) for a in out)
    assert said(out) == ["vm-pin-mismatch", "vm-options-menu"]


def test_goodbye_cannot_be_interrupted() -> None:
    menu, _ = logged_in()
    out = press(menu, "*")
    assert out == [Play(("vm-goodbye",), interruptible=False), Hangup()]


def test_counts_up_to_99_in_words_and_more_as_digits() -> None:
    many = msgs(*(["new"] * 21))
    _, out = logged_in(many)
    assert said(out)[1:3] == ["num-20", "num-1"]
    _, out = logged_in(msgs(*(["saved"] * 120)))
    assert said(out)[1:4] == ["vm-no", "vm-new-messages", "vm-and"]
    assert said(out)[4:7] == ["digit-1", "digit-2", "digit-0"]
