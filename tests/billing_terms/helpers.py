"""A fresh tenant per test (so the test world's invoices do not enter late charges or exposure),
driven through the API as the operator uses it."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from tests.api.conftest import Api

_n = itertools.count(1)


def op(api: Api) -> str:
    return api.world.operator_token


def new_tenant(api: Api, name: str = "Terms Co") -> str:
    r = api.call(
        "POST", "/api/v1/tenants", op(api), json={"name": name, "sip_domain": f"t{next(_n)}.terms.example"}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def b(tenant: str) -> str:
    return f"/api/v1/tenants/{tenant}/billing"


def put_plan(api: Api, tenant: str, **extra: Any) -> None:
    body = {"code": "terms", "seats": 0, "seat_monthly": "0", **extra}
    r = api.call("PUT", f"{b(tenant)}/plan", op(api), json=body)
    assert r.status_code == 200, r.text


def invoice(api: Api, tenant: str, period: str) -> dict[str, Any]:
    r = api.call("POST", f"{b(tenant)}/invoices", op(api), json={"period": period})
    assert r.status_code == 201, r.text
    return dict(r.json())


def lines_by_source(inv: dict[str, Any], source: str) -> list[dict[str, Any]]:
    return [x for x in inv["lines"] if source in (x.get("source") or "")]


def money(text: Any) -> Decimal:
    return Decimal(str(text))
