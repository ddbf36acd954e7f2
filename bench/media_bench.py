"""Concurrent relayed G.711 calls through centrex.media.relay on one core: packet loss and added jitter.

    .venv/bin/python bench/media_bench.py                       # 500 calls, 10 s measured
    .venv/bin/python bench/media_bench.py --calls 250,500,750   # several loads
    .venv/bin/python bench/media_bench.py --find                # ramp up until a target is missed
    .venv/bin/python bench/media_bench.py --record /tmp/rec     # every call recorded (its cost)
    .venv/bin/python bench/media_bench.py --relay rtpengine --calls 500,1000   # through rtpengine

--relay rtpengine: the same measurement through the rtpengine daemon (Debian rtpengine-daemon,
userspace forwarding, no kernel module) started pinned to the relay core (affinity and niceness set
before exec, as taskset/nice would) with one worker thread; each call is set up through
calls/rtpengine_anchor.py RtpengineAnchor (offer/answer, then each leg's SDP address: the phones'
two shared sockets), and the set-up time per call is printed.

The relay (a RelayManager with one RtpRelay per call, uvloop unless --no-uvloop) runs in its own
process pinned to one core. The phones are driven from other processes pinned to another core: one
sender paces every call's two directions at 20 ms (G.711, 160-byte payload, 172-byte RTP packets),
spread evenly over the 20 ms so calls are not in lock-step, and writes its send time (CLOCK_REALTIME,
ns) into the payload; one receiver per side reads packets with kernel receive timestamps
(SO_TIMESTAMPNS), so the receiver's own scheduling does not count as relay jitter. All A-side
phones share one socket and all B-side phones another: latching binds every call's legs to them,
and the RTP SSRC tells the calls apart.

Figures: loss = packets sent in the measured window that never came out of the relay; added jitter
= per stream, transit time minus that stream's smallest transit (what the relay adds on top of the
unavoidable loopback cost), p50/p99 over all packets. Targets (issue 4): < 0.1 % loss and < 5 ms p99.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from centrex.calls.rtpengine_anchor import RtpengineAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.rtpengine import NgClient, NgError

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux value when Python lacks the name
PTIME = 0.020
PAYLOAD = 160
HEADER = struct.Struct("!BBHII")
STAMP = struct.Struct("!q")


NICE = 0
RECORD = ""  # --record DIR: every call recorded into DIR (media/recorder.py), to measure its cost


def pin(core: int) -> None:
    """Pin to ``core`` and, when allowed, raise priority so a shared machine's other work waits."""
    if hasattr(os, "sched_setaffinity") and core < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {core})
    if NICE:
        with contextlib.suppress(OSError):  # not permitted: measure at normal priority
            os.nice(NICE)


# -- the relay process ---------------------------------------------------------------------------


def relay_main(conn: Connection, calls: int, core: int, use_uvloop: bool) -> None:
    pin(core)
    if use_uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(relay_async(conn, calls))


async def relay_async(conn: Connection, calls: int) -> None:
    loop = asyncio.get_running_loop()
    alloc = PortAllocator(20000, 20000 + 4 * calls + 100)
    mgr = RelayManager(alloc, bind_host="127.0.0.1", idle_timeout=0)
    ports = []
    for i in range(calls):
        relay = await mgr.create(f"call-{i}")
        if RECORD:
            relay.start_recording(Path(RECORD) / f"call-{i}-{os.getpid()}.wav")
        ports.append((mgr.sdp_address(f"call-{i}", "a").port, mgr.sdp_address(f"call-{i}", "b").port))
    conn.send(ports)
    msgs: asyncio.Queue[str] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: msgs.put_nowait(conn.recv()))

    def forwarded() -> int:
        total = 0
        for i in range(calls):
            relay = mgr.get(f"call-{i}")
            assert relay is not None
            total += relay.stats("a").packets_out + relay.stats("b").packets_out
        return total

    cpu0 = wall0 = 0.0
    fwd0 = 0
    while True:
        msg = await msgs.get()
        if msg == "measure":
            cpu0, wall0, fwd0 = time.process_time(), time.monotonic(), forwarded()
        elif msg == "stop":
            cpu, wall, fwd = time.process_time() - cpu0, time.monotonic() - wall0, forwarded() - fwd0
            loop.remove_reader(conn.fileno())
            mgr.close()
            conn.send({"cpu": cpu / wall if wall else 0.0, "us_per_packet": 1e6 * cpu / max(1, fwd)})
            return


# -- rtpengine as the relay ---------------------------------------------------------------------


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_rtpengine(calls: int, core: int) -> tuple[subprocess.Popen[bytes], RtpengineAnchor]:
    ng = free_port(socket.SOCK_DGRAM)
    args = [
        shutil.which("rtpengine") or "/usr/bin/rtpengine",
        "--config-file=none",
        "--interface=127.0.0.1",
        f"--listen-ng=127.0.0.1:{ng}",
        f"--listen-cli=127.0.0.1:{free_port(socket.SOCK_STREAM)}",
        "--table=-1",
        "--no-fallback",
        "--foreground",
        "--log-stderr",
        "--log-level=3",
        "--port-min=20000",
        f"--port-max={20000 + 4 * calls + 100}",
        "--num-threads=1",
        "--timeout=600",
    ]
    # Its log (queue overflows when it falls behind) would drown the figures: --log-level=3 to /dev/null.
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lambda: pin(core)
    )
    client = NgClient("127.0.0.1", ng, timeout_s=0.2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except NgError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("rtpengine did not start") from None
            time.sleep(0.05)
    client.timeout_s = 2.0
    return proc, RtpengineAnchor(client)


def rtpengine_calls(
    anchor: RtpengineAnchor, calls: int, a_addr: tuple[str, int], b_addr: tuple[str, int]
) -> tuple[list[tuple[int, int]], list[float]]:
    """Each call set up as the engine does it: open (offer + answer), then each leg's SDP address."""
    ports, setup_ms = [], []
    for i in range(calls):
        t = time.perf_counter()
        opened = anchor.open(f"call-{i}")
        if opened is None:
            raise SystemExit(f"rtpengine refused call {i}")
        anchor.set_remote(f"call-{i}", "a", *a_addr)
        anchor.set_remote(f"call-{i}", "b", *b_addr)
        setup_ms.append((time.perf_counter() - t) * 1000)
        ports.append((opened[0][1], opened[1][1]))
    return ports, setup_ms


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the phones ----------------------------------------------------------------------------------


def big_buffers(sock: socket.socket) -> None:
    for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if opt is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, 16 << 20)
            break
        except OSError:
            continue
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)


def sender_main(
    conn: Connection, sa: socket.socket, sb: socket.socket, ports: list[tuple[int, int]], core: int,
    start: float, warm_end: float, end: float,
) -> None:  # fmt: skip
    pin(core)
    n = len(ports)
    sa.setblocking(True)
    sb.setblocking(True)
    payload = bytes(PAYLOAD - STAMP.size)
    dest_a = [("127.0.0.1", a) for a, _ in ports]
    dest_b = [("127.0.0.1", b) for _, b in ports]
    sent_window = 0
    sent_total = 0
    late_ticks = 0
    tick = 0
    while True:
        t_tick = start + tick * PTIME
        if t_tick >= end:
            break
        seq = tick & 0xFFFF
        ts = (tick * PAYLOAD) & 0xFFFFFFFF
        for i in range(n):
            due = t_tick + i * PTIME / n
            now = time.time()
            if due - now > 0.0005:
                time.sleep(due - now)
            elif now - due > PTIME:
                late_ticks += 1
            now_ns = time.time_ns()
            stamp = STAMP.pack(now_ns)
            sa.sendto(HEADER.pack(0x80, 0, seq, ts, 2 * i) + stamp + payload, dest_a[i])
            sb.sendto(HEADER.pack(0x80, 0, seq, ts, 2 * i + 1) + stamp + payload, dest_b[i])
            sent_total += 2
            if warm_end * 1e9 <= now_ns < end * 1e9:
                sent_window += 2
        tick += 1
    conn.send({"sent_window": sent_window, "sent_total": sent_total, "late": late_ticks})


def receiver_main(conn: Connection, sock: socket.socket, core: int, warm_end: float, end: float) -> None:
    pin(core)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.settimeout(0.2)
    lo, hi = int(warm_end * 1e9), int(end * 1e9)
    ssrcs: list[int] = []
    delays: list[int] = []
    deadline = end + 1.0  # drain what was in flight at the end
    anc = socket.CMSG_SPACE(16)
    while time.time() < deadline:
        try:
            data, ancdata, _flags, _addr = sock.recvmsg(256, anc)
        except TimeoutError:
            continue
        if len(data) < 20:
            continue
        sent = STAMP.unpack_from(data, 12)[0]
        if not lo <= sent < hi:
            continue
        recv_ns = None
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", cdata[:16])
                recv_ns = sec * 1_000_000_000 + nsec
        if recv_ns is None:
            recv_ns = time.time_ns()
        ssrcs.append(int.from_bytes(data[8:12], "big"))
        delays.append(recv_ns - sent)
    conn.send((np.array(ssrcs, dtype=np.int64), np.array(delays, dtype=np.int64)))


def run(
    calls: int,
    seconds: float,
    warmup: float,
    relay_core: int,
    driver_core: int,
    use_uvloop: bool,
    relay_kind: str = "builtin",
) -> dict:
    ctx = mp.get_context("fork")
    sa = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sb = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (sa, sb):
        s.bind(("127.0.0.1", 0))
        big_buffers(s)
    daemon: subprocess.Popen[bytes] | None = None
    setup_ms: list[float] = []
    if relay_kind == "rtpengine":
        daemon, anchor = start_rtpengine(calls, relay_core)
        ports, setup_ms = rtpengine_calls(anchor, calls, sa.getsockname(), sb.getsockname())
    else:
        parent, child = ctx.Pipe()
        relay = ctx.Process(target=relay_main, args=(child, calls, relay_core, use_uvloop), daemon=True)
        relay.start()
        if not parent.poll(120):
            relay.kill()
            raise SystemExit("relay did not start within 120 s")
        ports = parent.recv()
    start = time.time() + 0.5
    warm_end, end = start + warmup, start + warmup + seconds
    procs, pipes = [], []
    for target, args in (
        (receiver_main, (sa, driver_core, warm_end, end)),
        (receiver_main, (sb, driver_core, warm_end, end)),
        (sender_main, (sa, sb, ports, driver_core, start, warm_end, end)),
    ):
        p_parent, p_child = ctx.Pipe()
        proc = ctx.Process(target=target, args=(p_child, *args), daemon=True)
        proc.start()
        procs.append(proc)
        pipes.append(p_parent)
    time.sleep(max(0.0, warm_end - time.time()))
    if daemon is not None:
        cpu0, wall0 = cpu_seconds(daemon.pid), time.monotonic()
    else:
        parent.send("measure")
    results = [p.recv() for p in pipes]
    if daemon is not None:
        cpu, wall = cpu_seconds(daemon.pid) - cpu0, time.monotonic() - wall0
        for i in range(calls):
            anchor.close(f"call-{i}")
        anchor.client.close()
        daemon.terminate()
        daemon.wait(10)
    else:
        parent.send("stop")
        relay_stats = parent.recv() if parent.poll(30) else {}
        relay.join(10)
        if relay.is_alive():
            relay.kill()
    for proc in procs:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    sa.close()
    sb.close()
    (ssrc_a, delay_a), (ssrc_b, delay_b), sender = results
    if daemon is not None:
        # Packets forwarded in the window ~ packets the phones received from it.
        relay_stats = {
            "cpu": cpu / wall if wall else 0.0,
            "us_per_packet": 1e6 * cpu / max(1, len(delay_a) + len(delay_b)),
        }
    ssrc = np.concatenate([ssrc_a, ssrc_b])
    delay = np.concatenate([delay_a, delay_b])
    received = len(delay)
    loss = 1 - received / sender["sent_window"] if sender["sent_window"] else 1.0
    if received:
        _, inv = np.unique(ssrc, return_inverse=True)
        mins = np.full(inv.max() + 1, np.iinfo(np.int64).max)
        np.minimum.at(mins, inv, delay)
        added = (delay - mins[inv]) / 1e6
        p50, p99, pmax = np.percentile(added, [50, 99, 100])
        transit_p50 = float(np.percentile(delay, 50)) / 1e6
    else:
        p50 = p99 = pmax = transit_p50 = float("nan")
    return {
        "calls": calls,
        "sent": sender["sent_window"],
        "received": received,
        "loss_pct": 100 * max(0.0, loss),
        "jitter_p50_ms": float(p50),
        "jitter_p99_ms": float(p99),
        "jitter_max_ms": float(pmax),
        "transit_p50_ms": transit_p50,
        "pps": sender["sent_window"] / seconds,
        "relay_cpu_pct": 100 * relay_stats.get("cpu", float("nan")),
        "us_per_packet": relay_stats.get("us_per_packet", float("nan")),
        "sender_late": sender["late"],
        "setup_p50_ms": float(np.percentile(setup_ms, 50)) if setup_ms else float("nan"),
        "setup_p99_ms": float(np.percentile(setup_ms, 99)) if setup_ms else float("nan"),
    }


def passes(r: dict) -> bool:
    return r["loss_pct"] < 0.1 and r["jitter_p99_ms"] < 5.0


def show(r: dict) -> None:
    print(
        f"{r['calls']:>6} calls  {r['pps']:>8.0f} pkt/s in  loss {r['loss_pct']:6.3f} %  "
        f"added jitter p50 {r['jitter_p50_ms']:6.3f} ms  p99 {r['jitter_p99_ms']:7.3f} ms  "
        f"max {r['jitter_max_ms']:7.2f} ms  transit p50 {r['transit_p50_ms']:.3f} ms  "
        f"relay CPU {r['relay_cpu_pct']:5.1f} % ({r['us_per_packet']:.1f} us/packet)  "
        f"sender late {r['sender_late']}  "
        + (
            f"set-up p50 {r['setup_p50_ms']:.2f} ms p99 {r['setup_p99_ms']:.2f} ms  "
            if r["setup_p50_ms"] == r["setup_p50_ms"]
            else ""
        )
        + f"{'PASS' if passes(r) else 'FAIL'}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", default="500", help="comma-separated concurrent call counts")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per load")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--relay-core", type=int, default=0)
    ap.add_argument("--driver-core", type=int, default=1)
    ap.add_argument("--no-uvloop", action="store_true")
    ap.add_argument("--nice", type=int, default=-10, help="niceness of bench processes (needs privilege)")
    ap.add_argument("--find", action="store_true", help="ramp from --calls by --step until a target fails")
    ap.add_argument("--step", type=int, default=250)
    ap.add_argument("--record", default="", help="record every call into this directory")
    ap.add_argument("--relay", choices=("builtin", "rtpengine"), default="builtin")
    args = ap.parse_args()
    global NICE, RECORD
    NICE = args.nice
    RECORD = args.record
    use_uvloop = not args.no_uvloop
    if args.relay == "rtpengine" and args.record:
        raise SystemExit("--record needs the built-in relay (the recorder taps its packets)")
    kind = "rtpengine 1 thread" if args.relay == "rtpengine" else ("uvloop" if use_uvloop else "asyncio")
    print(
        f"{args.relay} relay on core {args.relay_core} ({kind}, nice {args.nice}), "
        f"phones on core "
        f"{args.driver_core}; 20 ms G.711, both directions; "
        f"{args.seconds:g} s measured after {args.warmup:g} s"
    )
    loads = [int(c) for c in args.calls.split(",")]
    if args.find:
        n, best = loads[0], 0
        while True:
            r = run(n, args.seconds, args.warmup, args.relay_core, args.driver_core, use_uvloop, args.relay)
            show(r)
            if not passes(r):
                break
            best = n
            n += args.step
        print(f"largest load meeting < 0.1 % loss and < 5 ms p99 added jitter: {best} calls")
        return
    for n in loads:
        show(run(n, args.seconds, args.warmup, args.relay_core, args.driver_core, use_uvloop, args.relay))
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
