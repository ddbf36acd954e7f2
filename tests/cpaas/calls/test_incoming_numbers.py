"""IncomingPhoneNumbers through the official `twilio` package (issue 16 §2): a developer lists the
tenant's numbers and points one at its app by setting VoiceUrl — the number now routes to a voice
application with that URL (what the switch runs for a call to it: numbers.target_type 'app') —
and clears it again; another account's number is not found."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from centrex.store.db import transaction
from centrex.store.models import PhoneNumber, Tenant
from centrex.store.models.cpaas_voice import Application
from centrex.store.models.enums import NumberStatus
from tests.cpaas.conftest import LiveApi

pytestmark = pytest.mark.pg

NUMBER = "+12015550177"


def add_number(live_api: LiveApi) -> None:
    with transaction(live_api.app.state.sessionmaker) as s:
        tenant = s.scalar(select(Tenant.id))
        s.add(PhoneNumber(e164=NUMBER, tenant_id=tenant, status=NumberStatus.RESERVED))


def test_point_a_number_at_an_app_and_back(live_api: LiveApi) -> None:
    add_number(live_api)
    client = live_api.twilio()
    numbers = client.incoming_phone_numbers.list()
    assert NUMBER in [n.phone_number for n in numbers]
    number = client.incoming_phone_numbers.list(phone_number=NUMBER)[0]
    assert number.sid.startswith("PN") and number.voice_url is None
    updated = client.incoming_phone_numbers(number.sid).update(
        voice_url="https://app.example.com/voice",
        voice_method="GET",
        status_callback="https://app.example.com/status",
    )
    assert (updated.voice_url, updated.voice_method) == ("https://app.example.com/voice", "GET")
    assert updated.status_callback == "https://app.example.com/status"
    assert updated.voice_application_sid.startswith("AP")
    fetched = client.incoming_phone_numbers(number.sid).fetch()
    assert fetched.voice_url == "https://app.example.com/voice"
    assert client.incoming_phone_numbers.list(phone_number=NUMBER)[0].sid == number.sid
    with transaction(live_api.app.state.sessionmaker) as s:
        row = s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == NUMBER))
        assert row is not None and row.target_type == "app"
        app = s.get(Application, row.target_id)
        assert app is not None and (app.voice_url, app.voice_method) == (
            "https://app.example.com/voice",
            "GET",
        )
        assert app.sid == updated.voice_application_sid
    # Pointing it at "no application" leaves the app in place for others, the number unrouted.
    cleared = client.incoming_phone_numbers(number.sid).update(voice_application_sid="")
    assert cleared.voice_url is None and cleared.voice_application_sid is None
    with pytest.raises(TwilioRestException) as bad:
        client.incoming_phone_numbers(number.sid).update(voice_url="ftp://nope")
    assert bad.value.status == 400
    with pytest.raises(TwilioRestException) as missing:
        client.incoming_phone_numbers("PN" + "0" * 32).fetch()
    assert missing.value.status == 404
