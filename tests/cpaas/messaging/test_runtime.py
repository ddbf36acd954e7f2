"""The sms_carrier setting: "simulator" starts the built-in SMSC and binds the SMPP connector to it
(what serve does), smpp:// and http(s):// name a carrier, anything else is a clear error."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from centrex.config import load_settings
from centrex.cpaas.messaging.http_connector import HttpConnector
from centrex.cpaas.messaging.runtime import connector_for, start_messaging
from centrex.cpaas.messaging.smpp_connector import SmppConnector
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import NumberStatus, PhoneNumber, Tenant
from centrex.store.models.messaging import A2pRegistration, SmsMessage


def test_settings_name_the_carrier() -> None:
    s = load_settings(sms_carrier="simulator", sms_simulator_failing="+15005550009, +15005550010")
    assert s.sms_carrier == "simulator" and s.sms_simulator_failing == ("+15005550009", "+15005550010")
    smpp, sim = connector_for("smpp://esme%40co:p%3Ass@smsc.example.net:2775")
    assert isinstance(smpp, SmppConnector) and sim is None
    assert (smpp.host, smpp.port, smpp.system_id, smpp.password) == (
        "smsc.example.net",
        2775,
        "esme@co",
        "p:ss",
    )
    http, _ = connector_for("https://carrier.example.net/v1", token="k")
    assert isinstance(http, HttpConnector) and http.token == "k"
    http.stop()
    with pytest.raises(ValueError, match="smpp://system_id:password@host:port"):
        connector_for("smpp://smsc.example.net")
    with pytest.raises(ValueError, match="expected '', 'simulator'"):
        connector_for("carrier-pigeon")


def test_the_simulator_carrier_delivers(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    number = "+12175550100"
    with transaction(sessions) as s:
        tenant = Tenant(name="Sim Co", sip_domain="sim.example.com")
        s.add(tenant)
        s.flush()
        tenant_id = tenant.id
        s.add(PhoneNumber(e164=number, tenant_id=tenant_id, status=NumberStatus.ASSIGNED))
        s.add(A2pRegistration(tenant_id=tenant_id, kind="10dlc", status="approved", numbers=[number]))
    running = start_messaging(sessions, "simulator", failing=("+15005550009",))
    try:
        assert running.simulator is not None and running.simulator.port > 0
        connector = running.messenger.connector
        assert isinstance(connector, SmppConnector) and connector.wait_bound(30)
        ok = running.messenger.send(tenant_id, number, "+16175551234", "hello")
        bad = running.messenger.send(tenant_id, number, "+15005550009", "hello")
        deadline = time.monotonic() + 30
        while True:
            with sessions() as s:
                got = {r.sid: r.status for r in s.scalars(select(SmsMessage))}
            if got == {ok.sid: "delivered", bad.sid: "undelivered"} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert got == {ok.sid: "delivered", bad.sid: "undelivered"}
    finally:
        running.stop()
        engine.dispose()
