"""Gap-free document numbers (invoices): a counter row per series, advanced in the caller's
transaction.

`UPDATE ... SET last_value = last_value + 1 ... RETURNING` takes the row lock on PostgreSQL (and the
database write lock on SQLite) until the transaction ends, so concurrent issuers queue, no two get
the same number, and a rolled-back issue gives its number back: the numbers that exist are exactly
1..n. Never max()+1 outside the transaction.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from centrex.store.models import DocumentCounter


def next_number(session: Session, series: str) -> int:
    """The next number of `series`, reserved inside the session's current transaction."""
    stmt = (
        update(DocumentCounter)
        .where(DocumentCounter.series == series)
        .values(last_value=DocumentCounter.last_value + 1)
        .returning(DocumentCounter.last_value)
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:  # a series not created by a migration: start it (a race ends in a unique error)
        session.add(DocumentCounter(series=series, last_value=1))
        session.flush()
        return 1
    return int(value)
