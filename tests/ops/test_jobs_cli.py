"""``centrex jobs list|run`` as an operator uses them (a real subprocess on a seeded database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from centrex.store.db import make_engine, make_sessionmaker
from tests.ops.test_retention_jobs import call_ids, seed_cdrs


def centrex(*args: str, db: str, data: Path, **env_vars: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "centrex.cli", *args, "--db", db, "--data-dir", str(data)]
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", **env_vars}
    if "PYTHONPATH" in os.environ:  # this checkout's code, not an installed copy's
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def test_run_a_job_dry_then_for_real_and_list_it(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    seed_cdrs(sessions)
    dry = centrex(
        "jobs",
        "run",
        "cdr-retention",
        "--dry-run",
        "--as-of",
        "2026-12-06T03:30",
        db=sqlite_url,
        data=tmp_path,
    )
    assert dry.returncode == 0, dry.stderr
    assert "cdr-retention for 2026-12-06 (dry run: nothing changed)" in dry.stdout
    assert dry.stdout.strip().endswith("4 CDRs would be deleted (started before 2023-12-06)")
    assert len(call_ids(sessions)) == 6
    listed = centrex("jobs", "list", db=sqlite_url, data=tmp_path).stdout
    assert "cdr-retention" in listed and "daily at 03:30 UTC" in listed and "manual, dry run" in listed
    done = centrex(
        "jobs", "run", "cdr-retention", "--as-of", "2026-12-06T03:30", db=sqlite_url, data=tmp_path
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("4 CDRs deleted (started before 2023-12-06)")
    assert call_ids(sessions) == {"a-at-cutoff", "a-recent"}
    engine.dispose()


def test_mistakes_are_one_line(sqlite_url: str, tmp_path: Path) -> None:
    unknown = centrex("jobs", "run", "vacuum", db=sqlite_url, data=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "error: no job 'vacuum' (jobs: recording-retention, cdr-retention, billing-run, collections,"
        " alarm-clocks, fraud-spikes, voicemail-retention, inactive-accounts, tenant-deletion,"
        " idempotency-keys, webhook-retention, cpaas-recording-retention, message-retention,"
        " flow-retention, campaign-engagement-retention, insights-retention, portal-tasks)\n"
    )
    bad = centrex("jobs", "run", "cdr-retention", "--as-of", "yesterday", db=sqlite_url, data=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr == "error: --as-of must be a date YYYY-MM-DD or an ISO 8601 time, got 'yesterday'\n"
    skip = centrex("serve", db=sqlite_url, data=tmp_path, CENTREX_JOBS_SKIP="billing-run,vacuum")
    assert skip.returncode == 2 and skip.stderr.startswith(
        "error: CENTREX_JOBS_SKIP: no job 'vacuum' (jobs: "
    )
