"""CTIA keywords and SMPP delivery receipts (reference cpaas-e911-numbers.md §2.2, §2.4)."""

from __future__ import annotations

import pytest

from centrex.cpaas.messaging.dlr import parse_receipt
from centrex.cpaas.messaging.keywords import Keyword, classify, reply


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stop. ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
)
def test_opt_out_words(word: str) -> None:
    assert classify(word) == (Keyword.STOP, word.strip().strip(".").upper())


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("START", Keyword.START),
        ("unstop", Keyword.START),
        ("YES", Keyword.START),
        ("help", Keyword.HELP),
        ("INFO", Keyword.HELP),
    ],
)
def test_opt_in_and_help_words(word: str, kind: Keyword) -> None:
    assert classify(word) is not None and classify(word)[0] is kind  # type: ignore[index]


def test_a_sentence_is_not_a_keyword() -> None:
    assert classify("please stop by tomorrow") is None and classify("") is None


def test_replies_say_what_ctia_requires() -> None:
    assert "unsubscribed" in reply(Keyword.STOP, "Demo Co") and "START" in reply(Keyword.STOP, "Demo Co")
    help_text = reply(Keyword.HELP, "Demo Co", "support@demo.test")
    assert "Demo Co" in help_text and "STOP" in help_text and "Msg&data rates may apply" in help_text


def test_receipt_text_and_tlvs() -> None:
    text = b"id:0001234 sub:001 dlvrd:001 submit date:2612061900 done date:2612061901 stat:DELIVRD err:000"
    r = parse_receipt(text)
    assert r is not None and (r.carrier_id, r.stat) == ("1234", "DELIVRD")
    r = parse_receipt(b"", receipted_message_id=b"00ABC", message_state=5)  # TLVs win: UNDELIV
    assert r is not None and (r.carrier_id, r.stat) == ("abc", "UNDELIV")
    assert parse_receipt(b"nonsense") is None
