"""The toll-fraud guard's bookkeeping without a network: the concurrent-international limit, and the
credit left shared by the calls up — a second premium call halves the time both have left, and
the first call's end gives the second its time back (as cnxcc re-arms its calls)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from centrex.calls.model import BLeg, Call
from centrex.fairuse.toll_guard import TIMER, TollGuard
from centrex.fairuse.toll_rules import TollPolicy, TollView
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import Classification, DestinationKind

TENANT, USER = uuid.uuid4(), uuid.uuid4()


class Source:
    def __init__(self, view: TollView, rate: Decimal) -> None:
        self._view, self._rate = view, rate
        self.written: list[dict[Any, Decimal]] = []

    def view(self, tenant_id: uuid.UUID, now: float) -> TollView:
        return self._view

    def rate(self, tenant_id: uuid.UUID, e164: str, at: datetime) -> Decimal:
        return self._rate

    def spent(self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, month: str) -> Decimal:
        return Decimal("0")

    def add_spend(self, amounts: dict[Any, Decimal]) -> None:
        self.written.append(amounts)


class Core:
    def __init__(self) -> None:
        self.armed: dict[uuid.UUID, float] = {}
        self.hung_up: list[uuid.UUID] = []

    def wall(self) -> datetime:
        return datetime(2026, 12, 6, 12, tzinfo=UTC)

    def arm(self, call: Call, name: str, at: float) -> None:
        call.timers[name] = at
        self.armed[call.id] = at

    def hang_up(self, call: Call, now: float, cause: str, code: int) -> None:
        self.hung_up.append(call.id)


def guard(view: TollView, rate: str) -> tuple[TollGuard, Core, Source]:
    source, core = Source(view, Decimal(rate)), Core()
    g = TollGuard(source)
    g.core = cast(Any, core)
    return g, core, source


def intl_call() -> Call:
    c = Classification("011442079460000", CallClass.INTERNATIONAL, "+442079460000", DestinationKind.E164)
    call = SimpleNamespace(
        id=uuid.uuid4(),
        tenant=SimpleNamespace(id=TENANT),
        device=object(),
        caller=SimpleNamespace(id=USER),
        classification=c,
        timers={},
    )
    return cast(Call, call)


ENABLED = TollPolicy(international=True)


def test_concurrent_international_limit() -> None:
    view = TollView(TollPolicy(international=True, max_international_calls=2), {USER: ENABLED})
    g, _, _ = guard(view, "0")
    first, second, third = intl_call(), intl_call(), intl_call()
    assert g.admit(first, 0.0) is None and g.admit(second, 0.0) is None
    refused = g.admit(third, 0.0)
    assert refused is not None and (refused.status, refused.cause) == (403, "international_limit")
    g.ended(first, 1.0)
    assert g.admit(third, 1.0) is None


def test_two_calls_share_the_credit_left() -> None:
    view = TollView(ENABLED, {USER: TollPolicy(international=True, spend_limit=Decimal("1.20"))})
    g, core, source = guard(view, "6.00")  # 0.10 a second
    leg = cast(BLeg, None)
    a, b = intl_call(), intl_call()
    assert g.admit(a, 0.0) is None
    g.answered(a, leg, 0.0)
    assert core.armed[a.id] == 12.0  # 1.20 at 0.10/s
    assert g.admit(b, 2.0) is None
    g.answered(b, leg, 2.0)
    # 0.20 spent by a; 1.00 left for two calls at 0.10/s each: 5 s.
    assert core.armed[a.id] == core.armed[b.id] == 7.0
    g.ended(a, 4.0)  # a cost 0.40; b has cost 0.20: 0.60 left for b alone
    assert core.armed[b.id] == 10.0
    assert g.timer(b, TIMER, 10.0) and core.hung_up == [b.id]
    g.ended(b, 10.0)
    refused = g.admit(intl_call(), 11.0)
    assert refused is not None and refused.cause == "spend_limit"
    g.flush()
    assert source.written and source.written[0][(TENANT, USER, "2026-12")] == Decimal("1.200000")
