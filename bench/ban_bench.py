"""What the bans cost on the SIP hot path (issue 13 §4): the guard's question for every datagram,
with many bans active and a large allowlist, and the cost of judging forged credentials.

Prints figures; never a timed test. Run: .venv/bin/python bench/ban_bench.py
"""

from __future__ import annotations

import secrets
import time

from centrex.calls.guard import GuardConfig, SourceGuard
from centrex.fairuse.ban_service import BanService
from centrex.fairuse.bans import Allowlist, Ban, BanPolicy, Realm
from centrex.sip.digest import DigestAuthenticator, build_authorization

N = 200_000
DATAGRAM = b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.2.3\r\nUser-Agent: Yealink\r\n\r\n"


def per_call_us(fn: object, n: int = N) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)  # type: ignore[operator]
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    guard = SourceGuard(GuardConfig(rate_per_s=1e9, burst=1e9))
    now = time.time()
    guard.bans.book.set_allowlist(
        Allowlist(
            [f"192.0.{i // 256}.{i % 256}" for i in range(1000)] + [f"10.{i}.0.0/16" for i in range(100)]
        )
    )
    guard.bans.book.restore(
        [Ban(Realm.SIP, f"172.16.{i // 256}.{i % 256}", now, now + 600, 5) for i in range(10_000)], now
    )
    sources = [f"100.64.{i // 256}.{i % 256}" for i in range(4096)]
    admit = per_call_us(lambda i: guard.admit(sources[i % 4096], DATAGRAM, now))
    banned = per_call_us(lambda i: guard.admit(f"172.16.0.{i % 256}", DATAGRAM, now))
    # Failures that stay under the threshold (a ban is rare and logged: not the cost measured).
    counting = BanService({Realm.SIP: BanPolicy(max_failures=10**9)})
    counting.book.set_allowlist(guard.bans.book.allowlist)
    failure = per_call_us(lambda i: counting.failure(Realm.SIP, sources[i % 4096], now), 50_000)
    failure_allowed = per_call_us(lambda i: counting.failure(Realm.SIP, "10.42.1.1", now), 50_000)
    digest = DigestAuthenticator("demo.example", secrets.token_bytes(32))
    forged = build_authorization(
        digest.challenge(now, client_key="1.2.3.4")[0], "REGISTER", "sip:x", "1001", "pw"
    )
    verify = per_call_us(
        lambda i: digest.verify(forged, "REGISTER", now, lambda u, r, a: None, client_key="5.6.7.8"), 50_000
    )
    print("guard.admit, 10,000 bans and 1,100 allowlist entries active:")
    print(f"  a source not banned (rate limit + scanner check): {admit:.2f} us/datagram")
    print(f"  a banned source (dropped):                        {banned:.2f} us/datagram")
    print(f"bans.failure, a counted failure:                    {failure:.2f} us")
    print(f"bans.failure, an allowlisted source (100 networks): {failure_allowed:.2f} us")
    print(f"digest.verify, a nonce issued to another address:   {verify:.2f} us (refused, counts nothing)")


if __name__ == "__main__":
    main()
