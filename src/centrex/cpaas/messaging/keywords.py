"""CTIA keywords (reference cpaas-e911-numbers.md §2.2): a message that is exactly one of these words
(case-insensitive, surrounding spaces and punctuation ignored) changes consent for the number pair
and gets the standard reply.

- Opt-out: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (and Twilio's REVOKE, OPTOUT). The reply is
  a one-time confirmation with no marketing content.
- Opt back in: START, YES, UNSTOP.
- Help: HELP, INFO: the program name, a support contact, "Msg&data rates may apply", how to stop.
"""

from __future__ import annotations

from enum import StrEnum


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})


def classify(body: str) -> tuple[Keyword, str] | None:
    word = body.strip().strip(".!?").strip().upper()
    if word in OPT_OUT:
        return Keyword.STOP, word
    if word in OPT_IN:
        return Keyword.START, word
    if word in HELP:
        return Keyword.HELP, word
    return None


def reply(keyword: Keyword, program: str, contact: str = "") -> str:
    if keyword is Keyword.STOP:
        return (
            f"You have successfully been unsubscribed from {program}. You will not receive any more "
            "messages from this number. Reply START to resubscribe."
        )
    if keyword is Keyword.START:
        return (
            f"You have successfully been re-subscribed to messages from {program}. "
            "Reply HELP for help. Reply STOP to unsubscribe. Msg&data rates may apply."
        )
    help_contact = f" Contact {contact}." if contact else ""
    return (
        f"{program}: reply STOP to unsubscribe.{help_contact} Msg frequency varies. Msg&data rates may apply."
    )
