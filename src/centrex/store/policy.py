"""Who may do what: one table, read by the access layer and nowhere else.

The MACs of hosted-pbx.txt (Moves, Adds, and Changes: "Customer must designate one Office
Administrator and one Office Administrator back-up that will contact CNI-Independents ... to request
changes") are made only by those two or by an operator. Call records are CPNI: only the tenant's CPNI
administrator and the users it grants may read them (voip-service-guide.txt §V.12).
"""

from __future__ import annotations

from enum import StrEnum

from centrex.store.models.enums import Role


class Resource(StrEnum):
    TENANT = "tenant"
    SITE = "site"
    USER = "user"
    DEVICE = "device"
    NUMBER = "number"
    HUNT_GROUP = "hunt_group"
    RESTRICTION_CLASS = "restriction_class"
    DIRECTORY = "directory"
    MAILBOX = "mailbox"
    DESIGNATION = "designation"
    CPNI_GRANT = "cpni_grant"
    CDR = "cdr"
    AUDIT = "audit"
    TOKEN = "token"
    SELF = "self"  # an end user's own settings
    CPAAS = "cpaas"
    BILLING = "billing"  # plans, subscriptions, rating runs, invoices, credit notes, payments, outages
    DISPUTE = "dispute"
    PORT_ORDER = "port_order"  # port-in orders: written by the customer's administrators
    PORT_PROGRESS = "port_progress"  # the losing carrier's answers (FOC, completion, rejection)
    PORT_OUT = "port_out"  # may a number be ported away (cpaas.txt §2.4.5)
    LISTING = "listing"  # directory listings (voip-service-guide.txt §III.3.4.1)
    E911_LOCATION = "e911_location"  # registered dispatchable locations
    E911_CONTACT = "e911_contact"  # who is notified of a 911 call
    E911_NOMADIC = "e911_nomadic"  # networks a device registered from; confirming its location there
    TRUNK = "trunk"  # a tenant's own PBX trunks (IP trunking); the rest of routing is the operator's
    RECORDING = "recording"  # call recordings: CPNI, read as call records are (§V.12)
    RECORDING_POLICY = "recording_policy"  # who is recorded, the feature code, the retention period
    VOICEMAIL = "voicemail"  # a user's own voicemail messages (audio included), through /me
    QUEUE = "queue"  # call-center queues: settings, members, agents' logins, statistics
    QUEUE_LIVE = "queue_live"  # a queue's live figures: administrators, and the queue's own agents
    CONFERENCE = "conference"  # conference bridges and who is in their rooms now
    ATTENDANT = "attendant"  # auto attendant menus, their options and schedules
    PBX_SETTINGS = "pbx_settings"  # the tenant's feature codes, direct media, park timeout
    TICKET = "ticket"  # trouble tickets: reported by the office administrator or back-up
    WEBHOOK = "webhook"  # a tenant's event subscriptions, their secrets and delivery logs (issue 16 §3)
    FLOW = "flow"  # flows (Studio JSON), their revisions, executions and step logs (issue 20 §1)
    CAMPAIGN = "campaign"  # campaigns, contact lists, consent records, the tenant's DNC list (issue 20 §2)
    INSIGHTS = "insights"  # dashboards, reports, saved dashboards and alert rules (issue 20 §3)
    SOFTPHONE = "softphone"  # a user's own browser phone: its device record and SIP password (issue 18 §3)


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


OP = Role.OPERATOR
ADMINS = frozenset({Role.OFFICE_ADMIN, Role.BACKUP_ADMIN})
STAFF = ADMINS | {OP}
ALL_USERS = ADMINS | {Role.CPNI_ADMIN, Role.END_USER}

R, C, U, D = Action.READ, Action.CREATE, Action.UPDATE, Action.DELETE

# (resource, action) -> roles allowed. Anything not listed is refused.
POLICY: dict[tuple[Resource, Action], frozenset[Role]] = {
    # Tenants, their sites and the pool of numbers are the operator's (the contract's capacity and
    # addresses); the tenant's staff may read their own.
    (Resource.TENANT, R): STAFF | {Role.CPNI_ADMIN},
    (Resource.TENANT, C): frozenset({OP}),
    (Resource.TENANT, U): frozenset({OP}),
    (Resource.TENANT, D): frozenset({OP}),
    (Resource.SITE, R): STAFF,
    (Resource.SITE, C): frozenset({OP}),
    (Resource.SITE, U): frozenset({OP}),
    (Resource.SITE, D): frozenset({OP}),
    # Moves, adds and changes: office administrator, back-up, operator.
    **{
        (res, act): STAFF
        for res in (
            Resource.USER,
            Resource.DEVICE,
            Resource.HUNT_GROUP,
            Resource.RESTRICTION_CLASS,
            Resource.MAILBOX,
        )
        for act in (R, C, U, D)
    },
    (Resource.NUMBER, R): STAFF | {Role.DEVELOPER},
    (Resource.NUMBER, U): STAFF,  # incoming call routing, CNAM
    (Resource.NUMBER, C): frozenset({OP}),  # numbers come from the operator's inventory
    (Resource.NUMBER, D): frozenset({OP}),
    (Resource.DIRECTORY, R): STAFF | {Role.CPNI_ADMIN, Role.END_USER},
    (Resource.DIRECTORY, C): STAFF,
    (Resource.DIRECTORY, U): STAFF,
    (Resource.DIRECTORY, D): STAFF,
    (Resource.DESIGNATION, R): STAFF | {Role.CPNI_ADMIN},
    (Resource.DESIGNATION, U): frozenset({OP}),
    (Resource.CPNI_GRANT, R): frozenset({OP, Role.CPNI_ADMIN}),
    (Resource.CPNI_GRANT, C): frozenset({OP, Role.CPNI_ADMIN}),
    (Resource.CPNI_GRANT, D): frozenset({OP, Role.CPNI_ADMIN}),
    (Resource.CDR, R): frozenset({OP, Role.CPNI_ADMIN}),  # plus granted users, see may()
    (Resource.CDR, C): frozenset({OP}),  # the switch (and an operator's import) writes call records
    # Billing: the customer's administrators read their account; only the provider rates, invoices,
    # records payments, issues credit notes and outages. A Dispute Notice comes from the customer
    # (cpaas.txt §4.6: "Customer will provide written notice ... of any disputed charge"), i.e. its
    # administrators, or is recorded by an operator.
    (Resource.BILLING, R): STAFF,
    (Resource.BILLING, C): frozenset({OP}),
    (Resource.BILLING, U): frozenset({OP}),
    (Resource.BILLING, D): frozenset({OP}),
    (Resource.DISPUTE, R): STAFF,
    (Resource.DISPUTE, C): STAFF,
    (Resource.DISPUTE, U): frozenset({OP}),
    # Numbers and 911 (issue 6): the office administrator, back-up or operator orders ports, lists
    # numbers in the directory and registers 911 locations and notification contacts, as with the
    # other MACs. The losing carrier's answers to a port order (FOC date, completion, rejection)
    # reach the provider, so only an operator records them.
    **{(Resource.PORT_ORDER, act): STAFF for act in (R, C, U, D)},
    (Resource.PORT_PROGRESS, U): frozenset({OP}),
    (Resource.PORT_OUT, R): STAFF,
    **{(Resource.LISTING, act): STAFF for act in (R, C, U, D)},
    **{(Resource.E911_LOCATION, act): STAFF for act in (R, C, U, D)},
    **{(Resource.E911_CONTACT, act): STAFF for act in (R, C, U, D)},
    # Nomadic use: the office administrator, back-up or operator sees which phones moved and
    # confirms their location (§V.14.3 "Customer ... verifies"); a user confirms their own phones
    # through /me (Resource.SELF; §V.14.4.2 end-users register their temporary location).
    (Resource.E911_NOMADIC, R): STAFF,
    (Resource.E911_NOMADIC, U): STAFF,
    # Trunks and routes are the operator's (OperatorData); a tenant's administrators may read the
    # pbx trunks that carry their own DIDs to their PBX (voip-service-guide.txt §I.4, IP trunking).
    (Resource.TRUNK, R): STAFF,
    # Voicemail messages are the mailbox owner's: listened to, saved and deleted through /me (the
    # routes scope them to the caller). Administrators see only a mailbox's message list through
    # Resource.MAILBOX (MAC 8), never the audio: a message's content is the caller's and the owner's.
    (Resource.VOICEMAIL, R): ALL_USERS,
    (Resource.VOICEMAIL, U): ALL_USERS,
    (Resource.VOICEMAIL, D): ALL_USERS,
    # Call recordings (hosted-pbx.txt, "Hosted Call Recording") are the content of calls, so at
    # least as private as their records: read by whom the CPNI administrator allows, like CDRs (plus
    # granted users, see may()). The switch makes them; retention deletes them as the operator.
    (Resource.RECORDING, R): frozenset({OP, Role.CPNI_ADMIN}),
    (Resource.RECORDING, C): frozenset({OP}),
    (Resource.RECORDING, D): frozenset({OP}),
    # Whom to record is the customer's setting, made like the MACs by its administrators.
    **{(Resource.RECORDING_POLICY, act): STAFF for act in (R, C, U, D)},
    # Conference bridges are set up like hunt groups, by the customer's administrators (a MAC).
    **{(Resource.CONFERENCE, act): STAFF for act in (R, C, U, D)},
    # Auto attendant menus route the tenant's incoming calls (MAC 9 targets): set up like hunt
    # groups (MAC 5) by the office administrator, back-up or operator.
    **{(Resource.ATTENDANT, act): STAFF for act in (R, C, U, D)},
    # The PBX's own settings (issue 4 points 1 and 6: feature codes, direct media, park timeout)
    # are programming changes of the customer's phone system, made as the MACs are.
    **{(Resource.PBX_SETTINGS, act): STAFF for act in (R, U)},
    # Call-center queues (issue 4 point 4) are set up like hunt groups (MAC 5) by the office
    # administrator, back-up or operator, who also log agents in and out and read the statistics.
    # An agent may watch their own queue's live figures (callers waiting, longest wait): the route
    # lets a non-administrator through only for a queue they are a member of.
    **{(Resource.QUEUE, act): STAFF for act in (R, C, U, D)},
    (Resource.QUEUE_LIVE, R): STAFF | ALL_USERS,
    # Trouble tickets (issue 19 part 2): "Customer must designate one Office Administrator and one
    # Office Administrator back-up that will contact CNI-Independents to report issues"
    # (hosted-pbx.txt, MACs): they alone open a tenant's tickets; the operator's are opened from
    # alarms and answered through the operator routes (/tickets).
    (Resource.TICKET, R): STAFF,
    (Resource.TICKET, C): ADMINS,
    (Resource.AUDIT, R): STAFF,
    (Resource.TOKEN, R): STAFF,
    (Resource.TOKEN, C): STAFF,
    (Resource.TOKEN, U): STAFF,
    (Resource.TOKEN, D): STAFF,
    (Resource.SELF, R): ALL_USERS,
    # The browser phone (issue 18 §3) is one of the user's own devices: the user makes it (through
    # /me, scoped to themselves) the way a desk phone is plugged in; administrators see and manage it
    # afterwards as any device (Resource.DEVICE).
    (Resource.SOFTPHONE, R): ALL_USERS,
    (Resource.SOFTPHONE, C): ALL_USERS,
    (Resource.SOFTPHONE, D): ALL_USERS,
    (Resource.SELF, U): ALL_USERS,
    (Resource.CPAAS, R): frozenset({OP, Role.DEVELOPER}),
    (Resource.CPAAS, C): frozenset({OP, Role.DEVELOPER}),
    (Resource.CPAAS, U): frozenset({OP, Role.DEVELOPER}),
    (Resource.CPAAS, D): frozenset({OP, Role.DEVELOPER}),
    # Event webhooks (issue 16 §3): the tenant's administrators wire them to their systems, its
    # developers to their apps; the operator helps both. Events carry call records (CPNI), so no
    # one else of the tenant.
    **{(Resource.WEBHOOK, act): STAFF | {Role.DEVELOPER} for act in (R, C, U, D)},
    # Flows (issue 20 §1, FLOWS.md): office administrators and developers build and run them, the
    # operator helps. Execution logs hold message bodies (content), so no end user.
    **{(Resource.FLOW, act): STAFF | {Role.DEVELOPER} for act in (R, C, U, D)},
    # Campaigns (issue 20 §2, cpaas.txt §2.2.2 Engage): the tenant's marketing is run by its
    # administrators (the office staff reach their customers) and built by its developers (the
    # API); the operator helps both. Contacts, consent and the DNC list are personal data of the
    # tenant's customers (cpaas.txt §2.4.2 "Customer Information"): no end user, no CPNI admin.
    **{(Resource.CAMPAIGN, act): STAFF | {Role.DEVELOPER} for act in (R, C, U, D)},
    # Insights (issue 20 §3, cpaas.txt §2.2.3): the figures name callers and callees (CPNI), so the
    # same people as webhooks: the tenant's administrators, its developers, the operator.
    **{(Resource.INSIGHTS, act): STAFF | {Role.DEVELOPER} for act in (R, C, U, D)},
}


def may(roles: frozenset[Role], resource: Resource, action: Action, *, cpni_granted: bool = False) -> bool:
    if resource in (Resource.CDR, Resource.RECORDING) and action is Action.READ and cpni_granted:
        return True
    return bool(roles & POLICY.get((resource, action), frozenset()))
