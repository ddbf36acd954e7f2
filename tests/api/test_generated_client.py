"""A client generated from /openapi.json (openapi-python-client, as a customer's integration would
make one) works against the API: typed pages and items, the declared error body on 401/404/409/422,
binary downloads, and the Idempotency-Key header — issue 14 point 3."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from centrex.api.app import create_app
from tests.api.conftest import Api

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
# The generator has no model for audio, PDF, CSV or zip bodies; as octet-stream they arrive as bytes.
CONFIG = {
    "project_name_override": "centrex_client",
    "package_name_override": "centrex_client",
    "content_type_overrides": {
        t: "application/octet-stream" for t in ("application/pdf", "audio/wav", "text/csv", "application/zip")
    },
    "post_hooks": [],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    if not GENERATOR.exists():
        pytest.fail("openapi-python-client is a dev dependency: scripts/setup-venv installs it")
    out = tmp_path_factory.mktemp("client")
    spec = out / "openapi.json"
    spec.write_text(json.dumps(create_app(f"sqlite:///{out / 'spec.sqlite3'}").openapi()))
    (out / "config.json").write_text(json.dumps(CONFIG))
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--config",
            str(out / "config.json"),
            "--output-path",
            str(out / "centrex_client"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr  # every operation generated, no warning
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("centrex_client")
    finally:
        sys.path.remove(str(out))


def client_for(gen: ModuleType, api: Api, token: str) -> Any:
    client = gen.AuthenticatedClient(base_url="http://testserver", token=token)
    # The API in this process: the generated code sends through the TestClient's transport.
    return client.set_httpx_client(TestClient(api.app, headers={"Authorization": f"Bearer {token}"}))


def op(name: str) -> Any:
    return importlib.import_module(f"centrex_client.api.{name}")


def test_generated_client_lists_creates_and_reads_users(generated: ModuleType, api: Api) -> None:
    from centrex_client.models import Error, PageUserOut, UserIn, UserOut

    admin = client_for(generated, api, api.world.a.tokens["office_admin"])
    tid = api.world.a.id
    page = op("users.list_users").sync(tenant_id=tid, client=admin, limit=2)
    assert isinstance(page, PageUserOut)
    assert page.limit == 2 and len(page.items) == 2 and page.total >= 2
    made = op("users.create_user").sync_detailed(
        tenant_id=tid, client=admin, body=UserIn(name="Gen Client", extension="4321")
    )
    assert made.status_code == 201
    assert isinstance(made.parsed, UserOut) and made.parsed.extension == "4321"
    again = op("users.get_user").sync(tenant_id=tid, user_id=made.parsed.id, client=admin)
    assert isinstance(again, UserOut) and again.name == "Gen Client"
    clash = op("users.create_user").sync_detailed(
        tenant_id=tid, client=admin, body=UserIn(name="Other", extension="4321")
    )
    assert clash.status_code == 409
    assert isinstance(clash.parsed, Error) and clash.parsed.field == "extension"
    missing = op("users.get_user").sync_detailed(tenant_id=tid, user_id=uuid.uuid4(), client=admin)
    assert missing.status_code == 404 and isinstance(missing.parsed, Error)
    assert missing.parsed.error == "not_found"


def test_generated_client_reads_the_declared_error_bodies(generated: ModuleType, api: Api) -> None:
    from centrex_client.models import Error

    tid = api.world.a.id
    nobody = client_for(generated, api, "cx_000000000000.not-a-token")
    denied = op("users.list_users").sync_detailed(tenant_id=tid, client=nobody)
    assert denied.status_code == 401 and isinstance(denied.parsed, Error)
    assert denied.parsed.error == "unauthorized"
    admin = client_for(generated, api, api.world.a.tokens["office_admin"])
    bad = op("users.list_users").sync_detailed(tenant_id=tid, client=admin, limit=100_000)
    assert bad.status_code == 422 and isinstance(bad.parsed, Error)
    assert bad.parsed.errors and bad.parsed.errors[0].field == "limit"


def test_generated_client_downloads_csv_as_bytes(generated: ModuleType, api: Api) -> None:
    operator = client_for(generated, api, api.world.operator_token)
    csv = op("cdrs.export_cdrs").sync_detailed(tenant_id=api.world.a.id, client=operator)
    assert csv.status_code == 200
    assert csv.parsed.payload.read().decode().splitlines()[0].startswith("id,call_id,start")


def test_generated_client_retry_with_idempotency_key_creates_once(generated: ModuleType, api: Api) -> None:
    from centrex_client.models import UserIn

    admin = client_for(generated, api, api.world.a.tokens["office_admin"])
    tid = api.world.a.id
    body = UserIn(name="Retried", extension="4455")
    first = op("users.create_user").sync_detailed(
        tenant_id=tid, client=admin, body=body, idempotency_key="create-4455"
    )
    second = op("users.create_user").sync_detailed(
        tenant_id=tid, client=admin, body=body, idempotency_key="create-4455"
    )
    assert first.status_code == second.status_code == 201
    assert second.parsed.id == first.parsed.id  # the first answer again, not a second user (or 409)
    assert second.headers.get("idempotent-replayed") == "true"
