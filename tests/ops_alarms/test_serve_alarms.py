"""``centrex serve`` as an operator runs it: its monitor polls, raises an alarm for a real condition
(the data dir's disk under a threshold set to 100%), and the alarm-clocks job mails the NOC on a
real SMTP server. A real subprocess; generous deadlines (a loaded machine takes 40 s to start)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models.alarms import AlarmRow, TicketRow
from tests.e911_store.servers import free_port, smtp_server
from tests.ops_alarms.disk import p2_threshold


def test_serve_monitors_and_mails_an_alarm(tmp_path: Path) -> None:
    http_port = free_port()
    with smtp_server() as (mail, smtp_port):
        env = {
            **os.environ,
            "CENTREX_DATA": str(tmp_path),
            "CENTREX_JOBS_DELAY_S": "0",
            "CENTREX_MONITOR_INTERVAL_S": "1",
            "CENTREX_MONITOR_DISK_MIN_FREE": str(p2_threshold(tmp_path)),  # a P2 alarm
            "CENTREX_SMTP_HOST": "127.0.0.1",
            "CENTREX_SMTP_PORT": str(smtp_port),
            "CENTREX_ALARM_NOTIFY": "noc@provider.example",
        }
        cmd = [sys.executable, "-m", "centrex.cli", "serve", "--bind", "127.0.0.1"]
        cmd += [
            "--http-port",
            str(http_port),
            "--sip-port",
            str(free_port()),
            "--sip-tls-port",
            str(free_port()),
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        engine = make_engine(f"sqlite:///{tmp_path / 'centrex.sqlite3'}")
        sessions = make_sessionmaker(engine)
        try:
            deadline = time.monotonic() + 240
            alarms: list[AlarmRow] = []
            while time.monotonic() < deadline and not alarms:
                time.sleep(0.5)
                assert proc.poll() is None, proc.communicate()[1][-3000:]
                try:
                    with sessions() as s:
                        alarms = list(s.scalars(select(AlarmRow)))
                except Exception:  # the service is still creating the schema
                    continue
            assert [a.key for a in alarms] == [f"disk:{tmp_path}"], "the monitor raised no alarm"
            # A healthy switch: its SIP listeners and database raise nothing, and the alarm stays one.
            time.sleep(3)
            with sessions() as s:
                assert [(a.key, a.occurrences > 1) for a in s.scalars(select(AlarmRow))] == [
                    (f"disk:{tmp_path}", True)
                ]
                assert s.scalars(select(TicketRow.subject)).one().startswith("P2 disk:")
            while time.monotonic() < deadline and not mail.messages:  # the next minute's job run
                time.sleep(0.5)
            assert mail.messages, "the alarm's e-mail never came"
            msg = mail.messages[0]
            assert msg["To"] == "noc@provider.example"
            assert msg["Subject"].startswith("[Centrex P2] alarm raised: ")
            health = httpx.get(f"http://127.0.0.1:{http_port}/healthz")
            assert health.status_code == 200
        finally:
            proc.terminate()
            proc.communicate(timeout=60)
            engine.dispose()
