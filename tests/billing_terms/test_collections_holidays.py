"""The cure period of cpaas.txt §3.4 ("five (5) business days of written notice of non-payment")
counted on the operator's business calendar through the API and the `centrex billing collections`
job, on SQLite and PostgreSQL: by default the US bank holidays (Thanksgiving, Christmas and New
Year's Day are not business days); CENTREX_BUSINESS_CALENDAR=none counts every weekday."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.billing_terms.helpers import b, invoice, new_tenant, op, put_plan


def overdue_tenant(api: Api, period: str) -> str:
    """A tenant with one unpaid $249.50 invoice: period 2026-09 is dated 2026-10-01, due 2026-10-31;
    2026-10 is dated 2026-11-01, due 2026-12-01."""
    tenant = new_tenant(api)
    put_plan(api, tenant, seats=10, seat_monthly="24.95")
    invoice(api, tenant, period)
    return tenant


def give_notice(api: Api, tenant: str, day: str) -> dict[str, Any]:
    r = api.call("POST", f"{b(tenant)}/notices", op(api), json={"noticed_on": day})
    assert r.status_code == 201, r.text
    return dict(r.json())


def collect(api: Api, tenant: str, as_of: str) -> list[str]:
    r = api.call("POST", f"{b(tenant)}/collections", op(api), params={"as_of": as_of})
    assert r.status_code == 200, r.text
    return [a["action"] for a in r.json()]


def status(api: Api, tenant: str) -> str:
    return str(api.call("GET", f"{b(tenant)}/account", op(api)).json()["status"])


def cli(
    db_url: str, tmp_path: Path, tenant: str, as_of: str, calendar: str | None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CENTREX_BUSINESS_CALENDAR"}
    env["COLUMNS"] = "250"
    if calendar is not None:
        env["CENTREX_BUSINESS_CALENDAR"] = calendar
    cmd = [
        sys.executable,
        "-m",
        "centrex.cli",
        "billing",
        "collections",
        "--as-of",
        as_of,
        "--tenant",
        tenant,
    ]
    return subprocess.run(
        [*cmd, "--db", db_url, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_thanksgiving_is_not_counted(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Notice Wed 25 Nov 2026; Thu 26 Thanksgiving not counted; Fri 27, Mon 30, Tue 1, Wed 2, Thu 3
    # Dec are the five business days -> suspension possible from Fri 4 Dec 2026.
    monkeypatch.delenv("CENTREX_BUSINESS_CALENDAR", raising=False)
    tenant = overdue_tenant(api, "2026-09")
    assert give_notice(api, tenant, "2026-11-25")["suspend_from"] == "2026-12-04"
    assert collect(api, tenant, "2026-12-03") == ["waiting"]
    assert status(api, tenant) == "active"  # still inside the cure period on Thu 3 Dec
    assert collect(api, tenant, "2026-12-04") == ["suspend"]
    assert status(api, tenant) == "suspended"


def test_no_calendar_counts_thanksgiving(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # CENTREX_BUSINESS_CALENDAR=none: Monday to Friday only, the answer before holidays were known:
    # Thu 26 Nov counts, so the fifth business day is Wed 2 Dec and suspension is possible Thu 3 Dec.
    monkeypatch.setenv("CENTREX_BUSINESS_CALENDAR", "none")
    tenant = overdue_tenant(api, "2026-09")
    assert give_notice(api, tenant, "2026-11-25")["suspend_from"] == "2026-12-03"
    assert collect(api, tenant, "2026-12-03") == ["suspend"]


def test_operator_job_notice_before_christmas_and_new_year(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # The operator's job (POST /billing/collections) gives the notice itself on Thu 24 Dec 2026 for
    # the invoice due 1 Dec. Fri 25 Christmas and Fri 1 Jan New Year's Day are not counted: Mon 28
    # (1), Tue 29 (2), Wed 30 (3), Thu 31 (4), Mon 4 Jan (5) -> suspension possible from Tue 5 Jan 2027.
    monkeypatch.delenv("CENTREX_BUSINESS_CALENDAR", raising=False)
    tenant = overdue_tenant(api, "2026-10")

    def job(as_of: str) -> list[str]:
        r = api.call("POST", "/api/v1/billing/collections", op(api), json={"as_of": as_of})
        assert r.status_code == 200, r.text
        return [a["action"] for a in r.json() if a["tenant_id"] == tenant]

    assert job("2026-12-24") == ["notice"]
    notices = api.call("GET", f"{b(tenant)}/notices", op(api)).json()
    assert [(n["noticed_on"], n["suspend_from"]) for n in notices] == [("2026-12-24", "2027-01-05")]
    assert job("2027-01-01") == ["waiting"]  # Mon-Fri counting would suspend on New Year's Day
    assert job("2027-01-04") == ["waiting"]
    assert job("2027-01-05") == ["suspend"]
    assert status(api, tenant) == "suspended"


def test_cli_collections_on_the_us_bank_calendar_and_on_none(api: Api, db_url: str, tmp_path: Path) -> None:
    # `centrex billing collections --as-of` gives the notice on Thu 24 Dec 2026 and suspends on the
    # day the calendar allows: Tue 5 Jan 2027 by default (US bank holidays), Fri 1 Jan 2027 with none.
    us = overdue_tenant(api, "2026-10")
    done = cli(db_url, tmp_path, us, "2026-12-24", None)
    assert done.returncode == 0, done.stderr
    assert "notice" in done.stdout and "suspension possible from 2027-01-05" in done.stdout
    done = cli(db_url, tmp_path, us, "2027-01-04", None)
    assert "waiting" in done.stdout and "suspend " not in done.stdout
    done = cli(db_url, tmp_path, us, "2027-01-05", None)
    assert done.returncode == 0, done.stderr
    assert "suspend" in done.stdout and "249.50" in done.stdout
    assert status(api, us) == "suspended"

    plain = overdue_tenant(api, "2026-10")
    done = cli(db_url, tmp_path, plain, "2026-12-24", "none")
    assert "suspension possible from 2027-01-01" in done.stdout, done.stdout
    done = cli(db_url, tmp_path, plain, "2027-01-01", "none")
    assert "suspend" in done.stdout and status(api, plain) == "suspended"

    bad = cli(db_url, tmp_path, plain, "2027-01-01", "Mars")
    assert bad.returncode == 2
    assert "CENTREX_BUSINESS_CALENDAR 'Mars'" in bad.stderr and "Traceback" not in bad.stderr
