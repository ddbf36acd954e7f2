from centrex.calls.guard import GuardConfig, RateLimiter, SourceGuard

OPTIONS = b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n"


# The ban logic itself (5 in 10 minutes, per realm, allowlist) is tested in tests/fairuse/test_bans.py.


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    rl = RateLimiter(rate=10, burst=20)
    assert all(rl.allow("a", 0.0) for _ in range(20))
    assert not rl.allow("a", 0.0)
    assert rl.allow("b", 0.0)  # per source
    assert rl.allow("a", 0.1)  # one token back after 1/10 s
    assert not rl.allow("a", 0.1)


def test_guard_drops_banned_sources_entirely_and_scanners() -> None:
    guard = SourceGuard(GuardConfig(max_auth_failures=2))
    assert guard.admit("1.2.3.4", OPTIONS, 0.0)
    guard.auth_failed("1.2.3.4", 1.0)
    guard.auth_failed("1.2.3.4", 2.0)
    assert not guard.admit("1.2.3.4", OPTIONS, 3.0)
    assert not guard.admit("1.2.3.4", b"SIP/2.0 200 OK\r\n\r\n", 3.0)
    scan = OPTIONS.replace(b"\r\n\r\n", b"\r\nUser-Agent: friendly-scanner\r\n\r\n")
    assert not guard.admit("9.9.9.9", scan, 0.0)


def test_guard_rate_limits_requests_not_responses() -> None:
    guard = SourceGuard(GuardConfig(rate_per_s=1, burst=2))
    assert guard.admit("a", OPTIONS, 0.0)
    assert guard.admit("a", OPTIONS, 0.0)
    assert not guard.admit("a", OPTIONS, 0.0)
    assert guard.admit("a", b"SIP/2.0 180 Ringing\r\n\r\n", 0.0)
