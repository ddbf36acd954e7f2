"""What call recording costs the relay's per-packet path, in CPU time per packet, without sockets.

    .venv/bin/python bench/recording_bench.py                 # 200 calls, 20 s of media each way
    .venv/bin/python bench/recording_bench.py --relay OLD.py  # the same against another relay.py

The relay's own RTP handler (RtpRelay._rtp_handler) is called for every packet of ``--calls`` calls,
both directions, 20 ms G.711 (PCMU, 172-byte packets), with a transport whose ``sendto`` does
nothing, so the figures are the Python cost of forwarding, not the kernel's. Three runs: nothing
tapped; every call recorded (the tap's append plus the once-a-second flush that parses, decodes and
writes the WAV, into a temporary directory); every leg watched for a feature code. The flush runs as
the relay's timer would, once per simulated second per call. bench/media_bench.py --record measures
the same under real UDP load.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from centrex.media.ports import PortAllocator
from centrex.media.rtp import RtpPacket


class SimulatedClock:
    """Stands in for the relay module's ``time``: media time, 20 ms a tick, however fast we run."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class NullTransport:
    def sendto(self, data: bytes, addr: object) -> None:
        pass

    def close(self) -> None:
        pass


def load_relay(path: str | None) -> ModuleType:
    if path is None:
        import centrex.media.relay as relay

        return relay
    spec = importlib.util.spec_from_file_location("relay_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def run(relay_mod: ModuleType, calls: int, seconds: int, mode: str, out: Path) -> float:
    alloc = PortAllocator(40000, 40000 + 4 * calls + 8)
    clock = SimulatedClock()
    relay_mod.time = clock  # type: ignore[attr-defined]
    relays, handlers = [], []
    for i in range(calls):
        r = relay_mod.RtpRelay(f"c{i}", alloc, "127.0.0.1", idle_timeout=0).bind()
        for leg in r._legs.values():
            leg.rtp_transport = NullTransport()
            leg.expected_rtp = ("127.0.0.1", 9)
        if mode == "record":
            r.start_recording(out / f"c{i}.wav")
        elif mode == "watch":
            from centrex.media.recorder import FeatureCodeWatch

            for leg in ("a", "b"):
                r.watch(leg, FeatureCodeWatch("*1", lambda now: None))
        relays.append(r)
        handlers.append((r._rtp_handler("a", "b"), r._rtp_handler("b", "a")))
    payload = b"\xff" * 160
    packets = 0
    cpu = 0.0
    for tick in range(seconds * 50):
        pkt_a = [RtpPacket(0, tick & 0xFFFF, 160 * tick, 2 * i, payload).pack() for i in range(calls)]
        pkt_b = [RtpPacket(0, tick & 0xFFFF, 160 * tick, 2 * i + 1, payload).pack() for i in range(calls)]
        clock.now = 1000.0 + 0.02 * tick
        t0 = time.process_time()
        for (ha, hb), pa, pb in zip(handlers, pkt_a, pkt_b, strict=True):
            ha(pa, ("127.0.0.1", 5000))
            hb(pb, ("127.0.0.1", 5002))
        if mode == "record" and tick % 50 == 49:  # the relay's once-a-second flush timer
            for r in relays:
                r.recorder.flush(clock.now)
        cpu += time.process_time() - t0
        packets += 2 * calls
    dropped = sum(r.recorder.dropped for r in relays) if mode == "record" else 0
    for r in relays:
        r.close()
    relay_mod.time = time  # type: ignore[attr-defined]
    assert dropped == 0, f"{dropped} packets dropped: the simulated clock is wrong"
    return 1e6 * cpu / packets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--relay", help="path of another relay.py to measure (e.g. before the tap)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per mode")
    args = ap.parse_args()
    relay_mod = load_relay(args.relay)
    modes = ["plain"] if args.relay else ["plain", "record", "watch"]
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            best = min(
                run(relay_mod, args.calls, args.seconds, mode, Path(tmp) / f"{mode}{k}")
                for k in range(args.repeat)
            )
            print(
                f"{mode:>7}: {best:6.2f} us CPU per packet ({args.calls} calls, {args.seconds} s)", flush=True
            )


if __name__ == "__main__":
    main()
