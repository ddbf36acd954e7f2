"""A disk threshold for tests that gives the same alarm on any machine, whatever its disk holds."""

from __future__ import annotations

import shutil
from pathlib import Path


def p2_threshold(path: Path) -> float:
    """Just above the share free now: the disk check alarms, at P2 (P1 is under a quarter of it)."""
    usage = shutil.disk_usage(path)
    return round(min(1.0, usage.free / usage.total * 1.5 + 0.001), 4)
