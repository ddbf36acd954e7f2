"""What the browser-phone tests run against: `centrex serve` (SIP over WebSocket on, media of
the WS side through rtpengine), a WAV with a 1 kHz tone for Chromium's fake microphone, an RTP
receiver of our own standing in for a desk phone's media (SIPp does not record), the node driver
of the page (browser/phone_scenario.mjs) and the FFT that finds the tone."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from centrex.media.errors import MediaError
from centrex.media.g711 import alaw_decode, ulaw_decode
from centrex.media.rtp import parse_rtp

ROOT = Path(__file__).resolve().parents[2]
PHONE_DIR = ROOT / "phone"
DRIVER = Path(__file__).parent / "browser" / "phone_scenario.mjs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CENTREX = [sys.executable, "-m", "centrex.cli"]
TONE_HZ = 1000.0


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (PHONE_DIR / "node_modules" / "playwright-core").exists():
        return "playwright-core is not installed: npm ci in phone/"
    return None


def write_tone(path: Path, hz: float = TONE_HZ, seconds: float = 30.0, rate: int = 48000) -> Path:
    """A mono 16-bit WAV with a sine at ``hz`` (Chromium loops it as the microphone)."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.5 * 32767 * np.sin(2 * math.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@dataclass
class RtpReceiver:
    """A UDP socket on 127.0.0.1 keeping every RTP packet it gets, with its arrival time."""

    sock: socket.socket = field(default_factory=lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    packets: list[tuple[float, int, bytes, int]] = field(default_factory=list)
    _stop: bool = False

    def __post_init__(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _run(self) -> None:
        while not self._stop:
            try:
                data, _ = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                p = parse_rtp(data)
            except MediaError:
                continue
            self.packets.append((time.monotonic(), p.payload_type, p.payload, p.timestamp))

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()

    def audio(self, payload_type: int = 0, skip: int = 10, count: int = 100) -> np.ndarray:
        """``count`` G.711 frames of ``payload_type`` (after the first ``skip``), decoded."""
        frames = [pl for _, pt, pl, _ in self.packets if pt == payload_type][skip : skip + count]
        decode = ulaw_decode if payload_type == 0 else alaw_decode
        return np.concatenate([decode(f) for f in frames]) if frames else np.zeros(0)

    def events(self, payload_type: int) -> list[int]:
        """RFC 4733 events received with ``payload_type``, in order: every packet of one event
        (and its repeated end packets) carries the event's start timestamp (§2.5.1.3)."""
        seen: dict[int, int] = {}
        for _, pt, payload, ts in self.packets:
            if pt == payload_type and len(payload) >= 4:
                seen.setdefault(ts, payload[0])
        return list(seen.values())

    def payload_types(self) -> set[int]:
        return {pt for _, pt, _, _ in self.packets}


def peak_hz(pcm: np.ndarray, rate: int = 8000) -> float:
    """The frequency of the strongest FFT bin (DC removed, Hann window)."""
    x = pcm.astype(np.float64)
    x -= x.mean()
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spectrum))])


def tone_share(pcm: np.ndarray, hz: float = TONE_HZ, rate: int = 8000, width: float = 50.0) -> float:
    """The share of the signal's energy within ``width`` Hz of ``hz``."""
    x = pcm.astype(np.float64)
    x -= x.mean()
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    total = float(power.sum()) or 1.0
    return float(power[np.abs(freqs - hz) <= width].sum()) / total


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


@dataclass
class Served:
    proc: subprocess.Popen[str]
    http_port: int
    sip_port: int
    ws_port: int
    demo: dict[str, object]
    media_relay: str = "builtin"

    def password(self, extension: str) -> str:
        lines = self.demo["lines"]
        assert isinstance(lines, list)
        return str(next(ln["sip_password"] for ln in lines if ln["extension"] == extension))

    @property
    def domain(self) -> str:
        return str(self.demo["sip_domain"])

    def phone_url(self, user: str) -> str:
        return (
            f"http://127.0.0.1:{self.http_port}/phone/?server=ws://127.0.0.1:{self.ws_port}"
            f"&user={user}&domain={self.domain}"
        )


def start_serve(data: Path, rtpengine_ng: str, media_relay: str = "builtin") -> Served:
    http_port, sip_port, ws_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "CENTREX_DATA": str(data),
        "CENTREX_SIP_DIGEST": "MD5,SHA-256",  # SIPp knows MD5 only
        "CENTREX_RTPENGINE_NG": rtpengine_ng,
        "CENTREX_MEDIA_RELAY": media_relay,
        "CENTREX_SIP_TLS_PORT": str(free_port()),
    }
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    proc = subprocess.Popen(
        [
            *CENTREX,
            "serve",
            "--bind",
            "127.0.0.1",
            "--http-port",
            str(http_port),
            "--sip-port",
            str(sip_port),
            "--sip-ws-port",
            str(ws_port),
            "--rtp-ports",
            "31000-31999",
            "--no-jobs",
            "--no-monitor",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"centrex serve exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with (
                socket.create_connection(("127.0.0.1", ws_port), timeout=1),
                socket.create_connection(("127.0.0.1", http_port), timeout=1),
            ):
                return Served(proc, http_port, sip_port, ws_port, demo, media_relay)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("centrex serve did not come up")


def stop_serve(served: Served) -> str:
    served.proc.terminate()
    try:
        out, _ = served.proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        out, _ = served.proc.communicate()
    return out or ""


def driver(served: Served, scenario: str, user: str, tone: Path, **extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PHONE_URL": served.phone_url(user),
        "SIP_PASSWORD": served.password(user),
        "TONE_WAV": str(tone),
        "SCENARIO": scenario,
        "CHROMIUM": CHROMIUM,
        "PHONE_DIR": str(PHONE_DIR),
        **extra,
    }
    return subprocess.Popen(
        ["node", str(DRIVER)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def read_steps(proc: subprocess.Popen[str], until: str, timeout_s: float = 90.0) -> list[dict[str, object]]:
    """JSON lines of the driver up to the step ``until`` (or its end); never hangs past the timeout."""
    assert proc.stdout is not None
    steps: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout_s
    result: list[dict[str, object]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                step = json.loads(line)
            except ValueError:
                step = {"step": "output", "text": line.rstrip()}
            result.append(step)
            if step.get("step") in (until, "failed"):
                return

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(max(0.0, deadline - time.monotonic()))
    steps.extend(result)
    return steps
