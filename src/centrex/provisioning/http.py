"""GET /provision/<file>: a desk phone fetches its configuration (issue 17 §2; docs/provisioning.md).

The phone names its file by MAC (vendors.py) and authenticates with HTTP Basic (RFC 7617) using the
per-device credentials made with the device — over HTTPS: ``CENTREX_HTTP_TLS_CERT``/``_KEY`` or a
TLS-terminating reverse proxy. A request without credentials gets the 401 challenge (phones send
credentials only when asked) and counts for nothing; wrong credentials, credentials of another
phone and a MAC nobody has all get the same 401 and count as failures of realm ``provisioning`` in
the ban service SIP uses (fairuse/ban_service.py): 5 within 10 minutes ban the source for 10
minutes (fail2ban's defaults, as for SIP). A banned source gets 403 before anything is read.

Mounted outside /api/v1 (it is not the REST API: phones, not tokens).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from centrex.fairuse.ban_service import BanService
from centrex.fairuse.bans import Realm
from centrex.provisioning import storage
from centrex.provisioning.render import CONTENT_TYPES, render
from centrex.provisioning.vendors import Family, family_of, parse_file_name
from centrex.provisioning.vendors import Request as FileRequest

log = logging.getLogger(__name__)

router = APIRouter(prefix="/provision", tags=["provisioning"], include_in_schema=False)
REALM = "Centrex provisioning"
CHALLENGE = {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"', "Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class Served:
    body: str
    family: Family


REFUSED = object()  # wrong credentials, another phone's, or an unknown MAC


def bans_of(app: FastAPI) -> BanService:
    """The node's ban service (``centrex serve`` shares the SIP one), else one of this app's own."""
    bans: BanService | None = getattr(app.state, "bans", None)
    if bans is None:
        bans = BanService(sessions=app.state.sessionmaker)
        bans.load(time.time())
        app.state.bans = bans
    return bans


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def load(
    sessions: sessionmaker[Session], asked: FileRequest, creds: tuple[str, str], server: tuple[str, int]
) -> Served | object | None:
    """The file, REFUSED, or None (these credentials are right, but there is no such file to serve)."""
    with sessions() as session:
        found = storage.authenticate(session, *creds)
        if found is None:
            return REFUSED
        row, device = found
        if not asked.boot and device.mac_address != asked.mac:
            return REFUSED  # the credentials of one phone never open another's file
        family = family_of(row.model)
        if family is None or not asked.served_by(family):
            return None
        config = storage.phone_config(session, row, device, server)
        if config is None:
            return None
        return Served(render(config, boot=asked.boot), family)


@router.get("/{file_name}")
async def fetch(file_name: str, request: Request) -> Response:
    bans = bans_of(request.app)
    source = request.client.host if request.client else ""
    now = time.time()
    if bans.is_banned(source, now, Realm.PROVISIONING):
        return Response(status_code=403)
    asked = parse_file_name(file_name)
    if asked is None:
        return Response(status_code=404)
    creds = basic_credentials(request.headers.get("authorization"))
    if creds is None:
        return Response(status_code=401, headers=CHALLENGE)
    server = getattr(request.app.state, "sip_server", None) or (request.url.hostname or "localhost", 5060)
    result = await run_in_threadpool(load, request.app.state.sessionmaker, asked, creds, server)
    if result is REFUSED:
        bans.failure(Realm.PROVISIONING, source, time.time(), creds[0])
        log.info("provisioning.refused source=%s file=%s user=%r", source, file_name, creds[0])
        return Response(status_code=401, headers=CHALLENGE)
    if not isinstance(result, Served):
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    log.info(
        "provisioning.served source=%s file=%s agent=%r", source, file_name, request.headers.get("user-agent")
    )
    return Response(
        result.body, media_type=CONTENT_TYPES[result.family], headers={"Cache-Control": "no-store"}
    )
