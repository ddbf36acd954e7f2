"""An end user reads their own calls and phones, nothing of a colleague's (issue 18 §2)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.store.db import transaction
from centrex.store.models import Device, User
from centrex.store.models.billing import CallDetail
from tests.api.conftest import Api
from tests.api.conftest import api as api


def _cdr(tenant: uuid.UUID, caller: str, callee: str, when: datetime, user: uuid.UUID | None) -> CallDetail:
    return CallDetail(
        tenant_id=tenant,
        call_id=str(uuid.uuid4()),
        caller=caller,
        callee=callee,
        call_class="internal",
        direction="internal",
        start=when,
        duration_ms=61_000,
        user_id=user,
    )


def test_an_end_user_sees_only_their_own_calls_and_phones(api: Api) -> None:
    tw = api.world.a
    me_id = tw.ids["end_user"]
    t0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with transaction(api.app.state.sessionmaker) as s:
        me = s.get(User, me_id)
        assert me is not None
        ext = me.extension
        other = s.scalar(select(User).where(User.tenant_id == tw.id, User.id != me_id))
        assert other is not None
        s.add_all(
            [
                _cdr(tw.id, ext, "+12175550100", t0, me_id),  # made
                _cdr(tw.id, "+13125550100", ext, t0 + timedelta(hours=1), None),  # received
                _cdr(tw.id, other.extension, "+12175550199", t0 + timedelta(hours=2), other.id),  # not mine
            ]
        )
        s.add(Device(tenant_id=tw.id, sip_username=f"mine-{uuid.uuid4().hex[:6]}", ha1_md5="0" * 32,
                     ha1_sha256="0" * 64, user_id=me_id, description="desk"))  # fmt: skip
        s.add(Device(tenant_id=tw.id, sip_username=f"theirs-{uuid.uuid4().hex[:6]}", ha1_md5="0" * 32,
                     ha1_sha256="0" * 64, user_id=other.id))  # fmt: skip
    token = tw.tokens["end_user"]
    calls = api.call("GET", f"/api/v1/tenants/{tw.id}/me/calls", token)
    assert calls.status_code == 200, calls.text
    items = calls.json()["items"]
    pairs = [(c["caller"], c["callee"]) for c in items]
    assert ("+13125550100", ext) in pairs and (ext, "+12175550100") in pairs
    assert pairs.index(("+13125550100", ext)) < pairs.index((ext, "+12175550100"))  # newest first
    assert (other.extension, "+12175550199") not in pairs  # a colleague's call
    assert all(ext in pair for pair in pairs)
    devices = api.call("GET", f"/api/v1/tenants/{tw.id}/me/devices", token).json()["items"]
    assert devices and all(d["sip_username"].startswith("mine-") or d["id"] for d in devices)
    assert not any(d["sip_username"].startswith("theirs-") for d in devices)
    assert any(d["description"] == "desk" for d in devices)
    assert all("ha1_md5" not in d and "password" not in d for d in devices)
    # Another tenant's user asking for this tenant's history gets nothing of it.
    other_tenant = api.call("GET", f"/api/v1/tenants/{tw.id}/me/calls", api.world.b.tokens["end_user"])
    assert other_tenant.status_code == 404
