"""The toll-fraud guard's rules: which destinations a tenant and a user may dial, and when a spend
limit runs out. Pure functions; fairuse/toll_guard.py applies them to calls.

- International and premium destinations are off for a new tenant and a new user until enabled for
  both (issue 15 §3: toll fraud is a stolen phone or password dialling premium and international
  numbers; voip-service-guide.txt §III.3.7 already blocks 900/976). A destination on the operator's
  high-risk list counts as premium.
- cpaas.txt §4.2: the provider "may ... establish or modify the credit limit". The limit refuses new
  billable calls once reached and cuts off calls in progress when it runs out, the remaining credit
  shared by every call in progress (as Kamailio's cnxcc does).
- 911 never reaches these rules (e911/policy.py may_refuse).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from centrex.numbers.classes import CallClass

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class TollPolicy:
    """A tenant's or a user's permissions (store: toll_permissions); absent: all off, no limits."""

    international: bool = False
    premium: bool = False
    spend_limit: Decimal | None = None  # per calendar month (UTC)
    max_international_calls: int | None = None  # at once; the tenant's row only


@dataclass(frozen=True, slots=True)
class TollView:
    tenant: TollPolicy = TollPolicy()
    users: Mapping[uuid.UUID, TollPolicy] = field(default_factory=dict)
    high_risk: tuple[tuple[str, Decimal | None], ...] = ()  # (E.164 prefix, rate per minute)

    def user(self, user_id: uuid.UUID | None) -> TollPolicy:
        return self.users.get(user_id, TollPolicy()) if user_id else TollPolicy()


def high_risk_prefix(
    e164: str, prefixes: Iterable[tuple[str, Decimal | None]]
) -> tuple[str, Decimal | None] | None:
    """The operator's longest high-risk prefix the number starts with."""
    best: tuple[str, Decimal | None] | None = None
    for prefix, rate in prefixes:
        if e164.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, rate)
    return best


def destination_refusal(
    call_class: CallClass, e164: str, view: TollView, user_id: uuid.UUID | None, *, tenant_only: bool = False
) -> str | None:
    """Why the destination is not allowed (a CDR cause), or None. Both the tenant and the user must
    have it enabled (``tenant_only``: an IP-trunking tenant's PBX trunk, which has no user — the
    tenant's permission alone); a high-risk prefix needs premium."""
    user = view.tenant if tenant_only else view.user(user_id)
    premium = call_class is CallClass.PREMIUM or high_risk_prefix(e164, view.high_risk) is not None
    if premium and not (view.tenant.premium and user.premium):
        return "toll_premium"
    if call_class is CallClass.INTERNATIONAL and not (view.tenant.international and user.international):
        return "toll_international"
    return None


def cost(rate_per_minute: Decimal, seconds: float) -> Decimal:
    """What a call has cost so far at its rate (for the guard's meter, not the invoice: billing
    rates with its increments and minimums)."""
    if seconds <= 0 or rate_per_minute <= 0:
        return ZERO
    return (rate_per_minute * Decimal(str(round(seconds, 3))) / 60).quantize(Decimal("0.000001"))


def seconds_left(remaining: Decimal, burn_per_minute: Decimal) -> float | None:
    """How long the calls in progress may go on before they spend ``remaining`` together."""
    if burn_per_minute <= 0:
        return None
    if remaining <= 0:
        return 0.0
    return float(remaining * 60 / burn_per_minute)
