"""Rate decks on storage: importing a CSV deck as the next version of a named deck (never edited
afterwards), listing the decks, and loading the version a plan rates with (cached: versions never
change)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

from centrex.billing.deck import DeckError, RateDeck, RateRow, iter_rate_rows
from centrex.store.access import OperatorData
from centrex.store.errors import Invalid
from centrex.store.models import BillingPlan, RateDeckRow, RateDeckVersion
from centrex.store.models import RateDeck as RateDeckModel

INSERT_CHUNK = 5_000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class DeckImport:
    deck: RateDeckModel
    version: RateDeckVersion


def import_deck(
    ops: OperatorData,
    name: str,
    lines: Iterable[str],
    *,
    on_read: Progress | None = None,
    on_stored: Progress | None = None,
) -> DeckImport:
    """Parse a CSV deck (billing/deck.py: every bad line and field is named) and store it as the
    next version of the deck `name`. A version is immutable; rating uses the newest one."""
    ops.require_operator()
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("a deck name is 1 to 100 characters", field="name", rule="length")
    try:
        rows = tuple(iter_rate_rows(lines, on_progress=on_read))
        parsed = RateDeck(name=name, version=0, rows=rows)  # checks overlapping rows of a prefix
    except DeckError as exc:
        first = exc.errors[0] if exc.errors else None
        raise Invalid(
            str(exc),
            field=f"line {first.line}: {first.field}" if first else "csv",
            rule="rate_deck",
        ) from None
    if not rows:
        raise Invalid("the deck has no rows", field="csv", rule="rate_deck")
    session = ops.session
    deck = session.scalar(select(RateDeckModel).where(RateDeckModel.name == name))
    if deck is None:
        deck = ops.create(RateDeckModel, "rate_deck.create", name=name)
    last = session.scalar(select(func.max(RateDeckVersion.version)).where(RateDeckVersion.deck_id == deck.id))
    version = ops.create(
        RateDeckVersion,
        "rate_deck.import",
        deck_id=deck.id,
        version=(last or 0) + 1,
        fingerprint=parsed.fingerprint(),
        row_count=len(rows),
        imported_by=ops.principal.label,
    )
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        session.execute(
            insert(RateDeckRow),
            [
                {
                    "version_id": version.id,
                    "prefix": r.prefix,
                    "destination": r.destination,
                    "rate_per_minute": r.rate_per_minute,
                    "connection_fee": r.connection_fee,
                    "minimum_s": r.minimum_s,
                    "increment_s": r.increment_s,
                    "effective_from": r.effective_from,
                    "effective_to": r.effective_to,
                    "line": r.line,
                }
                for r in chunk
            ],
        )
        if on_stored is not None:
            on_stored(start + len(chunk))
    session.flush()
    return DeckImport(deck, version)


def list_decks(ops: OperatorData) -> list[tuple[RateDeckModel, RateDeckVersion | None]]:
    ops.require_operator()
    out = []
    for deck in ops.session.scalars(select(RateDeckModel).order_by(RateDeckModel.name)):
        out.append((deck, _newest_version(ops.session, deck.id)))
    return out


def _newest_version(session: Any, deck_id: uuid.UUID) -> RateDeckVersion | None:
    stmt = (
        select(RateDeckVersion)
        .where(RateDeckVersion.deck_id == deck_id)
        .order_by(RateDeckVersion.version.desc())
        .limit(1)
    )
    version: RateDeckVersion | None = session.scalar(stmt)
    return version


_DECKS: OrderedDict[uuid.UUID, RateDeck] = OrderedDict()
_DECK_CACHE_SIZE = 8


def load_deck_version(session: Any, name: str, version: RateDeckVersion) -> RateDeck:
    """The deck version as billing/deck.py's RateDeck. Versions never change, so they are cached."""
    cached = _DECKS.get(version.id)
    if cached is not None:
        _DECKS.move_to_end(version.id)
        return cached
    rows = tuple(
        RateRow(
            prefix=r.prefix,
            destination=r.destination,
            rate_per_minute=Decimal(r.rate_per_minute).quantize(Decimal("0.000001")),
            connection_fee=Decimal(r.connection_fee).quantize(Decimal("0.000001")),
            minimum_s=r.minimum_s,
            increment_s=r.increment_s,
            effective_from=r.effective_from,
            effective_to=r.effective_to,
            line=r.line,
        )
        for r in session.scalars(select(RateDeckRow).where(RateDeckRow.version_id == version.id))
    )
    deck = RateDeck(name=name, version=version.version, rows=rows)
    _DECKS[version.id] = deck
    while len(_DECKS) > _DECK_CACHE_SIZE:
        _DECKS.popitem(last=False)
    return deck


def deck_for_plan(session: Any, plan: BillingPlan) -> tuple[RateDeck | None, RateDeckVersion | None]:
    if not plan.deck_name:
        return None, None
    deck = session.scalar(select(RateDeckModel).where(RateDeckModel.name == plan.deck_name))
    version = _newest_version(session, deck.id) if deck is not None else None
    if deck is None or version is None:
        raise Invalid(
            f"the plan's rate deck {plan.deck_name!r} has not been imported",
            field="deck_name",
            rule="rate_deck_exists",
        )
    return load_deck_version(session, deck.name, version), version
