"""Nomadic use on stored data: the networks each device registers from (`device_networks`), the
decision of e911/nomadic.py for the network it is on now, and confirmation of the location.

voip-service-guide.txt §V.14.3 (IP Trunking): "detect when an end-user has moved his or her VoIP
phone ... to a non-primary service location, and suspend VoIP Service unless and until either
Customer (a) verifies that the end-user is at the location for which the VoIP phone is registered
for service or (b) re-registers the VoIP phone for service ... at the end-user's current location".
§V.14.4.1/§V.14.4.2 (Hosted IP Centrex): the user "must report the change of location"; calls go on.

The first network: a move needs a place moved from. The contract speaks of the "registered primary
service location" (§V.14.2.4) and of detecting that the phone was moved "to a non-primary service
location" (§V.14.3); a phone is provisioned for its registered location, so the network of its
first registration is taken as that location's network (confirmed "first registration"). Every
network after it is a move until the location is confirmed there (a) or the registered location is
updated while the phone is there (b). Going back to a confirmed network needs nothing: the phone is
at its registered location again (decide_nomadic: a known network is NONE).

911 itself is never held (e911/policy.py may_refuse): `held` only answers for non-911 calls.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.e911.nomadic import NomadicAction, NomadicDecision, decide_nomadic, network_id
from centrex.numbers.service import ServiceType as ContractService
from centrex.store.access import TenantData
from centrex.store.db import transaction
from centrex.store.errors import Conflict
from centrex.store.models import Device, ServiceType, Tenant
from centrex.store.models.e911_nomadic import DeviceNetwork
from centrex.store.models.numbering import LocationSubject, RegisteredLocation
from centrex.store.policy import Action, Resource

__all__ = [
    "FIRST_REGISTRATION",
    "NomadicState",
    "NomadicTracker",
    "confirm_location",
    "contract_service",
    "current_decision",
    "nomadic_state",
    "note_registration",
]

log = logging.getLogger(__name__)

FIRST_REGISTRATION = "first registration"
CONFIRM_RULE = "voip-service-guide.txt §V.14.3 (a) verifies the location, §V.14.4.2"

_CONTRACT: dict[str, ContractService] = {
    ServiceType.HOSTED_CENTREX.value: ContractService.HOSTED_IP_CENTREX,
    ServiceType.IP_TRUNKING.value: ContractService.IP_TRUNKING,
    ServiceType.INTEGRATED_ACCESS.value: ContractService.IP_INTEGRATED_ACCESS,
}


def contract_service(service_type: ServiceType | ContractService | str) -> ContractService:
    """The contract's service type (numbers/service.py) for a tenant's stored `service_type`."""
    if isinstance(service_type, ContractService):
        return service_type
    value = str(getattr(service_type, "value", service_type))
    if value in _CONTRACT:
        return _CONTRACT[value]
    return ContractService(value)


def _networks(session: Session, tenant_id: uuid.UUID, device_id: uuid.UUID) -> list[DeviceNetwork]:
    """The device's networks, the one it registered from last first."""
    return list(
        session.scalars(
            select(DeviceNetwork)
            .where(DeviceNetwork.tenant_id == tenant_id, DeviceNetwork.device_id == device_id)
            .order_by(DeviceNetwork.last_seen.desc(), DeviceNetwork.first_seen.desc())
        )
    )


def _decide(service: ContractService, rows: list[DeviceNetwork]) -> NomadicDecision | None:
    if not rows:
        return None
    current = rows[0]
    known = {r.network for r in rows if r.location_confirmed_at is not None}
    return decide_nomadic(
        service, current.network, known, location_confirmed=current.location_confirmed_at is not None
    )


def note_registration(
    session: Session,
    tenant_id: uuid.UUID,
    device_id: uuid.UUID,
    source_ip: str,
    service_type: ServiceType | ContractService | str,
    now: datetime,
) -> NomadicDecision:
    """Record that the device registered from `source_ip` at `now` and decide what that means
    (e911/nomadic.py decide_nomadic). The first network of a device is its known network; a later
    new one is flagged. Writes in the caller's transaction: a new row for a new network, else
    `last_seen`."""
    network = network_id(source_ip)
    rows = _networks(session, tenant_id, device_id)
    row = next((r for r in rows if r.network == network), None)
    if row is None:
        first = not rows
        row = DeviceNetwork(
            tenant_id=tenant_id,
            device_id=device_id,
            network=network,
            first_seen=now,
            last_seen=now,
            location_confirmed_at=now if first else None,
            confirmed_by=FIRST_REGISTRATION if first else None,
        )
        session.add(row)
        session.flush()
        if not first:
            log.warning(
                "e911.nomadic new network tenant=%s device=%s network=%s", tenant_id, device_id, network
            )
    elif row.last_seen < now:
        row.last_seen = now
        session.flush()
    rows = [row, *(r for r in rows if r is not row)]
    decision = _decide(contract_service(service_type), rows)
    assert decision is not None
    return decision


def current_decision(
    session: Session,
    tenant_id: uuid.UUID,
    device_id: uuid.UUID,
    service_type: ServiceType | ContractService | str | None = None,
) -> NomadicDecision | None:
    """The decision for the network the device registered from last (None: it never registered).
    Reads only. `service_type` defaults to the tenant's."""
    if service_type is None:
        service_type = session.scalar(select(Tenant.service_type).where(Tenant.id == tenant_id))
        if service_type is None:
            return None
    return _decide(contract_service(service_type), _networks(session, tenant_id, device_id))


# --- the API: state and confirmation --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NomadicState:
    device: Device
    decision: NomadicDecision | None
    networks: list[DeviceNetwork]

    @property
    def current(self) -> DeviceNetwork | None:
        return self.networks[0] if self.networks else None

    @property
    def held(self) -> bool:
        return self.decision is not None and not self.decision.non_emergency_calls_allowed


def nomadic_state(data: TenantData, device: Device, resource: Resource) -> NomadicState:
    data.require(resource, Action.READ)
    rows = _networks(data.session, data.tenant_id, device.id)
    return NomadicState(device, _decide(contract_service(data.tenant.service_type), rows), rows)


def _has_location(session: Session, tenant_id: uuid.UUID, device: Device) -> bool:
    subjects = [(LocationSubject.DEVICE, device.id)]
    if device.user_id is not None:
        subjects.append((LocationSubject.USER, device.user_id))
    for subject, subject_id in subjects:
        found = session.scalar(
            select(RegisteredLocation.id).where(
                RegisteredLocation.tenant_id == tenant_id,
                RegisteredLocation.subject_type == subject,
                RegisteredLocation.subject_id == subject_id,
            )
        )
        if found is not None:
            return True
    return False


def confirm_location(
    data: TenantData,
    device: Device,
    at: datetime,
    resource: Resource,
    *,
    require_location: bool = True,
    reason: str = "",
    action: str = "e911.location.confirm",
) -> DeviceNetwork | None:
    """The user or an administrator confirms that the device is at its registered location on the
    network it registered from last (§V.14.3 (a); §V.14.4.1 "report the change of location"); that
    lifts an IP Trunking hold. Audited (`action`) with who confirmed. None when the
    device never registered or the network is already confirmed."""
    data.require(resource, Action.UPDATE)
    rows = _networks(data.session, data.tenant_id, device.id)
    if not rows or rows[0].location_confirmed_at is not None:
        return None
    if require_location and not _has_location(data.session, data.tenant_id, device):
        raise Conflict(
            "this phone and its user have no registered 911 location to confirm; register one first",
            field="location",
            rule=CONFIRM_RULE,
        )
    return data.update(
        rows[0],
        action,
        {
            "location_confirmed_at": at,
            "confirmed_by": data.principal.label + (f" ({reason})" if reason else ""),
        },
        resource,
    )


# --- the registrar's cached view --------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    network: str | None
    service: ContractService
    decision: NomadicDecision | None
    written_at: datetime  # when this process last wrote the network's last_seen
    read_at: datetime  # when the decision was last read or made


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class NomadicTracker:
    """The registrar's and call engine's view of nomadic use, cached in memory.

    `registered` is called on every REGISTER: it writes only when the device shows up on another
    network than the one cached, or once `refresh` has passed since the last write (last_seen), so
    re-registrations every minute cost no database work. `held` is asked before a non-911 call: a
    cached "not held" answer is trusted for `ttl`; a hold is re-read every time, so a confirmation
    made through the API (another session, perhaps another node) lifts it at the next call.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        refresh: timedelta = timedelta(hours=1),
        ttl: timedelta = timedelta(seconds=30),
    ) -> None:
        self._sessions = sessions
        self.refresh = refresh
        self.ttl = ttl
        self._cache: dict[tuple[uuid.UUID, uuid.UUID], _Entry] = {}
        self.writes = 0  # how many REGISTERs reached the database (for tests and metrics)

    def registered(
        self,
        tenant_id: uuid.UUID,
        device_id: uuid.UUID,
        source_ip: str,
        service_type: ServiceType | ContractService | str,
        now: datetime | None = None,
    ) -> NomadicDecision:
        """A REGISTER from `source_ip` (the packet's source address) was accepted."""
        now = now or datetime.now(UTC)
        service = contract_service(service_type)
        network = network_id(source_ip)
        key = (tenant_id, device_id)
        entry = self._cache.get(key)
        if (
            entry is not None
            and entry.network == network
            and entry.service is service
            and now - entry.written_at < self.refresh
        ):
            if entry.decision is not None and entry.decision.action is not NomadicAction.HOLD_NON_EMERGENCY:
                return entry.decision
            with self._sessions() as s:  # held: was it confirmed meanwhile?
                decision = current_decision(s, tenant_id, device_id, service)
            if decision is not None:
                entry.decision, entry.read_at = decision, now
                return decision
        decision = self._write(tenant_id, device_id, source_ip, service, now)
        self._cache[key] = _Entry(network, service, decision, now, now)
        return decision

    def _write(
        self,
        tenant_id: uuid.UUID,
        device_id: uuid.UUID,
        source_ip: str,
        service: ContractService,
        now: datetime,
    ) -> NomadicDecision:
        self.writes += 1
        try:
            with transaction(self._sessions) as s:
                return note_registration(s, tenant_id, device_id, source_ip, service, now)
        except IntegrityError:
            # Another node recorded the same new network at the same moment: its row stands.
            with transaction(self._sessions) as s:
                return note_registration(s, tenant_id, device_id, source_ip, service, now)

    def held(
        self, tenant_id: uuid.UUID, device_id: uuid.UUID, now: datetime | None = None
    ) -> NomadicDecision | None:
        """The decision holding the device's calls other than 911 (IP Trunking on a network whose
        location was not verified, §V.14.3; or outside the E-911 service area, §V.14.4.1), or None
        when its calls may go. The caller still asks e911/policy.py may_refuse: 911 always goes."""
        now = now or datetime.now(UTC)
        key = (tenant_id, device_id)
        entry = self._cache.get(key)
        fresh = entry is not None and now - entry.read_at < self.ttl
        if not fresh or (
            entry is not None
            and entry.decision is not None
            and not entry.decision.non_emergency_calls_allowed
        ):
            with self._sessions() as s:
                service: ContractService | str | None = entry.service if entry is not None else None
                if service is None:
                    stored = s.scalar(select(Tenant.service_type).where(Tenant.id == tenant_id))
                    if stored is None:
                        return None
                    service = contract_service(stored)
                rows = _networks(s, tenant_id, device_id)
                decision = _decide(contract_service(service), rows)
                network = rows[0].network if rows else None
            if entry is None:
                entry = _Entry(network, contract_service(service), decision, _NEVER, now)
                self._cache[key] = entry
            else:
                entry.decision, entry.read_at = decision, now
        assert entry is not None
        decision = entry.decision
        if decision is None or decision.non_emergency_calls_allowed:
            return None
        return decision

    def forget(self, tenant_id: uuid.UUID, device_id: uuid.UUID) -> None:
        """Drop the cached view of a device (deleted, or moved to another tenant)."""
        self._cache.pop((tenant_id, device_id), None)
