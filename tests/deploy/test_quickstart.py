"""docs/quickstart.md, run as written: every ```bash block of the page, in order, in one bash, against a
real `centrex serve` (the page starts it) on loopback ports, with SIPp as the phone and as the
carrier. The page's own last block (the CDRs) is checked against the table the page shows."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "quickstart.md"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed (Debian sip-tester)"),
]


def free_port() -> int:
    """A port free on both UDP and TCP."""
    for _ in range(50):
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", DOC.read_text(), re.S | re.M)


def test_the_page_shows_install_and_runs_the_rest() -> None:
    assert "scripts/setup-venv" in blocks("sh")[0]
    shown = blocks("bash")
    for step in (
        "centrex serve",
        "/tenants",
        "/sites",
        "/devices",
        "/numbers",
        "/trunks",
        "/outbound-routes",
    ):
        assert any(step in b for b in shown), f"no command for {step}"


def test_quickstart_from_a_fresh_install_to_a_pstn_call(tmp_path: Path) -> None:
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(
        blocks("bash")
    )
    env = {
        **os.environ,
        # `centrex` on the PATH, as after `. .venv/bin/activate`
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
        "CENTREX_DATA": str(tmp_path / "data"),
        "CENTREX_SECRETS_KEY_FILE": str(tmp_path / "secret.key"),
        "CENTREX_JOBS": "false",
        "CENTREX_SIP_DIGEST": "MD5,SHA-256",  # SIPp 3.6 answers MD5 only
        "BIND": "127.0.0.1",
        "PUBLIC": "127.0.0.1",
        "HTTP_PORT": str(free_port()),
        "SIP_PORT": str(free_port()),
        "SIP_TLS_PORT": str(free_port()),
        "CARRIER_HOST": "127.0.0.1",
        "CARRIER_PORT": str(free_port()),
        "PHONE_PORT": str(free_port()),
    }
    env.pop("CENTREX_CONFIG", None)
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail("the quickstart did not finish in 240 s:\n" + out[-4000:])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.returncode == 0, out[-4000:]
    assert (tmp_path / "data" / "centrex.sqlite3").stat().st_mode & 0o777 == 0o600
    records = [line.split("\t") for line in out.splitlines() if line.count("\t") == 3]
    expected = [line.split() for line in blocks("text")[-1].strip().splitlines()]
    assert records == expected, out[-4000:]
