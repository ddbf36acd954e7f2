"""The switch's services in one list: what the call core (calls/engine.py) asks, in this order.

Adding a feature to the call path is a new module and a line here (STYLE.md, "A service plugs
into the core"). The order matters where two services could answer the same question:
- the app server's own calls (pbx/app_origination.py: only from its address), trunks (an INVITE
  from a trunk's address is not a phone's), then 911;
- admission next (capacity, then the toll-fraud guard): capacity sees a user destination before
  the user routing takes it, to count (or refuse) a call crossing a site's link;
- the owners (pbx/owners.py) before park, the groups, queues and apps: a retrieval, queue or
  conference room another node owns is redirected there before anything here takes it;
- park before the hunt groups and queues (a parked call ringing its parker back is the parker's,
  not the group's); apps before the transfers (an app's REFER is a redirect; park leaves it too);
- paging before the hunt groups: it takes only its own extensions and the intercom code;
- hunt groups, queues, then apps resolve an extension that is not a user's (the dial plan);
- the blind transfer last among REFERs (it answers every REFER no other service took);
- the user routing last: when a user's phones all fail, their forwarding or voicemail applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.engine import CallEngine
from centrex.calls.services import CallService
from centrex.capacity.admission import CapacityAdmission
from centrex.capacity.storage import StoreCapacity
from centrex.cpaas.events import CallWebhooks
from centrex.e911.emergency_calls import EmergencyCalls
from centrex.fairuse.toll_guard import TollGuard
from centrex.fairuse.toll_storage import StoreToll
from centrex.numbers.number_use import NumberUse, store_writer
from centrex.pbx.app_origination import AppOrigination
from centrex.pbx.apps import Apps
from centrex.pbx.attended_transfer import AttendedTransfers
from centrex.pbx.blf import DialogEvents
from centrex.pbx.hunt_groups import HuntGroups
from centrex.pbx.mwi import MessageWaiting
from centrex.pbx.owners import Owners
from centrex.pbx.paging import Paging
from centrex.pbx.park import Park
from centrex.pbx.pickup import Pickup
from centrex.pbx.presence import Presence
from centrex.pbx.queues import Queues
from centrex.pbx.subscriptions import DeviceLimit
from centrex.pbx.transfer import BlindTransfer
from centrex.pbx.user_routing import UserRouting
from centrex.routing.trunk_calls import TrunkCalls


@dataclass
class Services:
    """The standard services, by name, for the assembly to give them their ports."""

    trunks: TrunkCalls
    emergency: EmergencyCalls
    capacity: CapacityAdmission
    toll: TollGuard
    number_use: NumberUse
    mwi: MessageWaiting
    blf: DialogEvents
    presence: Presence
    owners: Owners
    apps: Apps
    park: Park
    groups: HuntGroups
    queues: Queues
    pickup: Pickup
    attended: AttendedTransfers
    transfer: BlindTransfer
    users: UserRouting
    paging: Paging = field(default_factory=Paging)  # paging groups and intercom (issue 17 §3)
    webhooks: CallWebhooks = field(default_factory=CallWebhooks)  # call events to webhooks (issue 16 §3)
    originate: AppOrigination | None = None  # calls the app server places (CPaaS, issue 16 §2)

    def ordered(self) -> list[CallService]:
        first: list[CallService] = [self.originate] if self.originate is not None else []
        return [
            *first,
            self.trunks,
            self.emergency,
            self.capacity,
            self.toll,
            self.number_use,
            self.mwi,
            self.blf,
            self.presence,
            self.owners,
            self.park,
            self.paging,
            self.groups,
            self.queues,
            self.apps,
            self.pickup,
            self.attended,
            self.transfer,
            self.users,
            self.webhooks,  # no routing hook: it only listens to the call events
        ]


def standard_services() -> Services:
    trunks = TrunkCalls()
    apps = Apps()
    users = UserRouting(apps)
    groups = HuntGroups()
    queues = Queues()
    watch_limit = DeviceLimit()  # BLF and presence subscriptions of a phone, counted together
    owners = Owners()
    park = Park(apps, users, queues)
    park.slots = owners.claim_slot
    return Services(
        trunks=trunks,
        emergency=EmergencyCalls(trunks),
        capacity=CapacityAdmission(),
        toll=TollGuard(),
        number_use=NumberUse(),
        mwi=MessageWaiting(),
        blf=DialogEvents(watch_limit),
        presence=Presence(watch_limit),
        owners=owners,
        apps=apps,
        park=park,
        groups=groups,
        queues=queues,
        pickup=Pickup(groups),
        attended=AttendedTransfers(),
        transfer=BlindTransfer(),
        users=users,
        originate=AppOrigination(apps),
    )


def attach_admission(engine: CallEngine, sessions: sessionmaker[Session]) -> None:
    """The store ports of the admission services (capacity, toll-fraud guard) and number use."""
    engine.service(CapacityAdmission).source = StoreCapacity(sessions)
    engine.service(TollGuard).source = StoreToll(sessions)
    engine.service(NumberUse).writer = store_writer(sessions)  # reclamation sees real use
