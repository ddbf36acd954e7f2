"""What the apps say: the prompt catalogue (key -> English text) and how numbers and digits are
said by joining prompts. Pure data and functions; prompts.py turns keys into audio."""

from __future__ import annotations

DIGIT_NAMES = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "*": "star",
    "#": "pound",
}
_SMALL = [
    *list(DIGIT_NAMES.values())[:10],
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty"}
_TENS[90] = "ninety"

TEXTS: dict[str, str] = {
    # deposit
    "vm-person-at-extension": "The person at extension",
    "vm-is-busy": "is on the phone.",
    "vm-is-unavailable": "is not available.",
    "vm-leave-message": (
        "Please leave your message after the tone. When you are done, hang up or press pound."
    ),
    "vm-message-recorded": "Your message has been recorded.",
    "vm-message-too-short": "Your message was too short and was not recorded.",
    # login
    "vm-enter-mailbox": "Please enter your mailbox number, then press pound.",
    "vm-enter-pin": "Please enter your password, then press pound.",
    "vm-login-incorrect": "Login incorrect.",
    "vm-goodbye": "Goodbye.",
    # main menu
    "vm-you-have": "You have",
    "vm-no": "no",
    "vm-and": "and",
    "vm-new-message": "new message",
    "vm-new-messages": "new messages",
    "vm-saved-message": "saved message",
    "vm-saved-messages": "saved messages",
    "vm-main-menu": (
        "For new messages, press 1. For saved messages, press 2. For mailbox options, press 0. "
        "To exit, press star."
    ),
    "vm-invalid": "That is not a valid choice.",
    # messages
    "vm-message": "Message",
    "vm-from": "from",
    "vm-unknown-caller": "an unknown caller",
    "vm-message-options": (
        "To delete this message, press 7. To save it, press 9. To hear it again, press 5. "
        "For the previous message, press 4. For the next message, press 6. For the main menu, press star."
    ),
    "vm-deleted": "Message deleted.",
    "vm-saved": "Message saved.",
    "vm-no-more-messages": "There are no more messages.",
    "vm-no-previous": "There is no previous message.",
    # mailbox options
    "vm-options-menu": (
        "To record your busy greeting, press 1. To record your unavailable greeting, press 2. "
        "To change your password, press 5. For the main menu, press star."
    ),
    "vm-record-greeting": "Record your greeting after the tone. When you are done, press pound.",
    "vm-greeting-saved": "Your greeting has been saved.",
    "vm-greeting-too-short": "Your greeting was too short and was not saved.",
    "vm-enter-new-pin": "Please enter a new password of 4 to 10 digits, then press pound.",
    "vm-reenter-pin": "Please enter the new password again, then press pound.",
    "vm-pin-invalid": "A password must have 4 to 10 digits. Your password was not changed.",
    "vm-pin-mismatch": "The passwords did not match. Your password was not changed.",
    "vm-pin-changed": "Your password has been changed.",
    # call-center queues: said by the switch over the hold music, then the number (say_number)
    "queue-you-are-caller": "You are caller number",
}


def digit_key(d: str) -> str:
    return "digit-star" if d == "*" else "digit-pound" if d == "#" else f"digit-{d}"


TEXTS.update({digit_key(d): name for d, name in DIGIT_NAMES.items()})
TEXTS.update({f"num-{i}": w for i, w in enumerate(_SMALL)})
TEXTS.update({f"num-{n}": w for n, w in _TENS.items()})


def say_digits(text: str) -> tuple[str, ...]:
    """Each digit of an extension or number said on its own ("one zero zero two"); other characters
    (+, letters) are skipped."""
    return tuple(digit_key(d) for d in text if d in DIGIT_NAMES)


def say_number(n: int) -> tuple[str, ...]:
    """A count as words up to 99 ("twenty one"); larger counts digit by digit."""
    if n < 0:
        raise ValueError(f"n: {n} is negative")
    if n < 20:
        return (f"num-{n}",)
    if n < 100:
        tens, ones = divmod(n, 10)
        return (f"num-{tens * 10}",) + ((f"num-{ones}",) if ones else ())
    return say_digits(str(n))
