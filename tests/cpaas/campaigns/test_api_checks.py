"""Bad input gets a clear 4xx naming the field and rule: a contact that is no phone number, a
campaign from a number not the tenant's, a voice campaign without its app, a list in use; the
registry import counts and names its bad lines; consent records keep who, when and how."""

from __future__ import annotations

import httpx

from centrex.cpaas.campaigns.registries import parse_national, parse_reassigned
from tests.cpaas.conftest import LiveApi


def test_bad_input_is_refused_with_the_field(live_api: LiveApi) -> None:
    api = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}"
    h = live_api.admin
    lst = httpx.post(f"{api}/contact-lists", json={"name": "L"}, headers=h).json()
    assert httpx.post(f"{api}/contact-lists", json={"name": "L"}, headers=h).status_code == 409
    bad = httpx.post(
        f"{api}/contact-lists/{lst['id']}/contacts",
        json={"contacts": [{"number": "+12125550100"}, {"number": "555"}]},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "contacts[1]", bad.text
    ok = httpx.post(
        f"{api}/contact-lists/{lst['id']}/contacts",
        json={"contacts": [{"number": "(212) 555-0100"}]},
        headers=h,
    )
    assert ok.status_code == 201 and ok.json()["contacts"][0]["number"] == "+12125550100"
    assert ok.json()["contacts"][0]["state"] == "NY"
    base = {"name": "C", "list_id": lst["id"], "purpose": "marketing"}
    foreign = httpx.post(
        f"{api}/campaigns", json={**base, "channel": "sms", "from": "+12025550100", "body": "x"}, headers=h
    )
    assert foreign.status_code == 422 and foreign.json()["field"] == "from", foreign.text
    ours = live_api.demo.lines[0].number
    voice = httpx.post(f"{api}/campaigns", json={**base, "channel": "voice", "from": ours}, headers=h)
    assert voice.status_code == 422 and "voice_url" in voice.text
    naive = {**base, "channel": "sms", "from": ours, "body": "x", "scheduled_at": "2030-01-01T10:00:00"}
    assert httpx.post(f"{api}/campaigns", json=naive, headers=h).status_code == 422
    made = httpx.post(
        f"{api}/campaigns", json={**base, "channel": "sms", "from": ours, "body": "x"}, headers=h
    )
    assert made.status_code == 201, made.text
    in_use = httpx.delete(f"{api}/contact-lists/{lst['id']}", headers=h)
    assert in_use.status_code == 409 and in_use.json()["rule"] == "in_use"
    cancel = httpx.post(f"{api}/campaigns/{made.json()['id']}/cancel", headers=h)
    assert cancel.status_code == 200 and cancel.json()["status"] == "canceled"
    assert httpx.post(f"{api}/campaigns/{made.json()['id']}/cancel", headers=h).status_code == 409
    consent = {"number": "212-555-0100", "channel": "sms", "purpose": "marketing", "method": "paper"}
    rec = httpx.post(f"{api}/consent-records", json={**consent, "evidence": "signed form #12"}, headers=h)
    assert rec.status_code == 201 and rec.json()["number"] == "+12125550100"
    assert rec.json()["recorded_by"] and rec.json()["evidence"] == "signed form #12"
    future = httpx.post(
        f"{api}/consent-records", json={**consent, "obtained_at": "2999-01-01T00:00:00Z"}, headers=h
    )
    assert future.status_code == 422
    listed = httpx.get(f"{api}/consent-records?number=%2B12125550100", headers=h).json()
    assert listed["total"] == 1
    assert httpx.delete(f"{api}/dnc/%2B12125550100", headers=h).status_code == 404
    report = httpx.get(f"{live_api.base}/api/v1/dnc-registry/imports", headers=live_api.operator)
    assert report.status_code == 200 and report.json()["national_dnc_numbers"] == 0


def test_registry_files_are_read_in_their_usual_shapes() -> None:
    numbers, errors, rejected = parse_national("212,5550100\n2125550101\n+1 (212) 555-0102\nnonsense\n")
    assert numbers == ["+12125550100", "+12125550101", "+12125550102"] and rejected == 1
    assert errors and errors[0].startswith("line 4")
    download = parse_national("Area Code,Phone Number\n212,5550103\n212\n")
    assert download[0] == ["+12125550103"] and download[2] == 1 and "column" in download[1][0]
    pairs, errors, rejected = parse_reassigned(
        "number,disconnected_on\n2125550100,2025-06-01\n2125550101,June\n"
    )
    assert [(n, d.isoformat()) for n, d in pairs] == [("+12125550100", "2025-06-01")] and rejected == 1
