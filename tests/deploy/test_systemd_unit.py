"""deploy/centrex.service as systemd reads it: `systemd-analyze verify` (systemd's own parser and
checks) accepts it without a single warning, and the same check rejects a unit with a mistake."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "centrex.service"
pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)


def verify(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The unit with its install prefix (/opt/centrex/.venv) pointed at this test's environment,
    whose bin/centrex exists (verify checks that ExecStart is executable)."""
    assert (Path(sys.prefix) / "bin" / "centrex").exists()
    unit = tmp_path / "centrex.service"
    unit.write_text(text.replace("/opt/centrex/.venv", sys.prefix))
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )


def test_the_unit_verifies_cleanly(tmp_path: Path) -> None:
    text = UNIT.read_text()
    assert "ExecStart=/opt/centrex/.venv/bin/centrex serve" in text
    assert "User=centrex" in text and "UMask=0077" in text  # files it makes are the owner's only
    done = verify(text, tmp_path)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_verify_catches_a_mistake(tmp_path: Path) -> None:
    text = UNIT.read_text().replace("Restart=on-failure", "Restart=sometimes")
    done = verify(text, tmp_path)
    assert "Failed to parse service restart specifier" in done.stderr
