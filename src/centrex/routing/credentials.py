"""Trunk credentials on storage (issue 17 §5): a carrier's digest user name and password, and the
registration the switch keeps there, read into the routing table (``routing/model.py Trunk``
``auth_username``/``auth_password``/``register``/``register_domain``/``register_expires``) for
the carrier challenges of trunk_calls.py and the registrations of trunk_register.py.

Kept apart from routing/storage.py's trunk rows: the password is sealed (store/sealed.py), never
returned by the API and never written to the audit log ("(set)" stands for it).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.routing.model import RoutingTable
from centrex.store.access import OperatorData
from centrex.store.errors import Invalid
from centrex.store.models.trunk_credentials import TrunkCredentialsRow
from centrex.store.models.trunks import TrunkRow
from centrex.store.sealed import SealError, seal, unseal

log = logging.getLogger(__name__)

MIN_EXPIRES = 60  # RFC 3261 §10.2.8: registrars may refuse less (423); 60 s is the common floor
MAX_EXPIRES = 86400


def with_credentials(session: Session, table: RoutingTable) -> RoutingTable:
    """The table with each trunk's stored credentials filled in (a trunk whose sealed password
    no key opens is left without, and logged: it stays IP-authenticated rather than break)."""
    rows = list(session.scalars(select(TrunkCredentialsRow)))
    if not rows:
        return table
    trunks = dict(table.trunks)
    for row in rows:
        trunk = trunks.get(row.trunk_id)
        if trunk is None:
            continue
        try:
            password = unseal(session, row.auth_password_sealed)
        except SealError:
            log.error("trunk.credentials_unreadable trunk=%s", trunk.name)
            continue
        trunks[row.trunk_id] = dataclasses.replace(
            trunk,
            auth_username=row.auth_username,
            auth_password=password,
            register=row.register,
            register_domain=row.registrar,
            register_expires=row.register_expires,
        )
    return dataclasses.replace(table, trunks=trunks)


def credentials_of(session: Session, trunk_id: uuid.UUID) -> TrunkCredentialsRow | None:
    return session.scalar(select(TrunkCredentialsRow).where(TrunkCredentialsRow.trunk_id == trunk_id))


def visible(row: TrunkCredentialsRow | None) -> dict[str, Any] | None:
    """What the API and the audit log show: the password only as set."""
    if row is None:
        return None
    return {
        "auth_username": row.auth_username,
        "auth_password": "(set)",
        "register": row.register,
        "registrar": row.registrar,
        "register_expires": row.register_expires,
    }


def put_credentials(
    ops: OperatorData,
    trunk: TrunkRow,
    auth_username: str,
    auth_password: str | None,
    register: bool,
    registrar: str,
    register_expires: int,
) -> TrunkCredentialsRow:
    """Set a trunk's credentials as a whole (``auth_password`` None keeps the stored one). The
    registration's expiry is 60 s to a day."""
    ops.require_operator()
    row = credentials_of(ops.session, trunk.id)
    before = visible(row)
    if row is None and not auth_password:
        raise Invalid("a trunk's first credentials need a password", field="auth_password", rule="required")
    if not MIN_EXPIRES <= register_expires <= MAX_EXPIRES:
        message = f"register_expires must be {MIN_EXPIRES}-{MAX_EXPIRES} seconds"
        raise Invalid(message, field="register_expires", rule="range")
    if row is None:
        row = TrunkCredentialsRow(trunk_id=trunk.id, auth_username="", auth_password_sealed="")
        ops.session.add(row)
    row.auth_username = auth_username
    if auth_password:
        row.auth_password_sealed = seal(ops.session, auth_password)
    row.register, row.registrar, row.register_expires = register, registrar, register_expires
    ops.session.flush()
    ops.audit("trunk.credentials", TrunkRow.__tablename__, trunk.id, before, visible(row), trunk.tenant_id)
    return row


def delete_credentials(ops: OperatorData, trunk: TrunkRow) -> None:
    ops.require_operator()
    row = credentials_of(ops.session, trunk.id)
    if row is None:
        return
    ops.audit("trunk.credentials", TrunkRow.__tablename__, trunk.id, visible(row), None, trunk.tenant_id)
    ops.session.delete(row)
    ops.session.flush()
