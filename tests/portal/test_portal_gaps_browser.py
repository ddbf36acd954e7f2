"""The portal's operator tasks with progress, the auto attendant's editor and the fair-use page
(issue 18 §2), in a real browser: playwright-core drives Debian's chromium (portal/tests/gaps.mjs)
against a real `centrex serve` on a temporary SQLite database.

- tasks: the operator imports a 30 000-row rate deck from a file; the page shows the task's
  progress part-way (rows read, then stored, of the total) and then the result; the API has the
  deck. A bad deck fails naming its line and field. A billing run of a month invoices every tenant
  with a plan, with progress, shows its summary and each tenant's invoice (the API has it); run
  again, it issues nothing.
- attendant: the office administrator makes two menus, then in the editor adds options (an
  extension, a sub-menu, a mailbox), removes one, sets business hours (weekdays 9-5, after hours the
  other menu) and a holiday; the API has exactly that. A destination the API refuses shows its
  message on the row; the schedule is turned off again.
- fairuse: "Fair use" sits beside Capacity in the office's navigation; a finding of the fair-use
  review (as fairuse/review_store.py records it) is shown with its evidence and state; another
  tenant's administrator gets "Not found." and none of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models.admission import FairUseCase
from tests.portal.test_portal_browser import PORTAL, centrex_serve, cli
from tests.portal.test_portal_browser import pytestmark as browser_marks

pytestmark = browser_marks
DECK_ROWS = 30_000


@dataclass
class Served:
    url: str
    ctx: dict[str, Any]
    data: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("portal-gaps")
    cli(data, "db", "upgrade")
    demo = json.loads(cli(data, "demo", "--json"))
    tenant_id = demo["tenant_id"]
    # A finding of the fair-use review (fairuse/review_store.py), as it records one.
    engine = make_engine(f"sqlite:///{data / 'centrex.sqlite3'}")
    with make_sessionmaker(engine)() as s:
        s.add(
            FairUseCase(
                tenant_id=uuid.UUID(tenant_id),
                kind="toll_free_share",
                subject="tenant",
                state="noticed",
                noticed_cycle="2026-10",
                cycles=["2026-10"],
                evidence={"toll_free_share": "0.42", "toll_free_minutes": 420, "minutes": 1000},
            )
        )
        s.commit()
    engine.dispose()
    big = data / "world.csv"
    big.write_text(
        "prefix,rate_per_minute,effective_from\n"
        + "".join(f"{1000000 + i},0.0{i % 90 + 10},2026-01-01\n" for i in range(DECK_ROWS))
    )
    bad = data / "bad.csv"
    bad.write_text("prefix,rate_per_minute,effective_from\n44,0.02,2026-01-01\n45,abc,2026-01-01\n")

    with centrex_serve(data) as url:
        op = httpx.Client(
            base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {demo['operator_token']}"}
        )
        # A billing plan for the demo tenant (the billing run closes a month for each tenant with one).
        deck = "prefix,rate_per_minute,effective_from\n1,0.012,2020-01-01\n"
        r = op.post(
            "/rate-decks", params={"name": "standard"}, content=deck, headers={"Content-Type": "text/csv"}
        )
        assert r.status_code == 201, r.text
        plan = {"code": "pbx-basic", "deck_name": "standard", "seat_monthly": "19.95", "seats": 10}
        r = op.put(f"/tenants/{tenant_id}/billing/plan", json=plan)
        assert r.status_code == 200, r.text
        tenant = op.get(f"/tenants/{tenant_id}").json()
        other = op.post("/tenants", json={"name": "Other Co", "sip_domain": "other-gaps.example.com"}).json()
        made = op.post(f"/tenants/{other['id']}/users", json={"name": "Zed Otherton", "extension": "2001"})
        assert made.status_code == 201, made.text
        other_admin = cli(data, "token", "create", "--name", "o", "--tenant", other["id"], "--user", "2001")
        r = op.patch(f"/tenants/{other['id']}/designations", json={"office_admin_user_id": made.json()["id"]})
        assert r.status_code == 200, r.text
        ctx = {
            "tenant_id": tenant_id,
            "tenant_name": tenant["name"],
            "operator_token": demo["operator_token"],
            "office_admin_token": demo["office_admin_token"],
            "other_tenant_id": other["id"],
            "other_admin_token": other_admin.strip(),
            "big_deck_path": str(big),
            "big_deck_rows": DECK_ROWS,
            "bad_deck_path": str(bad),
            "billing_period": "2026-10",
            "planned_tenants": 1,
            "ext_a": "1004",
            "operator_ext": "1001",
            "finding_subject": "tenant",
        }
        yield Served(url=url, ctx=ctx, data=data)


def run(served: Served, name: str, shots: Path | None = None) -> str:
    env = {
        **os.environ,
        "CENTREX_URL": served.url,
        "CENTREX_CTX": json.dumps(served.ctx),
        "CENTREX_SHOTS": str(shots or ""),
        "CENTREX_FAIL_SHOT": str(served.data / f"failed-{name}.png"),
    }
    out = subprocess.run(
        ["node", "tests/gaps.mjs", name], cwd=PORTAL, env=env, capture_output=True, text=True, timeout=600
    )
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    assert f"PASS {name}" in out.stdout, report
    return out.stdout


def shots() -> Path | None:
    """CENTREX_SCREENSHOTS=docs/screenshots keeps the pictures docs/portal.md shows."""
    target = os.environ.get("CENTREX_SCREENSHOTS")
    return Path(target).resolve() if target else None


def test_operator_imports_a_deck_and_runs_billing_with_progress(served: Served) -> None:
    out = run(served, "tasks", shots())
    assert "ok: the import's progress shows part-way" in out
    assert "ok: a bad deck's line and field are shown" in out
    assert "ok: the API has that invoice" in out
    assert "ok: a second run issues nothing" in out


def test_office_admin_edits_an_auto_attendants_options_and_schedule(served: Served) -> None:
    out = run(served, "attendant", shots())
    assert "ok: the API has the options" in out
    assert "ok: the API has business hours Monday to Friday 9–5 with the after-hours menu" in out
    assert "ok: the API's refusal is shown on the row" in out


def test_office_admin_sees_the_fair_use_findings_and_another_tenant_does_not(served: Served) -> None:
    out = run(served, "fairuse", shots())
    assert "ok: the finding is shown with its evidence" in out
    assert "ok: another tenant's administrator gets Not found and no finding" in out
