"""A tenant's CPaaS account (issue 16 §2): the account SID and auth token its developers give the
`twilio` package, read and rotated here by the tenant's developers and the operator (Resource.CPAAS)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from centrex.api.deps import TenantDep
from centrex.cpaas.accounts import ensure_account, rotate_token
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/cpaas/account", tags=["cpaas"])


class CpaasAccountOut(BaseModel):
    account_sid: str
    auth_token: str
    api_base_url: str = "/2010-04-01"


@router.get("", response_model=CpaasAccountOut)
def get_cpaas_account(data: TenantDep) -> Any:
    data.require(Resource.CPAAS, Action.READ)
    account = ensure_account(data.session, data.tenant_id)
    return CpaasAccountOut(account_sid=account.sid, auth_token=account.auth_token)


@router.post("/rotate", response_model=CpaasAccountOut)
def rotate(data: TenantDep) -> Any:
    data.require(Resource.CPAAS, Action.UPDATE)
    account = rotate_token(data.session, data.tenant_id)
    data.audit(
        "cpaas.account.rotate", "cpaas_accounts", None, None, {"account_sid": account.sid}, data.tenant_id
    )
    return CpaasAccountOut(account_sid=account.sid, auth_token=account.auth_token)
