"""Roles and helpers shared by the route matrix tables (test_matrix.py and tests/api/matrix_*.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from tests.support.world import TenantWorld

OP, ADM, BAK, CPNI, EU, GRANTED, DEV = (
    "operator",
    "office_admin",
    "backup_admin",
    "cpni_admin",
    "end_user",
    "granted_user",
    "developer",
)
EVERY = (OP, ADM, BAK, CPNI, EU, GRANTED, DEV)
STAFF = {OP, ADM, BAK}
USERS = {ADM, BAK, CPNI, EU, GRANTED}
_n = itertools.count(100)


def next_n() -> int:
    return next(_n)


def ext() -> str:
    return str(6000 + next_n())


Body = Callable[[TenantWorld], dict[str, Any]] | None
