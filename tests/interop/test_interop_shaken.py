"""STIR/SHAKEN and the caller ID policy against a real Centrex SIP service (issue 17 §5): a phone's
call reaches a SIPp carrier whose received Identity header the test verifies with the test CA
(SIPp's own message log, -trace_msg), and a phone asking to send a number its tenant does not own
is refused with 403 and a Reason saying why."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.routing.shaken import Signer, Verstat, fetch_certificate, parse_identity, verify_identity
from centrex.routing.trunk_calls import TrunkCalls
from centrex.store.db import transaction
from centrex.store.models import PhoneNumber, User
from centrex.store.models.trunks import GatewayRole, OutboundRouteRow, TrunkKind
from tests.shaken.pki import make_pki

from .conftest import Server, free_udp_port
from .test_interop_trunks import add_trunk, use_store_routes

pytestmark = pytest.mark.interop


def received_invite(log: Path) -> list[str]:
    """The header lines of the first INVITE in a SIPp -trace_msg message file."""
    lines = log.read_text(errors="replace").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("INVITE sip:"))
    out = []
    for line in lines[start:]:
        if not line.strip():
            break
        out.append(line)
    return out


def header(lines: list[str], name: str) -> str:
    found = [ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith(name.lower() + ":")]
    assert found, f"no {name} in {lines}"
    return found[0]


async def test_a_signed_call_is_verified_by_the_carrier_and_a_spoofed_one_refused(
    server: Server, tmp_path: Path
) -> None:
    pki = make_pki()
    files = pki.write(tmp_path)
    x5u = f"file://{files['cert']}"  # in service: https://… (routing/shaken.py fetch_certificate)
    carrier = free_udp_port()
    trunk_id = add_trunk(server, "carrier", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        s.add(OutboundRouteRow(trunk_id=trunk_id, prefix="1"))
        user = s.scalar(select(User).where(User.extension == "1001"))
        assert user is not None
        did = s.scalar(select(PhoneNumber.e164).where(PhoneNumber.target_id == user.id))
    assert did is not None
    use_store_routes(server)
    server.service.engine.service(TrunkCalls).identity.signer = Signer(pki.sp_key, x5u)
    a = free_udp_port()
    await server.register("1001", a)

    log = tmp_path / "carrier.msg"
    gw = asyncio.create_task(
        server.sipp(
            "uas_answer.xml",
            "gw",
            port=carrier,
            client=False,
            timeout_s=15,
            extra=["-trace_msg", "-message_file", str(log)],
        )
    )
    await asyncio.sleep(0.3)
    caller = await server.sipp("uac_call.xml", "1001", port=a, callee="2125550199", timeout_s=15)
    assert caller.returncode == 0, caller.output[-3000:]
    assert (await gw).returncode == 0
    invite = received_invite(log)
    assert did in header(invite, "From")
    identity = header(invite, "Identity")
    assert parse_identity(identity)[1] == {"info": x5u, "alg": "ES256", "ppt": "shaken"}
    result = verify_identity(
        identity,
        orig_tn=did,
        dest_tn="+12125550199",
        now=time.time(),
        roots=[pki.root],
        fetch=fetch_certificate,
    )
    assert (result.verstat, result.attest) == (Verstat.PASSED, "A"), result.reason
    # The same verifier refuses it as soon as a byte of the claims changes.
    jws, _ = parse_identity(identity)
    head, claims, sig = jws.split(".")
    tampered = f"{head}.{claims[:-2]}{'A' if claims[-2] != 'A' else 'B'}{claims[-1]}.{sig}"
    bad = verify_identity(
        f"{tampered};info=<{x5u}>;alg=ES256;ppt=shaken",
        orig_tn=did,
        dest_tn="+12125550199",
        now=time.time(),
        roots=[pki.root],
        fetch=fetch_certificate,
    )
    assert bad.verstat is Verstat.FAILED

    # A number the tenant does not own: refused, nothing reaches the carrier.
    calls_before = len(server.ended)
    refused = await server.sipp("uac_spoofed_403.xml", "1001", port=a, callee="2125550198", timeout_s=15)
    assert refused.returncode == 0, refused.output[-3000:]
    cdr = server.ended[-1]
    assert len(server.ended) == calls_before + 1
    assert (cdr.sip_code, cdr.hangup_cause, cdr.legs) == (403, "caller_id_not_owned", ())
