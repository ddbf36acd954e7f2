"""The conference mixer's cost per 20 ms tick (apps/mixer.py), for rooms of 3, 10 and 50 parties.

    .venv/bin/python bench/conference_bench.py                 # 3, 10, 50 parties
    .venv/bin/python bench/conference_bench.py --parties 3,100 --ticks 5000

Every party sends a frame each tick (speech-level noise, level normalisation on), which is the worst
case: a real room has silent and lost frames too. The figure is the mixer alone (numpy sums, gains,
clipping, the dict of output frames); the last column adds the µ-law encoding of every party's
output (what a room's tick does before its sendto calls; decoding happens as packets arrive).
A tick has 20 000 µs; one core runs 20000 / (µs per tick) such rooms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from centrex.apps.mixer import FRAME, Mixer, join_tone
from centrex.media.g711 import ulaw_encode


def bench(parties: int, ticks: int, encode: bool = False) -> tuple[float, float]:
    mixer = Mixer()
    for p in range(parties):
        mixer.add(p, tone=False)
    rng = np.random.default_rng(parties)
    pool = rng.normal(0, 3000, (64, FRAME)).clip(-32768, 32767).astype(np.int16)
    frames = [{p: pool[(p + t) % 64] for p in range(parties)} for t in range(64)]
    for t in range(200):  # warm-up
        mixer.tick(frames[t % 64])
    costs = np.empty(ticks)
    for t in range(ticks):
        if t % 500 == 0:
            mixer.announce(join_tone())  # someone joins now and then
        start = time.perf_counter_ns()
        out = mixer.tick(frames[t % 64])
        if encode:  # what the room adds before the sockets: one µ-law payload per party
            for f in out.values():
                ulaw_encode(f)
        costs[t] = (time.perf_counter_ns() - start) / 1000
    return float(np.median(costs)), float(np.percentile(costs, 99))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parties", default="3,10,50")
    ap.add_argument("--ticks", type=int, default=3000)
    args = ap.parse_args()
    print(f"{'parties':>8} {'µs/tick p50':>12} {'µs/tick p99':>12} {'rooms/core':>11} {'+µ-law p50':>11}")
    for n in (int(x) for x in args.parties.split(",")):
        p50, p99 = bench(n, args.ticks)
        enc50, _ = bench(n, args.ticks, encode=True)
        print(f"{n:>8} {p50:>12.1f} {p99:>12.1f} {int(20000 / p50):>11} {enc50:>11.1f}")


if __name__ == "__main__":
    main()
