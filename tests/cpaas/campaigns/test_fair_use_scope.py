"""Campaigns are CPaaS, billed and judged under cpaas.txt, not under the voice bundles' Fair Usage
Policy (voice-bundles.txt §3): the fair-use review leaves out the calls the CPaaS app server
placed. The same machine-like dialling that tests/fairuse_cycles flags as an auto-dialer on a
person's line is not a finding when each call is a CPaaS call (a voice campaign's)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from centrex.cpaas.calls.rows import new_row
from centrex.store.db import transaction
from tests.api.conftest import Api
from tests.api.conftest import api as api
from tests.fairuse_cycles.test_fair_use_api import dialer_cdrs


def test_campaign_calls_are_not_reviewed_as_a_bundles_autodialer(api: Api) -> None:
    tid = uuid.UUID(str(api.world.a.id))
    with transaction(api.app.state.sessionmaker) as s:
        cdrs = dialer_cdrs(tid, 1)
        s.add_all(cdrs)
        for cdr in cdrs:  # each of them a call the app server placed for a voice campaign
            new_row(
                s,
                tid,
                account_sid="AC" + "0" * 32,
                direction="outbound-api",
                from_number=cdr.caller,
                to_number=cdr.callee,
                status="completed",
                start_time=cdr.start - timedelta(seconds=1),
                end_time=cdr.start + timedelta(seconds=10),
            )
    url = f"/api/v1/tenants/{tid}/fair-use"
    op = api.world.operator_token
    r = api.call("POST", f"{url}/reviews", op, json={"cycle": "2026-01"})
    assert r.status_code == 200, r.text
    assert api.call("GET", f"{url}/findings", op).json() == []
    # A person's calls of the next month, with no CPaaS call behind them, are still judged.
    with transaction(api.app.state.sessionmaker) as s:
        s.add_all(dialer_cdrs(tid, 2))
    r = api.call("POST", f"{url}/reviews", op, json={"cycle": "2026-02"})
    assert {f["kind"] for f in api.call("GET", f"{url}/findings", op).json()} == {
        "autodialer",
        "destination_spread",
    }
