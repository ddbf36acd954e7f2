"""The voicemail retrieval menu as a pure state machine (no sockets, no clock, no store).

The runtime (voicemail.py) feeds it events — ``start()``, ``on_digit``, ``on_timeout``,
``on_login``, ``on_message_end``, ``on_recorded`` — and carries out the actions it returns, in
order. Effects (``SetFolder``, ``DeleteMessage``, ``ChangePin``) come first in a list; then prompts
(``Play``, interrupted by any key: the key goes to ``on_digit`` and the rest of the list is dropped);
a list ends with the point where the machine waits: ``Wait`` (a key or a time-out), ``PlayMessage``
(a key or its end), ``Record``, ``Login`` (the store's answer) or ``Hangup``.

The menu (issue 4 point 2):
- vm-login asks the mailbox number then the PIN; vm-main asks only the PIN (the switch says whose
  mailbox it is). Three failed logins: goodbye.
- main menu: 1 new messages, 2 saved messages, 0 mailbox options, * exit.
- in a message (while it plays or after): 7 delete, 9 save, 5 replay, 4 previous, 6 or # next,
  * main menu. A new message heard to its end is saved (it is no longer new).
- mailbox options: 1 record the busy greeting, 2 the unavailable (no-answer) greeting, 5 change the
  PIN (4 to 10 digits, entered twice), * back.
- entering digits: # ends, * starts again; a pause ends it too. Three time-outs without a key: goodbye.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from centrex.apps.phrases import say_digits, say_number

MAX_FAILED_LOGINS = 3
MAX_TIMEOUTS = 3
PIN_MIN, PIN_MAX = 4, 10


# -- what the machine is told -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MessageRef:
    id: uuid.UUID
    caller: str
    received_at: datetime
    duration_ms: int
    folder: str  # new / saved


@dataclass(frozen=True, slots=True)
class LoginResult:
    messages: tuple[MessageRef, ...]  # oldest first


# -- what the machine asks for --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Play:
    prompts: tuple[str, ...]
    interruptible: bool = True


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


@dataclass(frozen=True, slots=True)
class PlayMessage:
    message_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Record:
    greeting: str  # busy / unavailable


@dataclass(frozen=True, slots=True)
class Login:
    extension: str | None  # None: the mailbox the switch named (vm-main)
    pin: str | None  # None: no PIN asked (vm-main on a mailbox without one)


@dataclass(frozen=True, slots=True)
class SetFolder:
    message_id: uuid.UUID
    folder: str


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    message_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ChangePin:
    pin: str


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


Action = Play | Wait | PlayMessage | Record | Login | SetFolder | DeleteMessage | ChangePin | Hangup
EFFECTS = (SetFolder, DeleteMessage, ChangePin)


class State(enum.Enum):
    ASK_MAILBOX = "ask_mailbox"
    ASK_PIN = "ask_pin"
    LOGGING_IN = "logging_in"
    MAIN = "main"
    MESSAGE = "message"
    OPTIONS = "options"
    RECORDING = "recording"
    NEW_PIN = "new_pin"
    CONFIRM_PIN = "confirm_pin"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Timing:
    first_digit_s: float = 6.0  # after a prompt, for the first key
    next_digit_s: float = 4.0  # between the keys of a number


@dataclass
class VoicemailMenu:
    """``ask_mailbox``: vm-login. ``pin_required``: False only for vm-main on a mailbox without a PIN."""

    ask_mailbox: bool
    pin_required: bool = True
    timing: Timing = field(default_factory=Timing)
    state: State = State.ASK_PIN
    failed_logins: int = 0
    timeouts: int = 0
    buffer: str = ""
    mailbox: str | None = None
    new_pin: str = ""
    messages: list[MessageRef] = field(default_factory=list)
    folder_of: dict[uuid.UUID, str] = field(default_factory=dict)
    folder: str = "new"
    current: list[MessageRef] = field(default_factory=list)
    index: int = 0
    heard: bool = False  # the current message played to its end
    greeting: str = "busy"  # the greeting being recorded

    # -- events -----------------------------------------------------------------------------------
    def start(self) -> list[Action]:
        if self.ask_mailbox:
            return self._ask(State.ASK_MAILBOX, "vm-enter-mailbox")
        if not self.pin_required:
            self.state = State.LOGGING_IN
            return [Login(None, None)]
        return self._ask(State.ASK_PIN, "vm-enter-pin")

    def on_digit(self, digit: str) -> list[Action]:
        self.timeouts = 0
        handler = {
            State.ASK_MAILBOX: self._entry,
            State.ASK_PIN: self._entry,
            State.NEW_PIN: self._entry,
            State.CONFIRM_PIN: self._entry,
            State.MAIN: self._main,
            State.MESSAGE: self._message,
            State.OPTIONS: self._options,
            State.RECORDING: self._recording,
        }.get(self.state)
        return handler(digit) if handler is not None else []

    def on_timeout(self) -> list[Action]:
        if self.state in (State.ASK_MAILBOX, State.ASK_PIN, State.NEW_PIN, State.CONFIRM_PIN) and self.buffer:
            return self._entry("#")  # a pause after some digits ends the entry
        self.timeouts += 1
        if self.timeouts >= MAX_TIMEOUTS:
            return self._goodbye()
        return self._reprompt()

    def on_login(self, result: LoginResult | None) -> list[Action]:
        if self.state is not State.LOGGING_IN:
            return []
        if result is None:
            self.failed_logins += 1
            if self.failed_logins >= MAX_FAILED_LOGINS or not self.pin_required:
                return self._goodbye("vm-login-incorrect")
            if self.ask_mailbox:
                return self._ask(State.ASK_MAILBOX, "vm-login-incorrect", "vm-enter-mailbox")
            return self._ask(State.ASK_PIN, "vm-login-incorrect", "vm-enter-pin")
        self.messages = list(result.messages)
        self.folder_of = {m.id: m.folder for m in self.messages}
        self.state = State.MAIN
        return [Play((*self._summary(), "vm-main-menu")), Wait(self.timing.first_digit_s)]

    def on_message_end(self) -> list[Action]:
        if self.state is not State.MESSAGE:
            return []
        msg = self.current[self.index]
        out: list[Action] = []
        if not self.heard and self.folder_of.get(msg.id) == "new":
            out.append(SetFolder(msg.id, "saved"))  # heard: no longer new
            self.folder_of[msg.id] = "saved"
        self.heard = True
        return [*out, Play(("vm-message-options",)), Wait(self.timing.first_digit_s)]

    def on_recorded(self, saved: bool) -> list[Action]:
        if self.state is not State.RECORDING:
            return []
        self.state = State.OPTIONS
        said = "vm-greeting-saved" if saved else "vm-greeting-too-short"
        return [Play((said, "vm-options-menu")), Wait(self.timing.first_digit_s)]

    # -- states -----------------------------------------------------------------------------------
    def _entry(self, digit: str) -> list[Action]:
        if digit == "*":
            self.buffer = ""
            return self._reprompt()
        if digit != "#":
            if digit.isdigit() and len(self.buffer) < PIN_MAX + 6:
                self.buffer += digit
            return [Wait(self.timing.next_digit_s)]
        entered, self.buffer = self.buffer, ""
        if not entered:
            return self._reprompt()
        if self.state is State.ASK_MAILBOX:
            self.mailbox = entered
            return self._ask(State.ASK_PIN, "vm-enter-pin")
        if self.state is State.ASK_PIN:
            self.state = State.LOGGING_IN
            return [Login(self.mailbox, entered)]
        if self.state is State.NEW_PIN:
            if not (PIN_MIN <= len(entered) <= PIN_MAX):
                return self._to_options("vm-pin-invalid")
            self.new_pin = entered
            return self._ask(State.CONFIRM_PIN, "vm-reenter-pin")
        # CONFIRM_PIN
        pin, self.new_pin = self.new_pin, ""
        if entered != pin:
            return self._to_options("vm-pin-mismatch")
        return [ChangePin(pin), *self._to_options("vm-pin-changed")]

    def _main(self, digit: str) -> list[Action]:
        if digit in ("1", "2"):
            self.folder = "new" if digit == "1" else "saved"
            self.current = [m for m in self.messages if self.folder_of.get(m.id) == self.folder]
            self.index = 0
            if not self.current:
                kind = "vm-new-messages" if self.folder == "new" else "vm-saved-messages"
                return [Play(("vm-you-have", "vm-no", kind, "vm-main-menu")), Wait(self.timing.first_digit_s)]
            return self._play_current()
        if digit == "0":
            return self._to_options()
        if digit == "*":
            return self._goodbye()
        return [Play(("vm-invalid", "vm-main-menu")), Wait(self.timing.first_digit_s)]

    def _message(self, digit: str) -> list[Action]:
        msg = self.current[self.index]
        if digit == "7":
            self.folder_of.pop(msg.id, None)
            self.messages = [m for m in self.messages if m.id != msg.id]
            del self.current[self.index]
            return [DeleteMessage(msg.id), Play(("vm-deleted",)), *self._at_index()]
        if digit == "9":
            out: list[Action] = []
            if self.folder_of.get(msg.id) != "saved":
                out.append(SetFolder(msg.id, "saved"))
                self.folder_of[msg.id] = "saved"
            self.index += 1
            return [*out, Play(("vm-saved",)), *self._at_index()]
        if digit in ("6", "#"):
            self.index += 1
            return self._at_index()
        if digit == "4":
            if self.index == 0:
                return [Play(("vm-no-previous",)), *self._play_current()]
            self.index -= 1
            return self._play_current()
        if digit == "5":
            return self._play_current()
        if digit == "*":
            return self._to_main()
        return [Play(("vm-invalid", "vm-message-options")), Wait(self.timing.first_digit_s)]

    def _options(self, digit: str) -> list[Action]:
        if digit in ("1", "2"):
            self.state = State.RECORDING
            self.greeting = "busy" if digit == "1" else "unavailable"
            return [Play(("vm-record-greeting",)), Record(self.greeting)]
        if digit == "5":
            return self._ask(State.NEW_PIN, "vm-enter-new-pin")
        if digit == "*":
            return self._to_main()
        return [Play(("vm-invalid", "vm-options-menu")), Wait(self.timing.first_digit_s)]

    def _recording(self, digit: str) -> list[Action]:
        return [Record(self.greeting)]  # a key during the instructions skips to the tone

    # -- helpers ----------------------------------------------------------------------------------
    def _ask(self, state: State, *prompts: str) -> list[Action]:
        self.state = state
        self.buffer = ""
        return [Play(prompts), Wait(self.timing.first_digit_s)]

    def _reprompt(self) -> list[Action]:
        prompt = {
            State.ASK_MAILBOX: "vm-enter-mailbox",
            State.ASK_PIN: "vm-enter-pin",
            State.NEW_PIN: "vm-enter-new-pin",
            State.CONFIRM_PIN: "vm-reenter-pin",
            State.MAIN: "vm-main-menu",
            State.MESSAGE: "vm-message-options",
            State.OPTIONS: "vm-options-menu",
        }.get(self.state)
        if prompt is None:
            return []
        return [Play((prompt,)), Wait(self.timing.first_digit_s)]

    def _summary(self) -> tuple[str, ...]:
        new = sum(1 for f in self.folder_of.values() if f == "new")
        saved = sum(1 for f in self.folder_of.values() if f == "saved")
        words: tuple[str, ...] = ("vm-you-have",)
        words += say_number(new) if new else ("vm-no",)
        words += ("vm-new-message" if new == 1 else "vm-new-messages", "vm-and")
        words += say_number(saved) if saved else ("vm-no",)
        words += ("vm-saved-message" if saved == 1 else "vm-saved-messages",)
        return words

    def _play_current(self) -> list[Action]:
        self.state = State.MESSAGE
        self.heard = False
        msg = self.current[self.index]
        caller = say_digits(msg.caller) or ("vm-unknown-caller",)
        envelope = ("vm-message", *say_number(self.index + 1), "vm-from", *caller)
        return [Play(envelope), PlayMessage(msg.id)]

    def _at_index(self) -> list[Action]:
        if self.index >= len(self.current):
            return [Play(("vm-no-more-messages",)), *self._to_main()]
        return self._play_current()

    def _to_main(self) -> list[Action]:
        self.state = State.MAIN
        return [Play(("vm-main-menu",)), Wait(self.timing.first_digit_s)]

    def _to_options(self, *first: str) -> list[Action]:
        self.state = State.OPTIONS
        return [Play((*first, "vm-options-menu")), Wait(self.timing.first_digit_s)]

    def _goodbye(self, *first: str) -> list[Action]:
        self.state = State.DONE
        return [Play((*first, "vm-goodbye"), interruptible=False), Hangup()]
