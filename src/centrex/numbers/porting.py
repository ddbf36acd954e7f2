"""Port-in orders: what they must contain, and the states they go through. Port-out refusal.

hosted-pbx.txt §2 Service Requirements, 5: "Customers porting telephone numbers from hosted PBX
providers are required to provide a Customer Service Record from their previous provider that
details the following: a. Customer Account Name b. Customer Account Address c. Customer Account
Number d. List of telephone numbers porting ... i. Services and accompanying equipment ...
ii. Customer contact information that includes telephone number and valid email address". The
order also carries the PIN and billing telephone number (BTN) the losing carrier checks, and a
letter of authorization (LOA) naming its signer, date and numbers.

Life of an order: draft → submitted → foc (firm order commitment, with its date) → completed, or
rejected with a reason (then revised back to draft and resubmitted). Any other move is refused.

cpaas.txt §2.4.5: port-out may be refused until the account is in good standing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from centrex.numbers.classify import TOLL_FREE_NPAS
from centrex.numbers.e164 import PhoneNumberError, is_nanp, to_e164
from centrex.numbers.ratecenters import US_STATES

__all__ = [
    "TRANSITIONS",
    "CustomerServiceRecord",
    "FieldError",
    "InvalidTransition",
    "LetterOfAuthorization",
    "PortAddress",
    "PortInOrder",
    "PortOrderInvalid",
    "PortOutDecision",
    "PortState",
    "PortStatus",
    "complete",
    "confirm_foc",
    "port_out_decision",
    "reject",
    "revise",
    "submit",
    "validate_port_in",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_PIN = re.compile(r"^[A-Za-z0-9]{1,15}$")


@dataclass(frozen=True, slots=True)
class PortAddress:
    street: str
    city: str
    state: str
    postal_code: str
    unit: str = ""


@dataclass(frozen=True, slots=True)
class CustomerServiceRecord:
    """hosted-pbx.txt §2.5 a–d."""

    account_name: str
    account_address: PortAddress | None
    account_number: str
    numbers: tuple[str, ...]
    services: tuple[str, ...] = ()  # 5.d.i services and accompanying equipment
    contact_phone: str = ""  # 5.d.ii
    contact_email: str = ""  # 5.d.ii


@dataclass(frozen=True, slots=True)
class LetterOfAuthorization:
    signer: str
    signed_on: date | None
    numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortInOrder:
    csr: CustomerServiceRecord
    pin: str
    billing_telephone_number: str
    loa: LetterOfAuthorization
    requested_foc_date: date | None = None


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # dotted path, e.g. "csr.account_address.postal_code" or "csr.numbers[1]"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _blank(value: str) -> bool:
    return not value.strip()


def _numbers(path: str, numbers: tuple[str, ...], errors: list[FieldError]) -> dict[str, int]:
    """Validate each number; return the valid ones as E.164 → index."""
    if not numbers:
        errors.append(FieldError(path, "at least one telephone number is required"))
    seen: dict[str, int] = {}
    for i, raw in enumerate(numbers):
        where = f"{path}[{i}]"
        try:
            e164 = to_e164(raw)
        except PhoneNumberError as exc:
            errors.append(FieldError(where, str(exc)))
            continue
        if e164 in seen:
            errors.append(FieldError(where, f"{e164} is listed twice (also {path}[{seen[e164]}])"))
            continue
        seen[e164] = i
    return seen


def _address(address: PortAddress | None, errors: list[FieldError]) -> None:
    path = "csr.account_address"
    if address is None:
        errors.append(FieldError(path, "is required (hosted-pbx.txt §2.5 b)"))
        return
    for name in ("street", "city", "state", "postal_code"):
        if _blank(getattr(address, name)):
            errors.append(FieldError(f"{path}.{name}", "is required"))
    if not _blank(address.state) and address.state.strip().upper() not in US_STATES:
        errors.append(FieldError(f"{path}.state", f"'{address.state}' is not a US state code"))
    if not _blank(address.postal_code) and not _ZIP.match(address.postal_code.strip()):
        errors.append(
            FieldError(f"{path}.postal_code", f"'{address.postal_code}' is not a ZIP or ZIP+4 code")
        )


def _phone(path: str, value: str, errors: list[FieldError]) -> None:
    if _blank(value):
        errors.append(FieldError(path, "is required"))
        return
    try:
        to_e164(value)
    except PhoneNumberError as exc:
        errors.append(FieldError(path, str(exc)))


def validate_port_in(order: PortInOrder, today: date) -> list[FieldError]:
    """Every missing or invalid field of `order`, by name; an empty list means it can be submitted."""
    errors: list[FieldError] = []
    csr = order.csr
    if _blank(csr.account_name):
        errors.append(FieldError("csr.account_name", "is required (hosted-pbx.txt §2.5 a)"))
    _address(csr.account_address, errors)
    if _blank(csr.account_number):
        errors.append(FieldError("csr.account_number", "is required (hosted-pbx.txt §2.5 c)"))
    porting = _numbers("csr.numbers", csr.numbers, errors)
    for e164, i in porting.items():
        if is_nanp(e164) and e164[2:5] in TOLL_FREE_NPAS:
            errors.append(
                FieldError(
                    f"csr.numbers[{i}]",
                    f"{e164} is toll-free: it moves by a RespOrg change, not a number port",
                )
            )
    if not any(not _blank(s) for s in csr.services):
        errors.append(
            FieldError(
                "csr.services", "list the services and equipment to be provided (hosted-pbx.txt §2.5 d.i)"
            )
        )
    _phone("csr.contact_phone", csr.contact_phone, errors)
    if _blank(csr.contact_email):
        errors.append(FieldError("csr.contact_email", "is required (hosted-pbx.txt §2.5 d.ii)"))
    elif not _EMAIL.match(csr.contact_email.strip()):
        errors.append(FieldError("csr.contact_email", f"'{csr.contact_email}' is not a valid email address"))
    if _blank(order.pin):
        errors.append(FieldError("pin", "is required"))
    elif not _PIN.match(order.pin.strip()):
        errors.append(FieldError("pin", "must be 1 to 15 letters or digits"))
    _phone("billing_telephone_number", order.billing_telephone_number, errors)
    loa = order.loa
    if _blank(loa.signer):
        errors.append(FieldError("loa.signer", "is required"))
    if loa.signed_on is None:
        errors.append(FieldError("loa.signed_on", "is required"))
    elif loa.signed_on > today:
        errors.append(FieldError("loa.signed_on", f"{loa.signed_on.isoformat()} is in the future"))
    authorised = set(_numbers("loa.numbers", loa.numbers, errors))
    missing = [n for n in porting if n not in authorised]
    if missing and authorised:
        errors.append(FieldError("loa.numbers", "does not authorize " + ", ".join(missing)))
    extra = sorted(authorised - set(porting))
    if extra and porting:
        errors.append(
            FieldError("loa.numbers", "names numbers not on the customer service record: " + ", ".join(extra))
        )
    if order.requested_foc_date is not None and order.requested_foc_date < today:
        errors.append(
            FieldError("requested_foc_date", f"{order.requested_foc_date.isoformat()} is in the past")
        )
    return errors


class PortState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    FOC = "foc"
    COMPLETED = "completed"
    REJECTED = "rejected"


TRANSITIONS: dict[PortState, frozenset[PortState]] = {
    PortState.DRAFT: frozenset({PortState.SUBMITTED}),
    PortState.SUBMITTED: frozenset({PortState.FOC, PortState.REJECTED}),
    PortState.FOC: frozenset({PortState.FOC, PortState.COMPLETED, PortState.REJECTED}),  # FOC may be moved
    PortState.REJECTED: frozenset({PortState.DRAFT}),  # revise (supplement) and resubmit
    PortState.COMPLETED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class PortStatus:
    state: PortState = PortState.DRAFT
    foc_date: date | None = None
    rejection_reason: str = ""


class InvalidTransition(ValueError):
    def __init__(self, current: PortState, wanted: PortState, detail: str = "") -> None:
        self.current, self.wanted = current, wanted
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        message = f"a port order cannot go from {current} to {wanted} (allowed from {current}: {allowed})"
        super().__init__(message + (f": {detail}" if detail else ""))


class PortOrderInvalid(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("port-in order is incomplete: " + "; ".join(str(e) for e in errors))


def _move(status: PortStatus, wanted: PortState, change: Callable[[], PortStatus]) -> PortStatus:
    if wanted not in TRANSITIONS[status.state]:
        raise InvalidTransition(status.state, wanted)
    return change()


def submit(status: PortStatus, order: PortInOrder, today: date) -> PortStatus:
    """draft → submitted, only with a complete order (`PortOrderInvalid` lists every field)."""
    if PortState.SUBMITTED not in TRANSITIONS[status.state]:
        raise InvalidTransition(status.state, PortState.SUBMITTED)
    errors = validate_port_in(order, today)
    if errors:
        raise PortOrderInvalid(errors)
    return PortStatus(PortState.SUBMITTED)


def confirm_foc(status: PortStatus, foc_date: date) -> PortStatus:
    """submitted → foc (or a new FOC date): the losing carrier's firm order commitment."""
    return _move(status, PortState.FOC, lambda: replace(status, state=PortState.FOC, foc_date=foc_date))


def complete(status: PortStatus, on: date) -> PortStatus:
    """foc → completed, not before the FOC date."""
    if status.state is PortState.FOC and status.foc_date is not None and on < status.foc_date:
        raise InvalidTransition(
            status.state,
            PortState.COMPLETED,
            f"{on.isoformat()} is before the FOC date {status.foc_date.isoformat()}",
        )
    return _move(status, PortState.COMPLETED, lambda: replace(status, state=PortState.COMPLETED))


def reject(status: PortStatus, reason: str) -> PortStatus:
    """submitted/foc → rejected, always with the losing carrier's reason."""
    if _blank(reason):
        raise ValueError("a rejection needs a reason")
    return _move(status, PortState.REJECTED, lambda: PortStatus(PortState.REJECTED, None, reason.strip()))


def revise(status: PortStatus) -> PortStatus:
    """rejected → draft, to correct and resubmit (a supplemental order)."""
    return _move(status, PortState.DRAFT, lambda: PortStatus(PortState.DRAFT))


@dataclass(frozen=True, slots=True)
class PortOutDecision:
    allowed: bool
    reason: str


def port_out_decision(
    account_in_good_standing: bool,
    *,
    required_by_law: bool = False,
    resporg_controlled_toll_free: bool = False,
    customer_short_code: bool = False,
) -> PortOutDecision:
    """cpaas.txt §2.4.5: "Unless otherwise required by law, [the provider] reserves the right ... to
    refuse to allow Customer to port away any phone number, and to require Customer to have its
    account in good standing prior to such porting. ... the rights ... do not apply to any toll free
    routing only numbers over which Customer has RESPORG control, or any Customer-provided Short
    Codes." A port the law requires is never refused by this rule."""
    if resporg_controlled_toll_free or customer_short_code:
        return PortOutDecision(
            True, "Customer-controlled toll-free or short code: cpaas.txt §2.4.5 does not apply"
        )
    if required_by_law:
        return PortOutDecision(
            True, "port-out required by law (cpaas.txt §2.4.5 'unless otherwise required by law')"
        )
    if not account_in_good_standing:
        return PortOutDecision(
            False, "port-out refused: the account must be in good standing before porting (cpaas.txt §2.4.5)"
        )
    return PortOutDecision(True, "account in good standing")
