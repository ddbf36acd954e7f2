"""The account SID and auth token (issue 16 §2) and the request signature (§3)."""

from __future__ import annotations

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from centrex.cpaas.signing import twilio_signature, valid_twilio_signature
from tests.cpaas.conftest import LiveApi

# Twilio's published example (docs "Webhooks security"; /work/shared/reference cpaas-e911-numbers.md §1.3).
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


def test_signature_matches_twilios_published_vector() -> None:
    assert twilio_signature("12345", VECTOR_URL, VECTOR_PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert valid_twilio_signature("12345", VECTOR_URL, VECTOR_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not valid_twilio_signature("12346", VECTOR_URL, VECTOR_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_the_twilio_package_validates_our_signature() -> None:
    params = {"CallSid": "CA" + "0" * 32, "From": "+12125550100", "To": "+12125550111", "Digits": "7"}
    url = "http://127.0.0.1:8080/voice?x=1"
    assert RequestValidator("0123456789abcdef0123456789abcdef").validate(
        url, params, twilio_signature("0123456789abcdef0123456789abcdef", url, params)
    )


def test_demo_prints_the_account_and_the_package_fetches_it(live_api: LiveApi) -> None:
    assert live_api.account_sid.startswith("AC") and len(live_api.account_sid) == 34
    account = live_api.twilio().api.v2010.accounts(live_api.account_sid).fetch()
    assert account.sid == live_api.account_sid
    assert account.status == "active"


def test_wrong_token_is_refused_in_twilios_shape(live_api: LiveApi) -> None:
    client = live_api.twilio(token="f" * 32)
    with pytest.raises(TwilioRestException) as err:
        client.api.v2010.accounts(live_api.account_sid).fetch()
    assert err.value.status == 401 and err.value.code == 20003
    unknown = live_api.twilio(sid="AC" + "1" * 32, token="f" * 32)
    with pytest.raises(TwilioRestException) as err2:
        unknown.api.v2010.accounts("AC" + "1" * 32).fetch()
    assert err2.value.status == 401 and err2.value.code == 20003  # an unknown SID looks the same


def test_another_accounts_path_is_not_found(live_api: LiveApi) -> None:
    r = httpx.get(
        f"{live_api.base}/2010-04-01/Accounts/AC{'2' * 32}.json",
        auth=(live_api.account_sid, live_api.auth_token),
    )
    assert r.status_code == 404 and r.json()["code"] == 20404


def test_rotating_the_token_stops_the_old_one(live_api: LiveApi) -> None:
    url = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/cpaas/account"
    shown = httpx.get(url, headers=live_api.operator).json()
    assert shown == {
        "account_sid": live_api.account_sid,
        "auth_token": live_api.auth_token,
        "api_base_url": "/2010-04-01",
    }
    # An office administrator is not a developer: the token is a developer's secret.
    assert httpx.get(url, headers=live_api.admin).status_code == 403
    new = httpx.post(url + "/rotate", headers=live_api.operator).json()
    assert new["account_sid"] == live_api.account_sid and new["auth_token"] != live_api.auth_token
    fetch = f"{live_api.base}/2010-04-01/Accounts/{live_api.account_sid}.json"
    assert httpx.get(fetch, auth=(live_api.account_sid, live_api.auth_token)).status_code == 401
    assert httpx.get(fetch, auth=(live_api.account_sid, new["auth_token"])).status_code == 200
