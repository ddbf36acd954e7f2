"""Fair use through the API: the operator reviews two cycles of a tenant whose one line dials like
a machine; the tenant's administrator sees the notice with its evidence, then the case re-rated;
cycles are reviewed once and in order; other tenants see nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from centrex.store.db import transaction
from centrex.store.models import CallDetail
from tests.api.conftest import Api
from tests.api.conftest import api as api


def dialer_cdrs(tenant_id: uuid.UUID, month: int) -> list[CallDetail]:
    t0 = datetime(2026, month, 5, 9, tzinfo=UTC)
    return [
        CallDetail(
            tenant_id=tenant_id,
            call_id=f"m{month}-{i}",
            caller="+12175281001",
            callee=f"+1212556{2000 + i:04d}",
            call_class="ld_interstate",
            direction="outbound",
            start=t0 + timedelta(seconds=3 * i),
            answer=t0 + timedelta(seconds=3 * i) if i % 5 == 0 else None,
            duration_ms=4000 if i % 5 == 0 else 0,
            disposition="answered" if i % 5 == 0 else "no_answer",
        )
        for i in range(300)
    ]


def test_review_notice_then_rerate(api: Api) -> None:
    tid = uuid.UUID(str(api.world.a.id))
    with transaction(api.app.state.sessionmaker) as s:
        s.add_all(dialer_cdrs(tid, 1) + dialer_cdrs(tid, 2))
    op, admin = api.world.operator_token, api.world.a.tokens["office_admin"]
    url = f"/api/v1/tenants/{tid}/fair-use"
    r = api.call("POST", f"{url}/reviews", op, json={"cycle": "2026-01"})
    assert r.status_code == 200, r.text
    # One NPA-NXX dialled in sequence: a dialer, and no business's spread of destinations either.
    found = {f["kind"]: f for f in api.call("GET", f"{url}/findings", admin).json()}
    assert set(found) == {"autodialer", "destination_spread"}
    dialer = found["autodialer"]
    assert (dialer["state"], dialer["noticed_cycle"], dialer["subject"]) == (
        "noticed",
        "2026-01",
        "+12175281001",
    )
    assert (
        dialer["evidence"]["sequential_run"] == 300 and dialer["evidence"]["peak_attempts_per_minute"] == 20
    )
    assert found["destination_spread"]["evidence"]["by_carrier_type"] == {"CLEC": 300}
    again = api.call("POST", f"{url}/reviews", op, json={"cycle": "2026-01"})
    assert again.status_code == 409 and again.json()["rule"] == "in_order"
    assert api.call("POST", f"{url}/reviews", admin, json={"cycle": "2026-02"}).status_code == 403
    r = api.call("POST", f"{url}/reviews", op, json={"cycle": "2026-02"})
    assert r.status_code == 200, r.text
    assert {(f["kind"], f["state"], tuple(f["cycles"])) for f in r.json()} == {
        ("autodialer", "rerated", ("2026-01", "2026-02")),
        ("destination_spread", "rerated", ("2026-01", "2026-02")),
    }
    everyone = api.call("GET", "/api/v1/fair-use/findings?state=rerated", op).json()
    assert {f["tenant_id"] for f in everyone} == {str(tid)} and len(everyone) == 2
    other = api.call("GET", f"{url}/findings", api.world.b.tokens["office_admin"])
    assert other.status_code == 404
    bad = api.call("POST", f"{url}/reviews", op, json={"cycle": "2026-13"})
    assert bad.status_code == 422 and "cycle" in bad.text


def test_the_operator_imports_the_carrier_type_table(api: Api) -> None:
    op = api.world.operator_token
    r = api.call(
        "PUT", "/api/v1/fair-use/carrier-types", op, json={"csv": "npa_nxx,carrier_type\n212555,RBOC\n"}
    )
    assert r.status_code == 200 and r.json() == {"rows": 1}
    bad = api.call(
        "PUT", "/api/v1/fair-use/carrier-types", op, json={"csv": "npa_nxx,carrier_type\n2125,XYZ\n"}
    )
    assert bad.status_code == 422 and "line 2" in bad.json()["message"]
