"""Flows on calls (issue 20 §1): the whole CPaaS call path of tests/cpaas/calls (the switch, the app
server with its <Dial> bridge, the API on a free port, SIPp phones) re-exported, plus a carrier
trunk whose SIPp caller plays a pcap (RFC 4733 digits) and waits for the flow to hang up, and the
helpers that make, publish and point a number at a flow."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from centrex.cpaas.flows import store
from centrex.cpaas.sids import new_sid
from centrex.cpaas.voice.lookup import ApplicationLookup
from centrex.pbx.apps import Apps
from centrex.store.db import transaction
from centrex.store.models import PhoneNumber, Tenant
from centrex.store.models.cpaas_voice import Application
from centrex.store.models.flows import FlowExecution, FlowStep
from centrex.store.models.trunks import GatewayRole, TrunkKind
from tests.cpaas.calls.conftest import (
    OUR_NUMBER,
    SCENARIOS,
    Stack,
    stack,  # noqa: F401 - the fixture, re-exported
)
from tests.interop.test_interop_trunks import add_trunk, use_store_routes
from tests.interop.test_interop_voicemail import caller_scenario

_WAIT_FOR_BYE = """  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""

__all__ = [
    "OUR_NUMBER",
    "Stack",
    "carrier_caller",
    "phone_caller",
    "publish_flow",
    "route_carrier",
    "steps_of",
]


def route_carrier(env: Stack, port: int) -> None:
    """A carrier trunk at 127.0.0.1:``port`` whose calls to the tenant's DIDs come in."""
    add_trunk(env.switch, "carrier", TrunkKind.CARRIER, [(port, GatewayRole.PRIMARY)])
    use_store_routes(env.switch)


def carrier_caller(tmp_path: Path, pcap: Path, name: str = "carrier_flow.xml") -> str:
    """The carrier's caller: PCMU with telephone-event (RFC 4733), plays ``pcap`` after the answer,
    then waits for the BYE of the flow (the flow ends the call) and answers it 200."""
    text = (SCENARIOS / "uac_trunk_call.xml").read_text()
    text = text.replace("RTP/AVP 0\n", "RTP/AVP 0 101\n").replace(
        "a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU/8000\n      a=rtpmap:101 telephone-event/8000"
    )
    head, _, _ = text.partition('  <pause milliseconds="500"/>')
    assert "telephone-event" in head
    path = tmp_path / name
    path.write_text(head + _WAIT_FOR_BYE.format(pcap=pcap))
    return str(path)


def phone_caller(tmp_path: Path, pcap: Path, name: str = "phone_flow.xml") -> str:
    """A registered phone's caller (digest-authenticated INVITE, PCMU with telephone-event): plays
    ``pcap`` after the answer and waits for the flow to hang up."""
    text = caller_scenario(tmp_path, pcap, 1000).read_text()
    head, nop, _ = text.partition("  <nop>")
    assert nop and "telephone-event" in head
    path = tmp_path / name
    path.write_text(head + _WAIT_FOR_BYE.format(pcap=pcap))
    return str(path)


def refused_caller(tmp_path: Path, status: int) -> str:
    """A registered phone's call that must be refused with ``status``."""
    text = (SCENARIOS / "uac_refused_404.xml").read_text()
    assert '<recv response="404"/>' in text
    path = tmp_path / f"refused_{status}.xml"
    path.write_text(text.replace('<recv response="404"/>', f'<recv response="{status}"/>'))
    return str(path)


def flow_extension(env: Stack, flow_id: uuid.UUID, extension: str) -> Application:
    """An application with an extension that runs the flow (the tenant's phones dial it)."""
    with transaction(env.switch.sessions) as s:
        row = Application(
            tenant_id=tenant_of(env),
            sid=new_sid("AP"),
            friendly_name="flow",
            flow_id=flow_id,
            extension=extension,
        )
        s.add(row)
        s.flush()
        s.expunge(row)
    env.switch.service.engine.service(Apps).application_by_extension = ApplicationLookup(env.switch.sessions)
    return row


def tenant_of(env: Stack) -> uuid.UUID:
    with env.switch.sessions() as s:
        tenant = s.scalar(select(Tenant.id))
        assert tenant is not None
        return tenant


def publish_flow(env: Stack, name: str, definition: dict[str, Any]) -> uuid.UUID:
    """A flow saved and published through the flows' store (the flows part's REST API does the same)."""
    with transaction(env.switch.sessions) as s:
        flow = store.create_flow(s, tenant_of(env), name, definition)
        store.publish(s, flow)
        return flow.id


def number_id(env: Stack, e164: str = OUR_NUMBER) -> uuid.UUID:
    with env.switch.sessions() as s:
        found = s.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164))
        assert found is not None
        return found


def steps_of(env: Stack, flow_id: uuid.UUID) -> list[list[tuple[str, str, str, dict[str, Any]]]]:
    """Every execution of the flow, oldest first: its steps as (state, widget type, event, outputs)."""
    with env.switch.sessions() as s:
        runs = s.scalars(
            select(FlowExecution).where(FlowExecution.flow_id == flow_id).order_by(FlowExecution.created_at)
        ).all()
        return [
            [
                (st.state, st.widget_type, st.event, dict(st.outputs))
                for st in s.scalars(
                    select(FlowStep).where(FlowStep.execution_id == r.id).order_by(FlowStep.seq)
                )
            ]
            for r in runs
        ]
