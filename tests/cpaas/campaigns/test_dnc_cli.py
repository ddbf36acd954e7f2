"""``centrex dnc import|status`` as an operator uses them (a real subprocess): the registry's
download imported, its bad line named, the reassigned copy imported, a wrong kind refused."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models.campaigns import NationalDncNumber, ReassignedNumber
from tests.ops.test_jobs_cli import centrex


def test_operator_imports_registry_copies(sqlite_url: str, tmp_path: Path) -> None:
    national = tmp_path / "dnc.csv"
    national.write_text("Area Code,Phone Number\n212,5550100\n212,5550101\n212\n")
    done = centrex("dnc", "import", "national-dnc", str(national), db=sqlite_url, data=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 numbers imported, 1 lines rejected" in done.stdout and "line 4" in done.stderr
    rnd = tmp_path / "rnd.csv"
    rnd.write_text("number,disconnected_on\n+12125550102,2025-06-01\n")
    assert centrex("dnc", "import", "reassigned", str(rnd), db=sqlite_url, data=tmp_path).returncode == 0
    status = centrex("dnc", "status", db=sqlite_url, data=tmp_path)
    assert "national-dnc: 2 numbers; reassigned: 1 disconnections" in status.stdout
    wrong = centrex("dnc", "import", "state", str(rnd), db=sqlite_url, data=tmp_path)
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: kind must be one of")
    engine = make_engine(sqlite_url)
    try:
        with make_sessionmaker(engine)() as s:
            assert sorted(s.scalars(select(NationalDncNumber.number))) == ["+12125550100", "+12125550101"]
            assert [r.number for r in s.scalars(select(ReassignedNumber))] == ["+12125550102"]
    finally:
        engine.dispose()
