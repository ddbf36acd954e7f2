"""The 911 notice, its e-mail and its signed webhook (e911/notice.py), without sockets."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from centrex.e911.address import CivicAddress
from centrex.e911.notice import (
    EmergencyNotice,
    email_message,
    email_subject,
    new_signing_secret,
    signature_header,
    verify_signature,
    webhook_body,
    webhook_headers,
)

TENANT = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
AT = datetime(2026, 3, 4, 15, 16, 17, tzinfo=UTC)
SUITE = CivicAddress("100", "Main St", "Springfield", "IL", "62701", floor="2", room="210")


def notice(**changes: object) -> EmergencyNotice:
    values: dict[str, object] = {
        "tenant_id": TENANT,
        "call_id": "call-1",
        "at": AT,
        "caller_name": "Pat Doe",
        "extension": "2004",
        "callback": "+12175281234",
        "device": "2001",
        "location": SUITE,
        "location_source": "device",
        "psap": "Sangamon County 911",
        "tenant_name": "Tenant Alpha",
    }
    values.update(changes)
    return EmergencyNotice(**values)  # type: ignore[arg-type]


def test_the_email_says_who_called_the_callback_number_and_where() -> None:
    msg = email_message(notice(), "centrex-911@provider.example", "security@alpha.example.com")
    assert msg["Subject"] == (
        "911 call from Pat Doe (ext. 2004): 100 Main St, Floor 2, Room 210, Springfield, IL 62701"
    )
    assert msg["To"] == "security@alpha.example.com" and msg["X-Priority"] == "1"
    body = msg.get_content()
    for text in (
        "Caller:    Pat Doe",
        "Extension: 2004",
        "Callback:  +12175281234",
        "Location:  100 Main St, Floor 2, Room 210, Springfield, IL 62701",
        "PSAP:      Sangamon County 911",
        "2026-03-04 15:16:17 UTC",
        "the phone's registered location",
    ):
        assert text in body


def test_no_registered_location_is_said_plainly() -> None:
    n = notice(location=None, location_source="", callback=None, psap="")
    assert n.no_registered_location
    assert email_subject(n).endswith(": no registered location")
    body = email_message(n, "a@b.example", "c@d.example").get_content()
    assert "NO REGISTERED LOCATION" in body and "Callback:  none" in body
    data = json.loads(webhook_body(n))["data"]
    assert data["location_registered"] is False and data["location"] is None
    assert data["caller"]["callback_number"] is None


def test_webhook_body_carries_caller_number_and_location() -> None:
    payload = json.loads(webhook_body(notice()))
    assert payload["type"] == "e911.call" and payload["created"] == int(AT.timestamp())
    data = payload["data"]
    assert data["caller"] == {
        "name": "Pat Doe",
        "extension": "2004",
        "callback_number": "+12175281234",
        "device": "2001",
    }
    assert data["location_registered"] is True
    assert data["location"]["one_line"] == "100 Main St, Floor 2, Room 210, Springfield, IL 62701"
    assert data["location"]["floor"] == "2" and data["location"]["source"] == "device"
    assert data["at"] == "2026-03-04T15:16:17Z" and data["psap"] == "Sangamon County 911"


def test_the_notice_id_is_the_same_for_a_retry_and_differs_per_call() -> None:
    assert notice().notice_id == notice(caller_name="x").notice_id != notice(call_id="call-2").notice_id


def test_time_is_utc_and_numbers_are_e164() -> None:
    est = timezone(timedelta(hours=-5))
    assert notice(at=datetime(2026, 3, 4, 10, 16, 17, tzinfo=est)).at == AT
    with pytest.raises(ValueError, match="timezone-aware"):
        notice(at=datetime(2026, 3, 4, 15, 16, 17))
    with pytest.raises(ValueError, match=r"E\.164"):
        notice(callback="217-528-1234")


def test_signature_round_trip_and_what_it_refuses() -> None:
    secret = new_signing_secret()
    assert secret.startswith("whsec_") and len(secret) > 40 and new_signing_secret() != secret
    body = webhook_body(notice())
    headers = webhook_headers(notice(), body, secret, 1_772_637_377)
    header = headers["Centrex-Signature"]
    assert header.startswith("t=1772637377,v1=")
    assert verify_signature(secret, header, body, now=1_772_637_377 + 299)
    assert not verify_signature(secret, header, body, now=1_772_637_377 + 301)  # replayed late
    assert not verify_signature(secret, header, body + b" ", now=1_772_637_377)  # body changed
    assert not verify_signature("whsec_other", header, body, now=1_772_637_377)  # wrong key
    assert not verify_signature(secret, "v1=abc", body, now=1_772_637_377)  # no timestamp
    assert not verify_signature(secret, "garbage", body, now=1_772_637_377)
    # A rotated secret: the header may carry a signature per active secret; any one matching passes.
    rotated = header + ",v1=" + signature_header("whsec_new", 1_772_637_377, body).split("v1=")[1]
    assert verify_signature("whsec_new", rotated, body, now=1_772_637_377)
    assert verify_signature(secret, rotated, body, now=1_772_637_377)


def test_known_vector() -> None:
    """HMAC-SHA256("k", "1.{}") computed independently (openssl dgst -sha256 -hmac k)."""
    assert signature_header("k", 1, b"{}") == (
        "t=1,v1=" + "3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158"
    )


def test_a_contact_without_a_secret_gets_the_notice_unsigned() -> None:
    headers = webhook_headers(notice(), b"{}", None, 1)
    assert "Centrex-Signature" not in headers and headers["Centrex-Event"] == "e911.call"
