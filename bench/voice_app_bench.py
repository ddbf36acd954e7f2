"""Voice apps (issue 16 §1): INVITE → the first verb's audio, with the app server on loopback.

    .venv/bin/python bench/voice_app_bench.py               # 60 calls, <Say> by espeak-ng
    .venv/bin/python bench/voice_app_bench.py --calls 200 --tts tones

One process: the app server (apps/server.py) over SQLite, a customer's web app (a threaded
http.server answering <Response><Say>…</Say></Response>) and a SIP caller on raw UDP sockets, all on
127.0.0.1. Each call: INVITE (with the switch's X-Centrex-* headers, as the engine sends it) → the
app server makes the cpaas_calls row, posts the ringing status callback, fetches the document
(signed), answers 200 → the interpreter answers the "answered" callback and renders the Say → the
first RTP packet reaches the caller's socket. The figure is INVITE sent → first RTP packet, per call,
sequential calls; "200" is INVITE → 200 OK. The first call renders the Say with espeak-ng (a
cache miss, reported apart); later calls hit the interpreter's TTS cache, as an IVR's prompts do.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from centrex.apps.app_config import AppConfig
from centrex.apps.server import AppServer
from centrex.cpaas.sids import new_sid
from centrex.cpaas.voice.sounds import Sounds
from centrex.media.ports import PortAllocator
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import upgrade
from centrex.store.models.cpaas_voice import Application

DOC = b'<?xml version="1.0"?><Response><Say>Thank you for calling. Please hold.</Say></Response>'


def web_app() -> ThreadingHTTPServer:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = DOC if self.path == "/voice" else b""
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def invite(
    target: tuple[str, int], app: uuid.UUID, tenant: uuid.UUID, sip_port: int, rtp_port: int
) -> tuple[bytes, str, str]:
    call_id, tag, branch = uuid.uuid4().hex, uuid.uuid4().hex[:8], "z9hG4bK" + uuid.uuid4().hex[:12]
    sdp = (
        f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    )
    head = (
        f"INVITE sip:cpaas.{app}@{target[0]}:{target[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{sip_port};branch={branch};rport\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:1001@bench.example>;tag={tag}\r\n"
        f"To: <sip:cpaas.{app}@bench.example>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
        f"Contact: <sip:1001@127.0.0.1:{sip_port}>\r\nX-Centrex-Tenant: {tenant}\r\n"
        f"X-Centrex-Caller: 1001\r\nX-Centrex-Dialled: 6000\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n"
    )
    return (head + sdp).encode(), call_id, tag


def in_dialog(
    method: str,
    seq: int,
    app: uuid.UUID,
    target: tuple[str, int],
    sip_port: int,
    call_id: str,
    tag: str,
    to_tag: str,
) -> bytes:
    branch = "z9hG4bK" + uuid.uuid4().hex[:12]
    return (
        f"{method} sip:apps@{target[0]}:{target[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{sip_port};branch={branch};rport\r\nMax-Forwards: 70\r\n"
        f"From: <sip:1001@bench.example>;tag={tag}\r\nTo: <sip:cpaas.{app}@bench.example>;tag={to_tag}\r\n"
        f"Call-ID: {call_id}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def one_call(apps: AppServer, app: uuid.UUID, tenant: uuid.UUID) -> tuple[float, float]:
    loop = asyncio.get_running_loop()
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", 0))
    rtp.bind(("127.0.0.1", 0))
    sip.setblocking(False)
    rtp.setblocking(False)
    target = apps.address
    data, call_id, tag = invite(target, app, tenant, sip.getsockname()[1], rtp.getsockname()[1])
    t0 = time.perf_counter()
    sip.sendto(data, target)
    to_tag, t200 = "", 0.0
    while not to_tag:
        msg = (await loop.sock_recv(sip, 65535)).decode(errors="replace")
        if msg.startswith("SIP/2.0 200"):
            t200 = time.perf_counter()
            line = next(x for x in msg.split("\r\n") if x.lower().startswith(("to:", "t:")))
            to_tag = line.split("tag=")[1].split(";")[0].strip()
        elif msg.startswith("SIP/2.0 4") or msg.startswith("SIP/2.0 5"):
            raise RuntimeError(msg.split("\r\n")[0])
    sip.sendto(in_dialog("ACK", 1, app, target, sip.getsockname()[1], call_id, tag, to_tag), target)
    await loop.sock_recv(rtp, 2048)
    t_audio = time.perf_counter()
    sip.sendto(in_dialog("BYE", 2, app, target, sip.getsockname()[1], call_id, tag, to_tag), target)
    await asyncio.sleep(0.02)
    sip.close()
    rtp.close()
    return (t200 - t0) * 1000, (t_audio - t0) * 1000


async def main_async(calls: int, tts: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="voice-bench-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    web = web_app()
    base = f"http://127.0.0.1:{web.server_address[1]}"
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp)
        row = Application(
            tenant_id=uuid.UUID(demo.tenant_id),
            sid=new_sid("AP"),
            voice_url=f"{base}/voice",
            status_callback=f"{base}/status",
        )
        s.add(row)
        s.flush()
        app_id, tenant = row.id, row.tenant_id
    apps = AppServer(sessions, AppConfig(data_dir=tmp, prompts="tones"), PortAllocator(52000, 52999))
    apps.voice.env.sounds = Sounds(apps.voice.env.client.client, tts=tts)
    await apps.start()
    try:
        first200, first = await one_call(apps, app_id, tenant)
        results = [await one_call(apps, app_id, tenant) for _ in range(calls)]
    finally:
        await apps.stop()
        web.shutdown()
        engine.dispose()
    ok = np.array([r[0] for r in results])
    audio = np.array([r[1] for r in results])
    print(f"voice app, {calls} sequential calls, <Say> by {tts}, app server and web app on 127.0.0.1")
    print(f"{'':24} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'INVITE -> 200 OK':24} {np.median(ok):>8.1f} {np.percentile(ok, 99):>8.1f}")
    print(f"{'INVITE -> first audio':24} {np.median(audio):>8.1f} {np.percentile(audio, 99):>8.1f}")
    print(f"first call (TTS cache miss): 200 OK {first200:.1f} ms, first audio {first:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--tts", choices=("auto", "tones"), default="auto")
    args = ap.parse_args()
    asyncio.run(main_async(args.calls, args.tts))


if __name__ == "__main__":
    main()
