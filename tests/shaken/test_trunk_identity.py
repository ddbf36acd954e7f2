"""Caller identity on trunk calls through the engine (issue 17 §5): the caller ID policy (owned,
verified, refused with 403, 911 never), STIR/SHAKEN signing at A/B/C that a verifier with the test
CA accepts, inbound Identity verified and its verstat passed to the callee, and Diversion /
History-Info on a call forwarded off the switch. A recording network stands in for the wire."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace

import pytest

from centrex.routing.caller_policy import Standing
from centrex.routing.model import EmergencyRoute, NumberRoute, OutboundRoute, TrunkKind
from centrex.routing.shaken import (
    Signer,
    Verstat,
    identity_header,
    parse_identity,
    parse_passport,
    sign_passport,
    verify_identity,
)
from centrex.routing.trunk_calls import TrunkCalls
from centrex.sip.message import Request
from tests.calls.engine_harness import Bench, invite_req
from tests.calls.helpers import DOMAIN_A, answer
from tests.calls.test_calls_trunks import DID_1001, carrier_invite, gw, out_invites, setup, trunk
from tests.shaken.pki import Pki, make_pki, pem

X5U = "https://cert.centrex.test/sp.pem"
VERIFIED = "+16465550142"  # a mobile the tenant verified with the provider
FOREIGN = "+19175550123"  # someone else's number


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@dataclass
class CallerIds:
    numbers: dict[str, Standing] = field(default_factory=dict)

    def standing(self, tenant_id: uuid.UUID, e164: str, now: float) -> Standing:
        return self.numbers.get(e164, Standing.FOREIGN)


def bench(pki: Pki, *, verify: bool = False) -> tuple[Bench, object]:
    carrier = trunk("carrier", gw("192.0.2.10"))
    psap = trunk("911-sr", gw("192.0.2.91"), kind=TrunkKind.EMERGENCY)
    b, routes = setup(
        carrier,
        psap,
        routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),),
        emergency=(EmergencyRoute(uuid.uuid4(), psap.id),),
    )
    identity = b.engine.service(TrunkCalls).identity
    identity.caller_ids = CallerIds(
        {DID_1001: Standing.OWNED, "+12175550102": Standing.OWNED, VERIFIED: Standing.VERIFIED}
    )
    identity.signer = Signer(pki.sp_key, X5U)
    if verify:
        identity.roots = [pki.root]
        identity.fetch = lambda url: pem(pki.sp_cert)
    return b, routes


def phone_call(b: Bench, caller: str, dialled: str, *extra: tuple[str, str], port: int = 5061) -> None:
    first = invite_req(caller, dialled, call_id=f"a-{uuid.uuid4().hex[:8]}", port=port)
    for name, value in extra:
        first.headers.add(name, value)
    b.request(first, ("10.0.0.9", port))
    challenge = b.net.take()[-1].message
    second = invite_req(caller, dialled, call_id=first.call_id, cseq=2, port=port, branch="z9hG4bKa2")
    for name, value in extra:
        second.headers.add(name, value)
    second.headers.add("Proxy-Authorization", answer(challenge, second, caller))
    b.request(second, ("10.0.0.9", port))


def verified(pki: Pki, inv: Request, caller: str, called: str):  # type: ignore[no-untyped-def]
    return verify_identity(
        inv.headers.get("Identity"),
        orig_tn=caller,
        dest_tn=called,
        now=time.time(),
        roots=[pki.root],
        fetch=lambda url: pem(pki.sp_cert),
    )


def test_a_phone_call_out_is_signed_at_a_and_its_identity_verifies(pki: Pki) -> None:
    b, _ = bench(pki)
    b.call("1001", "2125550199")
    [sent] = out_invites(b, "192.0.2.10")
    inv = sent.message
    assert isinstance(inv, Request) and DID_1001 in inv.headers.get("From")
    result = verified(pki, inv, DID_1001, "+12125550199")
    assert result.verstat is Verstat.PASSED and result.attest == "A"
    _, params = parse_identity(inv.headers.get("Identity"))
    assert params == {"info": X5U, "alg": "ES256", "ppt": "shaken"}


def test_a_spoofed_caller_id_is_refused_with_403_and_nothing_reaches_the_carrier(pki: Pki) -> None:
    b, _ = bench(pki)
    phone_call(b, "1001", "2125550199", ("P-Preferred-Identity", f"<sip:{FOREIGN}@{DOMAIN_A}>"))
    assert out_invites(b, "192.0.2.10") == []
    final = [s.message for s in b.net.sent if not isinstance(s.message, Request)][-1]
    assert final.status == 403
    assert "caller ID not a number of this tenant" in final.headers.get("Reason")
    [cdr] = b.ended
    assert cdr.hangup_cause == "caller_id_not_owned" and cdr.sip_code == 403 and cdr.disposition == "rejected"


def test_a_verified_number_goes_out_attested_b(pki: Pki) -> None:
    b, _ = bench(pki)
    phone_call(b, "1001", "2125550199", ("P-Preferred-Identity", f"<sip:{VERIFIED}@{DOMAIN_A}>"))
    [sent] = out_invites(b, "192.0.2.10")
    inv = sent.message
    assert isinstance(inv, Request) and VERIFIED in inv.headers.get("P-Asserted-Identity")
    result = verified(pki, inv, VERIFIED, "+12125550199")
    assert result.verstat is Verstat.PASSED and result.attest == "B"


def test_an_ip_pbx_sending_a_foreign_number_is_refused_but_its_911_goes_through(pki: Pki) -> None:
    b, routes = bench(pki)
    tenant = b.org.tenant_a
    pbx = trunk("acme-pbx", gw("10.1.1.1"), kind=TrunkKind.PBX, tenant_id=tenant.id)
    routes.routing = replace(routes.routing, trunks={**routes.routing.trunks, pbx.id: pbx})  # type: ignore[attr-defined]
    b.request(carrier_invite("+12125550199", "10.1.1.1", 5060, caller=FOREIGN), ("10.1.1.1", 5060))
    assert b.responses()[-1].status == 403 and out_invites(b, "192.0.2.10") == []
    b.net.take()
    b.request(carrier_invite("+12125550198", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    [sent] = out_invites(b, "192.0.2.10")
    assert verified(pki, sent.message, DID_1001, "+12125550198").attest == "A"  # type: ignore[arg-type]
    b.net.take()
    b.request(carrier_invite("911", "10.1.1.1", 5060, caller=FOREIGN), ("10.1.1.1", 5060))
    assert len(out_invites(b, "192.0.2.91")) == 1


def _carrier_call(b: Bench, routes: object, pki: Pki, identity: str | None) -> Request:
    routes.numbers["+12175550102"] = NumberRoute("+12175550102", b.org.tenant_a.id, "user", b.user("1002").id)  # type: ignore[attr-defined]
    b.register("1002", 5070)
    req = carrier_invite("+12175550102", "192.0.2.10", 5060, caller="+13125550777")
    if identity is not None:
        req.headers.add("Identity", identity)
    b.request(req, ("192.0.2.10", 5060))
    [ring] = [s for s in b.invites() if s.addr == ("10.0.0.9", 5070)]
    assert isinstance(ring.message, Request)
    return ring.message


def _pais(inv: Request) -> list[str]:
    return inv.headers.get_all("P-Asserted-Identity")


def test_a_carriers_signed_call_reaches_the_callee_with_verstat_passed(pki: Pki) -> None:
    b, routes = bench(pki, verify=True)
    jws = sign_passport(
        Signer(pki.sp_key, X5U),
        attest="A",
        orig_tn="+13125550777",
        dest_tn="+12175550102",
        iat=int(time.time()),
    )
    ring = _carrier_call(b, routes, pki, identity_header(jws, X5U))
    assert "<tel:+13125550777;verstat=TN-Validation-Passed>" in _pais(ring)


def test_a_tampered_or_missing_identity_is_passed_on_as_failed_or_no_validation(pki: Pki) -> None:
    b, routes = bench(pki, verify=True)
    jws = sign_passport(
        Signer(pki.rogue_key, X5U),
        attest="A",
        orig_tn="+13125550777",
        dest_tn="+12175550102",
        iat=int(time.time()),
    )
    ring = _carrier_call(b, routes, pki, identity_header(jws, X5U))
    assert "<tel:+13125550777;verstat=TN-Validation-Failed>" in _pais(ring)
    b2, routes2 = bench(pki, verify=True)
    ring = _carrier_call(b2, routes2, pki, None)
    assert "<tel:+13125550777;verstat=No-TN-Validation>" in _pais(ring)


def test_a_call_forwarded_to_a_mobile_leaves_with_diversion_history_info_and_attestation_c(pki: Pki) -> None:
    b, routes = bench(pki, verify=True)
    routes.numbers["+12175550102"] = NumberRoute("+12175550102", b.org.tenant_a.id, "user", b.user("1002").id)  # type: ignore[attr-defined]
    b.set_user("1002", forward_always="(646) 555-0199", number="+12175550102")
    b.request(carrier_invite("+12175550102", "192.0.2.10", 5060, caller="+13125550777"), ("192.0.2.10", 5060))
    [sent] = out_invites(b, "192.0.2.10")
    inv = sent.message
    assert isinstance(inv, Request) and str(inv.uri).startswith("sip:+16465550199@192.0.2.10")
    assert "+13125550777" in inv.headers.get("From")  # the original caller
    assert (
        inv.headers.get("Diversion")
        == f"<sip:+12175550102@{DOMAIN_A};user=phone>;reason=unconditional;counter=1"
    )
    hi = inv.headers.get("History-Info")
    assert "<sip:+12175550102@" in hi and ";index=1," in hi and "cause=302>;index=1.1" in hi
    assert not any("verstat" in v for v in _pais(inv))  # our callee's verstat is not the carrier's
    result = verified(pki, inv, "+13125550777", "+16465550199")
    assert result.verstat is Verstat.PASSED and result.attest == "C"
    assert parse_passport(parse_identity(inv.headers.get("Identity"))[0]).claims["origid"]
