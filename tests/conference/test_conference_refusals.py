"""What the app server answers to conference INVITEs it must refuse, over UDP on 127.0.0.1: a bridge
that does not exist or belongs to another tenant is 404 before anything is answered."""

from __future__ import annotations

import uuid

from centrex.store.db import transaction
from centrex.store.models import Tenant
from centrex.store.models.conferences import ConferenceBridge
from tests.apps.test_app_server_sip import final_status
from tests.conference.conftest import Conf


def headers(tenant: uuid.UUID) -> dict[str, str]:
    return {
        "X-Centrex-Tenant": str(tenant),
        "X-Centrex-Call": str(uuid.uuid4()),
        "X-Centrex-Caller": "2001",
        "X-Centrex-Caller-Name": "Ann Ames",
    }


async def test_unknown_or_foreign_bridges_are_404(conf: Conf) -> None:
    with transaction(conf.sessions) as s:
        other = Tenant(name="Other Co", sip_domain="other.example.com")
        s.add(other)
        s.flush()
        foreign = ConferenceBridge(tenant_id=other.id, name="Theirs", extension="7000")
        s.add(foreign)
        s.flush()
        foreign_id = foreign.id
    target = conf.server.address
    mine = conf.bridges.tenant_id
    for user in (f"conf.{uuid.uuid4()}", f"conf.{foreign_id}", "conf.not-a-uuid", "conf-other"):
        response = await final_status(target, user, headers(mine))
        assert response.status == 404, (user, response.status)
    assert conf.server.active_calls == 0
