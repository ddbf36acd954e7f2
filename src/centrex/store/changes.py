"""A counter of writes to the tables the switch's directory reads (tenants, users, devices,
numbers, forwarding, groups...), bumped by every SQLAlchemy write in this process.

calls/directory.py CachedDirectory keeps its answers while the counter is unchanged (and no longer
than its TTL, which covers writes by other processes: the CLI, another switch), so a change made
through the API applies to the very next call while a switch under load reads nothing twice.
High-volume tables the directory never reads (CDRs, the call journal, registrations, queue
events...) don't count: otherwise every call's own writes would empty the cache.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Written by the switch for every call or registration; never read by the directory.
QUIET_TABLES = frozenset(
    {
        "cdrs",
        "cdr_outcomes",
        "cdr_legs",
        "active_calls",
        "registrations",
        "queue_events",
        "queue_agents",
        "device_networks",
        "call_recordings",
        "voicemail_messages",
        "audit_log",
        "number_usage",
    }
)
_TARGET = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)', re.IGNORECASE)

_lock = threading.Lock()
_generation = 0


def generation() -> int:
    return _generation


def bump() -> None:
    global _generation
    with _lock:
        _generation += 1


def _written_table(statement: str) -> str | None:
    """The table an INSERT/UPDATE/DELETE writes, "" for other writes (DDL), None for reads."""
    head = statement.lstrip()[:8].upper()
    if head.startswith(
        ("SELECT", "WITH", "SAVEPOIN", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "PRAGMA", "SHOW")
    ):
        return None
    m = _TARGET.match(statement)
    return m.group(1).lower() if m else ""


@event.listens_for(Engine, "before_cursor_execute")
def _seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    table = _written_table(statement)
    if table is not None and table not in QUIET_TABLES:
        bump()
