"""A carrier trunk's digest credentials and registration (issue 17 §5; docs/switch.md
"Registration trunks"): ``PUT /trunks/{id}/credentials`` makes it a registration trunk (``register``)
or gives the switch an answer to the carrier's 401/407 on calls. The password goes in and never
comes out: reads show ``auth_password_set``. Operator only (404 to anyone else, as for trunks).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from centrex.api.deps import OperatorDep
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.routing import credentials, storage
from centrex.store.models.trunk_credentials import TrunkCredentialsRow

router = APIRouter(tags=["routing"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])


class TrunkCredentialsIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    auth_username: str = Field(min_length=1, max_length=128, pattern=r"^[^\s\"\\]+$")
    auth_password: str | None = Field(
        None, min_length=1, max_length=256, description="write-only; leave out to keep the stored one"
    )
    # "register" on the wire (a BaseModel attribute name in Python).
    registers: bool = Field(False, alias="register", description="keep a registration at its gateways")
    registrar: str = Field(
        "",
        max_length=253,
        pattern=r"^[A-Za-z0-9.\-:\[\]]*$",
        description="the carrier's SIP domain in the REGISTER (default: the gateway's host)",
    )
    register_expires: int = Field(600, ge=60, le=86400)


class TrunkCredentialsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    trunk_id: uuid.UUID
    auth_username: str | None = Field(description="null: the trunk has no credentials (IP-authenticated)")
    auth_password_set: bool
    registers: bool = Field(alias="register")
    registrar: str
    register_expires: int


def _out(row: TrunkCredentialsRow) -> dict[str, Any]:
    return {
        "trunk_id": row.trunk_id,
        "auth_username": row.auth_username,
        "auth_password_set": bool(row.auth_password_sealed),
        "register": row.register,
        "registrar": row.registrar,
        "register_expires": row.register_expires,
    }


@router.get("/trunks/{trunk_id}/credentials", response_model=TrunkCredentialsOut)
def get_credentials(trunk_id: uuid.UUID, ops: OperatorDep) -> Any:
    trunk = storage.find_trunk(ops, trunk_id)
    row = credentials.credentials_of(ops.session, trunk.id)
    if row is None:
        return {
            "trunk_id": trunk.id,
            "auth_username": None,
            "auth_password_set": False,
            "register": False,
            "registrar": "",
            "register_expires": 600,
        }
    return _out(row)


@router.put("/trunks/{trunk_id}/credentials", response_model=TrunkCredentialsOut)
def put_credentials(trunk_id: uuid.UUID, body: TrunkCredentialsIn, ops: OperatorDep) -> Any:
    trunk = storage.find_trunk(ops, trunk_id)
    b = body
    row = credentials.put_credentials(
        ops, trunk, b.auth_username, b.auth_password, b.registers, b.registrar, b.register_expires
    )
    return _out(row)


@router.delete("/trunks/{trunk_id}/credentials", status_code=204)
def delete_credentials(trunk_id: uuid.UUID, ops: OperatorDep) -> Response:
    """The trunk goes back to IP authentication (and stops registering). Idempotent."""
    credentials.delete_credentials(ops, storage.find_trunk(ops, trunk_id))
    return Response(status_code=204)
