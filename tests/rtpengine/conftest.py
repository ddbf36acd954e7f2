"""A real rtpengine daemon (Debian rtpengine-daemon, userspace forwarding) on free loopback ports,
started per module and stopped by the fixture; tests skip only when the binary is absent."""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from centrex.media.rtpengine import NgClient, NgError
from tests.interop.conftest import free_tcp_port, free_udp_port, server  # noqa: F401 - the switch fixture, re-exported

RTPENGINE = shutil.which("rtpengine") or (
    "/usr/bin/rtpengine" if Path("/usr/bin/rtpengine").exists() else None
)


@dataclass
class Rtpengine:
    ng_port: int
    port_min: int
    port_max: int
    log: Path

    @property
    def ng(self) -> str:
        return f"127.0.0.1:{self.ng_port}"

    def client(self, timeout_s: float = 1.0) -> NgClient:
        return NgClient("127.0.0.1", self.ng_port, timeout_s=timeout_s)


def start_rtpengine(workdir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Rtpengine]:
    if RTPENGINE is None:
        pytest.skip("rtpengine is not installed (Debian package rtpengine-daemon)")
    ng_port = free_udp_port()
    port_min = random.randrange(40000, 59000, 200)
    log = workdir / f"rtpengine-{ng_port}.log"
    args = [
        RTPENGINE,
        "--config-file=none",  # not /etc/rtpengine/rtpengine.conf
        "--interface=127.0.0.1",
        f"--listen-cli=127.0.0.1:{free_tcp_port()}",  # not the default 2224
        f"--listen-ng=127.0.0.1:{ng_port}",
        "--table=-1",  # no kernel module: userspace forwarding
        "--no-fallback",
        "--foreground",
        "--log-stderr",
        "--log-level=5",
        f"--port-min={port_min}",
        f"--port-max={port_min + 199}",
        "--num-threads=2",
        *extra,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    daemon = Rtpengine(ng_port, port_min, port_min + 199, log)
    client = daemon.client(timeout_s=0.2)
    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                client.ping()
                break
            except NgError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    stop(proc)
                    raise RuntimeError(f"rtpengine did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.05)
    finally:
        client.close()
    return proc, daemon


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def rtpengine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rtpengine]:
    proc, daemon = start_rtpengine(tmp_path_factory.mktemp("rtpengine"))
    try:
        yield daemon
    finally:
        stop(proc)
