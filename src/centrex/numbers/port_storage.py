"""Port-in orders and port-out standing on stored data (numbers/porting.py holds the rules).

Reads and writes go through the access layer, so every query is scoped by tenant and checked by
store/policy.py; errors name the field and the rule (storage.Problem / ProblemList)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from centrex.numbers import porting
from centrex.numbers.e164 import to_e164
from centrex.numbers.storage import Problem, ProblemList, now, touch_usage
from centrex.store.access import TenantData, apply_changes, snapshot
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import (
    InvoiceRow,
    NumberKind,
    NumberStatus,
    PhoneNumber,
    TenantStatus,
)
from centrex.store.models.numbering import PortOrder
from centrex.store.policy import Action, Resource

# --- port-in orders ------------------------------------------------------------------------------

PORT_FIELDS = (
    "account_name",
    "account_street",
    "account_unit",
    "account_city",
    "account_state",
    "account_postal_code",
    "account_number",
    "numbers",
    "services",
    "contact_phone",
    "contact_email",
    "pin",
    "billing_telephone_number",
    "loa_signer",
    "loa_signed_on",
    "loa_numbers",
    "requested_foc_date",
)
_RULE_CSR = "hosted-pbx.txt §2.5"
_API_FIELD = {  # the dotted paths of numbers/porting.py → the API's flat field names
    "csr.account_name": "account_name",
    "csr.account_address": "account_address",
    "csr.account_address.street": "account_street",
    "csr.account_address.city": "account_city",
    "csr.account_address.state": "account_state",
    "csr.account_address.postal_code": "account_postal_code",
    "csr.account_number": "account_number",
    "csr.numbers": "numbers",
    "csr.services": "services",
    "csr.contact_phone": "contact_phone",
    "csr.contact_email": "contact_email",
    "loa.signer": "loa_signer",
    "loa.signed_on": "loa_signed_on",
    "loa.numbers": "loa_numbers",
}


def _api_field(path: str) -> str:
    head, bracket, index = path.partition("[")
    return _API_FIELD.get(head, head) + (bracket + index if bracket else "")


def _order_of(row: PortOrder) -> porting.PortInOrder:
    address = None
    if any((row.account_street, row.account_city, row.account_state, row.account_postal_code)):
        address = porting.PortAddress(
            row.account_street, row.account_city, row.account_state, row.account_postal_code, row.account_unit
        )
    return porting.PortInOrder(
        csr=porting.CustomerServiceRecord(
            row.account_name,
            address,
            row.account_number,
            tuple(row.numbers or ()),
            tuple(row.services or ()),
            row.contact_phone,
            row.contact_email,
        ),
        pin=row.pin,
        billing_telephone_number=row.billing_telephone_number,
        loa=porting.LetterOfAuthorization(row.loa_signer, row.loa_signed_on, tuple(row.loa_numbers or ())),
        requested_foc_date=row.requested_foc_date,
    )


def _status_of(row: PortOrder) -> porting.PortStatus:
    return porting.PortStatus(porting.PortState(row.status), row.foc_date, row.rejection_reason)


def port_order_problems(row: PortOrder, today: date) -> list[Problem]:
    """Every missing or invalid field (numbers/porting.py validate_port_in), with API field names."""
    return [
        Problem(_api_field(e.field), e.message, _RULE_CSR)
        for e in porting.validate_port_in(_order_of(row), today)
    ]


def _redacted(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """The losing carrier's PIN is never written to the audit log, only whether it is set."""
    if values is None or "pin" not in values:
        return values
    return {**values, "pin": "(set)" if values["pin"] else None}


def create_port_order(data: TenantData, values: dict[str, Any]) -> PortOrder:
    data.require(Resource.PORT_ORDER, Action.CREATE)
    row = PortOrder(tenant_id=data.tenant_id, status=porting.PortState.DRAFT.value, **values)
    data.session.add(row)
    data.session.flush()
    data.audit("port_order.create", "port_orders", row.id, None, _redacted(snapshot(row)), data.tenant_id)
    return row


def _change(
    data: TenantData, row: PortOrder, action: str, changes: dict[str, Any], resource: Resource
) -> None:
    data.require(resource, Action.UPDATE)
    diff = apply_changes(data.session, row, changes)
    if diff:
        before, after = diff
        if "pin" in changes and "pin" in after:
            before, after = {**before, "pin": "(set)"}, {**after, "pin": "(changed)"}
        data.audit(action, "port_orders", row.id, before, after, data.tenant_id)


def get_port_order(data: TenantData, order_id: uuid.UUID) -> PortOrder:
    return data.get(PortOrder, order_id, Resource.PORT_ORDER)


def _transition_conflict(exc: porting.InvalidTransition) -> Conflict:
    return Conflict(
        str(exc),
        field="status",
        rule=f"port order {exc.current.value} → {exc.wanted.value} (hosted-pbx.txt §2.5)",
    )


def edit_port_order(data: TenantData, row: PortOrder, changes: dict[str, Any]) -> PortOrder:
    """Only a draft is edited (a rejected order is revised back to draft first)."""
    data.require(Resource.PORT_ORDER, Action.UPDATE)
    if row.status != porting.PortState.DRAFT.value:
        raise Conflict(
            f"a {row.status} port order cannot be edited; only a draft can"
            + (" (revise the rejected order first)" if row.status == "rejected" else ""),
            field="status",
            rule="port order: edit only in draft",
        )
    _change(data, row, "port_order.edit", changes, Resource.PORT_ORDER)
    return row


def submit_port_order(data: TenantData, row: PortOrder, today: date) -> PortOrder:
    """draft → submitted, only with every field of the customer service record (hosted-pbx.txt §2.5)
    and the letter of authorization: `ProblemList` names each missing or invalid field."""
    data.require(Resource.PORT_ORDER, Action.UPDATE)
    try:
        status = porting.submit(_status_of(row), _order_of(row), today)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    except porting.PortOrderInvalid:
        problems = port_order_problems(row, today)
        raise ProblemList(
            f"the port order cannot be submitted: {len(problems)} field(s) missing or invalid", problems
        ) from None
    # A draft keeps what was typed; a submitted order holds E.164 only (validation has passed).
    e164s = {
        "numbers": [to_e164(n) for n in row.numbers or ()],
        "loa_numbers": [to_e164(n) for n in row.loa_numbers or ()],
        "billing_telephone_number": to_e164(row.billing_telephone_number),
        "contact_phone": to_e164(row.contact_phone),
    }
    numbers = e164s["numbers"]
    taken = [
        n.e164
        for n in data.session.scalars(select(PhoneNumber).where(PhoneNumber.e164.in_(numbers)))
        if n.tenant_id is not None
    ]
    if taken:
        raise Conflict(
            "already on the service: " + ", ".join(sorted(taken)),
            field="numbers",
            rule="port order: numbers not in service",
        )
    _change(
        data,
        row,
        "port_order.submit",
        {**e164s, "status": status.state.value, "submitted_at": now()},
        Resource.PORT_ORDER,
    )
    return row


def confirm_port_foc(data: TenantData, row: PortOrder, foc_date: date) -> PortOrder:
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    try:
        status = porting.confirm_foc(_status_of(row), foc_date)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    _change(
        data,
        row,
        "port_order.foc",
        {"status": status.state.value, "foc_date": foc_date},
        Resource.PORT_PROGRESS,
    )
    return row


def reject_port_order(data: TenantData, row: PortOrder, reason: str) -> PortOrder:
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    try:
        status = porting.reject(_status_of(row), reason)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    except ValueError as exc:
        raise Invalid(str(exc), field="reason", rule="port order: rejection reason") from None
    _change(
        data,
        row,
        "port_order.reject",
        {"status": status.state.value, "foc_date": None, "rejection_reason": status.rejection_reason},
        Resource.PORT_PROGRESS,
    )
    return row


def revise_port_order(data: TenantData, row: PortOrder) -> PortOrder:
    data.require(Resource.PORT_ORDER, Action.UPDATE)
    try:
        status = porting.revise(_status_of(row))
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    _change(data, row, "port_order.revise", {"status": status.state.value}, Resource.PORT_ORDER)
    return row


def complete_port_order(data: TenantData, row: PortOrder, on: date) -> PortOrder:
    """foc → completed, not before the FOC date. The ported numbers join the tenant's inventory
    (reserved, to be routed), in the same transaction."""
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    try:
        status = porting.complete(_status_of(row), on)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    stamp = now()
    for raw in row.numbers or ():
        e164 = to_e164(raw)
        number = data.session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
        if number is not None and number.tenant_id not in (None, data.tenant_id):
            raise Conflict(
                f"{e164} belongs to another account",
                field="numbers",
                rule="port order: numbers not in service",
            )
        if number is None:
            number = PhoneNumber(e164=e164, kind=NumberKind.DID, status=NumberStatus.RESERVED)
            data.session.add(number)
        number.tenant_id = data.tenant_id
        if number.status in (NumberStatus.AVAILABLE, NumberStatus.PORTING, NumberStatus.AGING):
            number.status = NumberStatus.RESERVED
        data.session.flush()
        touch_usage(data.session, number.id, assigned_at=stamp)
        data.audit("number.port_in", "numbers", number.id, None, snapshot(number), data.tenant_id)
    _change(
        data,
        row,
        "port_order.complete",
        {"status": status.state.value, "completed_at": stamp},
        Resource.PORT_PROGRESS,
    )
    return row


# --- port-out standing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    in_good_standing: bool
    reasons: tuple[str, ...]
    overdue_invoices: tuple[str, ...]


def account_standing(data: TenantData, as_of: date) -> Standing:
    """Good standing for cpaas.txt §2.4.5: the tenant is active and no invoice has an undisputed
    amount past its due date (billing/account_state.py, read only)."""
    from centrex.billing.account_state import account_state

    data.require(Resource.PORT_OUT, Action.READ)
    reasons: list[str] = []
    if data.tenant.status is not TenantStatus.ACTIVE:
        reasons.append(f"the account is {data.tenant.status.value}")
    overdue: list[str] = []
    stmt = (
        data.select(InvoiceRow, Resource.PORT_OUT)
        .where(InvoiceRow.due_date < as_of)
        .order_by(InvoiceRow.sequence)
    )
    for invoice in data.session.scalars(stmt):
        state = account_state(data, invoice, as_of)
        if state.overdue:
            overdue.append(invoice.number)
            reasons.append(
                f"invoice {invoice.number} has {state.undisputed_due} undisputed due since "
                f"{invoice.due_date.isoformat()}"
            )
    return Standing(not reasons, tuple(reasons), tuple(overdue))


def port_out_check(
    data: TenantData, number_id: uuid.UUID, as_of: date, *, required_by_law: bool = False
) -> tuple[porting.PortOutDecision, Standing, PhoneNumber]:
    """May this number of the tenant be ported away? Refused (409) while the account is not in
    good standing, unless the law requires the port (cpaas.txt §2.4.5)."""
    data.require(Resource.PORT_OUT, Action.READ)
    number = data.get(PhoneNumber, number_id, Resource.PORT_OUT)
    standing = account_standing(data, as_of)
    decision = porting.port_out_decision(standing.in_good_standing, required_by_law=required_by_law)
    if not decision.allowed:
        raise Conflict(
            f"{number.e164}: {decision.reason}: " + "; ".join(standing.reasons),
            field="account",
            rule="cpaas.txt §2.4.5",
        )
    return decision, standing, number
