"""Centrex nodes on one PostgreSQL behind Kamailio, on loopback: what tests/nodes and
bench/nodes_bench.py bring up. Every process is started here and stopped by ``Cluster.close``."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from centrex.config import normalize_db_url

ROOT = Path(__file__).parents[2]
KAMAILIO_CFG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = ROOT / "tests" / "interop" / "scenarios"
NODE_SCENARIOS = Path(__file__).parent / "scenarios"
CENTREX = [sys.executable, "-m", "centrex.cli"]


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


def missing_tools() -> list[str]:
    return [tool for tool in ("sipp", "kamailio") if shutil.which(tool) is None]


def kamailio_config(listen_port: int, dispatcher_list: Path) -> str:
    """deploy/kamailio/kamailio.cfg with this run's address and node list."""
    return string.Template(KAMAILIO_CFG.read_text()).substitute(
        LISTEN=f"udp:127.0.0.1:{listen_port}",
        DISPATCHER_LIST=str(dispatcher_list),
        PING_FROM=f"127.0.0.1:{listen_port}",
    )


@dataclass
class Node:
    name: str
    sip: int
    http: int
    proc: subprocess.Popen[bytes]
    log: Path
    operator_token: str = ""

    def health(self) -> dict[str, object]:
        """The node's /healthz with its details (an operator's view: others see only the status)."""
        headers = {"Authorization": f"Bearer {self.operator_token}"}
        body = httpx.get(f"http://127.0.0.1:{self.http}/healthz", headers=headers, timeout=5).json()
        assert isinstance(body, dict)
        return body

    def contacts(self) -> int:
        """How many contacts this node knows registered (its /healthz SIP detail)."""
        detail = str(self.health()["components"]["sip"]["detail"])  # type: ignore[index]
        return int(detail.split(" contacts registered")[0].rsplit(" ", 1)[-1])


@dataclass
class Cluster:
    """A throw-away database on the PostgreSQL at ``pg`` (CENTREX_TEST_PG), the demo tenant in it,
    ``centrex serve`` nodes and Kamailio in front of them."""

    pg: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    kamailio: subprocess.Popen[bytes] | None = None
    kamailio_port: int = 0
    db_name: str = ""
    passwords: dict[str, str] = field(default_factory=dict)
    domain: str = ""
    operator_token: str = ""

    @property
    def db_url(self) -> str:
        base, _, _ = normalize_db_url(self.pg).rpartition("/")
        return f"{base}/{self.db_name}"

    def create_database(self, **extra_env: str) -> None:
        self.db_name = f"cx_nodes_{uuid.uuid4().hex[:10]}"
        admin = create_engine(normalize_db_url(self.pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "CENTREX_DB": self.db_url,
            "CENTREX_DATA": str(self.workdir / "shared"),
            "CENTREX_SIP_DIGEST": "MD5,SHA-256",
            # Every phone's traffic comes from Kamailio's address: the per-source limit is its.
            "CENTREX_SIP_RATE": "100000",
            "CENTREX_SIP_BURST": "100000",
            "CENTREX_JOBS": "false",
            **extra_env,
        }
        demo = subprocess.run(
            [*CENTREX, "demo", "--json"], env=self.env, capture_output=True, text=True, timeout=180
        )
        assert demo.returncode == 0, demo.stderr[-3000:]
        data = json.loads(demo.stdout)
        self.passwords = {ln["sip_username"]: ln["sip_password"] for ln in data["lines"]}
        self.domain = data["sip_domain"]
        self.operator_token = data["operator_token"]

    def start_node(self, name: str, rtp: tuple[int, int]) -> Node:
        http, sip = free_port(), free_port()
        log = self.workdir / f"{name}.log"
        env = {**self.env, "CENTREX_NODE_NAME": name}
        args = [*CENTREX, "serve", "--bind", "127.0.0.1", "--http-port", str(http), "--sip-port", str(sip)]
        args += ["--sip-tls-port", str(free_port()), "--rtp-ports", f"{rtp[0]}-{rtp[1]}"]
        proc = subprocess.Popen(args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        node = Node(name, sip, http, proc, log, self.operator_token)
        self.nodes.append(node)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError, ValueError):
                if httpx.get(f"http://127.0.0.1:{http}/healthz", timeout=2).status_code == 200:
                    return node
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        raise AssertionError(f"node {name} did not come up: {log.read_text()[-3000:]}")

    def start_kamailio(self) -> None:
        self.kamailio_port = free_port()
        listing = self.workdir / "dispatcher.list"
        listing.write_text("".join(f"1 sip:127.0.0.1:{n.sip}\n" for n in self.nodes))
        cfg = self.workdir / "kamailio.cfg"
        cfg.write_text(kamailio_config(self.kamailio_port, listing))
        log = self.workdir / "kamailio.log"
        # -DD: stay in the foreground (its children still fork), -E: log to stderr.
        self.kamailio = subprocess.Popen(
            ["kamailio", "-DD", "-E", "-f", str(cfg), "-m", "64", "-M", "8", "-Y", str(self.workdir)],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        time.sleep(1.5)  # binds, loads the list and sends its first OPTIONS
        assert self.kamailio.poll() is None, log.read_text()[-3000:]

    def sipp(self, scenario: Path, user: str, port: int, *extra: str) -> list[str]:
        return [
            "sipp", "-sf", str(scenario), f"127.0.0.1:{self.kamailio_port}", "-i", "127.0.0.1",
            "-p", str(port), "-s", user, "-nostdin", "-key", "domain", self.domain, *extra,
        ]  # fmt: skip

    def register(self, user: str, port: int) -> subprocess.CompletedProcess[bytes]:
        args = self.sipp(SCENARIOS / "register.xml", user, port, "-au", user, "-ap", self.passwords[user])
        return subprocess.run(
            [*args, "-m", "1", "-timeout", "20s", "-timeout_error"], capture_output=True, timeout=60
        )

    def kill(self, node: Node) -> None:
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait(timeout=10)

    def close(self) -> None:
        for node in self.nodes:
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            try:
                node.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait(timeout=10)
        if self.kamailio is not None and self.kamailio.poll() is None:
            self.kamailio.send_signal(signal.SIGTERM)
            try:
                self.kamailio.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kamailio.kill()
                self.kamailio.wait(timeout=10)
        if self.db_name:
            admin = create_engine(normalize_db_url(self.pg), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
            admin.dispose()
