"""A tenant's lifecycle through the API (issue 19): the archive of its data (cpaas.txt §2.3.8), the
30-day window after termination, its voicemail policy, and the port-out PIN kept as a hash."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from centrex.store.db import transaction
from centrex.store.models.lifecycle import TenantLifecycle
from tests.api.conftest import Api
from tests.api.test_numbers_api import _settle


def t(api: Api, tenant: str = "a") -> str:
    return f"/api/v1/tenants/{getattr(api.world, tenant).id}"


def adm(api: Api) -> str:
    return api.world.a.tokens["office_admin"]


def archive(api: Api, token: str) -> zipfile.ZipFile:
    r = api.call("GET", f"{t(api)}/export", token)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    return zipfile.ZipFile(io.BytesIO(r.content))


def test_the_tenant_admin_downloads_an_archive_of_the_tenant_data_without_secrets(api: Api) -> None:
    zf = archive(api, adm(api))
    names = set(zf.namelist())
    assert {"manifest.json", "tables/users.json", "tables/devices.json", "tables/numbers.json"} <= names
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["tenant"]["id"] == str(api.world.a.id) and manifest["rule"] == "cpaas.txt §2.3.8"
    users = json.loads(zf.read("tables/users.json"))
    assert users and {u["tenant_id"] for u in users} == {str(api.world.a.id)}
    everything = b"".join(zf.read(n) for n in names)
    for secret in (b"password_hash", b"ha1_md5", b"ha1_sha256", b"secret_hash", b"signing_secret"):
        assert secret not in everything
    assert str(api.world.b.id).encode() not in everything  # nothing of the other tenant
    assert api.call("GET", f"{t(api, 'b')}/export", adm(api)).status_code == 404


def test_termination_opens_a_30_day_export_window_then_export_is_refused(api: Api) -> None:
    r = api.call("GET", f"{t(api)}/lifecycle", adm(api))
    assert r.status_code == 200 and r.json()["terminated_at"] is None and r.json()["export_until"] is None
    assert (
        api.call("PATCH", t(api), api.world.operator_token, json={"status": "terminated"}).status_code == 200
    )
    life = api.call("GET", f"{t(api)}/lifecycle", adm(api)).json()
    assert life["status"] == "terminated" and life["terminated_at"] is not None
    from datetime import datetime

    start, until = (datetime.fromisoformat(life[k]) for k in ("terminated_at", "export_until"))
    assert until - start == timedelta(days=30)
    archive(api, adm(api))  # within the window the admin still downloads the archive

    with transaction(api.app.state.sessionmaker) as s:  # 31 days later
        row = s.scalar(select(TenantLifecycle).where(TenantLifecycle.tenant_id == api.world.a.id))
        assert row is not None and row.terminated_at is not None
        row.terminated_at -= timedelta(days=31)
    r = api.call("GET", f"{t(api)}/export", adm(api))
    assert r.status_code == 409 and "export window closed" in r.text and "cpaas.txt §2.3.8" in r.text

    # Reinstated: the window no longer runs.
    api.call("PATCH", t(api), api.world.operator_token, json={"status": "active"})
    assert api.call("GET", f"{t(api)}/lifecycle", adm(api)).json()["terminated_at"] is None

    # Once its deletion began, a tenant can neither export nor come back.
    api.call("PATCH", t(api), api.world.operator_token, json={"status": "terminated"})
    with transaction(api.app.state.sessionmaker) as s:
        row = s.scalar(select(TenantLifecycle).where(TenantLifecycle.tenant_id == api.world.a.id))
        assert row is not None
        row.purge_started_at = row.terminated_at
    assert api.call("GET", f"{t(api)}/export", adm(api)).status_code == 409
    r = api.call("PATCH", t(api), api.world.operator_token, json={"status": "active"})
    assert r.status_code == 409 and "cannot be reinstated" in r.text
    assert api.call("GET", f"{t(api)}/lifecycle", adm(api)).json()["status"] == "terminated"


def test_the_voicemail_policy_is_set_and_audited(api: Api) -> None:
    r = api.call("PATCH", f"{t(api)}/lifecycle", adm(api), json={"voicemail_retention_days": 45})
    assert r.status_code == 200 and r.json()["voicemail_retention_days"] == 45
    assert (
        api.call("PATCH", f"{t(api)}/lifecycle", adm(api), json={"voicemail_retention_days": 0}).status_code
        == 422
    )
    r = api.call("PATCH", f"{t(api)}/lifecycle", adm(api), json={"voicemail_retention_days": None})
    assert r.json()["voicemail_retention_days"] is None
    entries = api.audit(action="tenant.voicemail_policy")
    assert [e["after"]["voicemail_retention_days"] for e in entries][:2] in ([None, 45], [45, None])


def test_the_port_out_pin_is_kept_as_a_hash_and_guards_port_out(api: Api) -> None:
    _settle(api)
    check = f"{t(api)}/numbers/{api.world.a.ids['number']}/port-out-check"
    body: dict[str, Any] = {}
    assert api.call("POST", check, adm(api), json=body).status_code == 200  # no PIN set: allowed
    assert api.call("PUT", f"{t(api)}/port-out-pin", adm(api), json={"pin": "12ab"}).status_code == 422
    assert api.call("PUT", f"{t(api)}/port-out-pin", adm(api), json={"pin": "246810"}).status_code == 204
    with api.app.state.sessionmaker() as s:
        row = s.scalar(select(TenantLifecycle).where(TenantLifecycle.tenant_id == api.world.a.id))
        assert row is not None and row.port_out_pin_hash and row.port_out_pin_hash.startswith("$argon2")
        assert "246810" not in row.port_out_pin_hash
    assert api.call("GET", f"{t(api)}/lifecycle", adm(api)).json()["port_out_pin_set"] is True
    for pin in (None, "000000"):
        r = api.call("POST", check, adm(api), json={"pin": pin})
        assert r.status_code == 409 and "port-out PIN is missing or wrong" in r.text
    r = api.call("POST", check, adm(api), json={"pin": "246810"})
    assert r.status_code == 200 and r.json()["allowed"] is True
    [entry] = api.audit(action="tenant.port_out_pin")
    assert entry["after"] == {"pin": "(set)"}  # the audit never holds the PIN
    assert api.call("DELETE", f"{t(api)}/port-out-pin", adm(api)).status_code == 204
    assert api.call("POST", check, adm(api), json=body).status_code == 200


def test_the_deletion_job_removes_every_row_of_a_fully_provisioned_tenant(api: Api) -> None:
    """The world's tenant A has a bit of everything other families provision (billing, queues,
    conferences, trunks, 911 ...): after its export window, the job leaves none of it, and B intact."""
    from centrex.ops.jobs import builtin_registry
    from centrex.ops.scheduler import run_job
    from centrex.ops.tenant_export import tenant_tables
    from centrex.store.models import Tenant
    from centrex.store.types import utcnow

    sessions = api.app.state.sessionmaker

    def rows_of(tenant_id: Any) -> dict[str, int]:
        from sqlalchemy import func

        with sessions() as s:
            found = {}
            for table in tenant_tables():
                if table.name == "audit_log":
                    continue
                n = s.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))
                if n:
                    found[table.name] = int(n)
            return found

    before_b = rows_of(api.world.b.id)
    assert len(rows_of(api.world.a.id)) >= 10
    assert (
        api.call("PATCH", t(api), api.world.operator_token, json={"status": "terminated"}).status_code == 200
    )
    job = builtin_registry().get("tenant-deletion")
    later = utcnow() + timedelta(days=30, seconds=1)
    done = run_job(sessions, job, later)
    assert done.status == "ok", done.error
    assert done.report is not None and done.report.counts["tenants"] == 1
    assert rows_of(api.world.a.id) == {}
    assert rows_of(api.world.b.id) == before_b
    with sessions() as s:
        assert s.get(Tenant, api.world.a.id) is None
    assert api.call("GET", f"{t(api)}/lifecycle", api.world.operator_token).status_code == 404
