from centrex.calls.guard import AuthFailureBan, GuardConfig, RateLimiter, SourceGuard

OPTIONS = b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n"


def test_five_failures_in_ten_minutes_ban_for_ten_minutes() -> None:
    ban = AuthFailureBan()
    for i in range(4):
        assert not ban.record_failure("1.2.3.4", 100.0 * i)
    assert not ban.is_banned("1.2.3.4", 400.0)
    assert ban.record_failure("1.2.3.4", 500.0)
    assert ban.is_banned("1.2.3.4", 500.0)
    assert ban.is_banned("1.2.3.4", 1099.0)
    assert not ban.is_banned("1.2.3.4", 1100.0)
    assert not ban.is_banned("5.6.7.8", 600.0)


def test_failures_outside_the_window_do_not_count() -> None:
    ban = AuthFailureBan(max_failures=5, window=600, ban=600)
    for i in range(10):
        assert not ban.record_failure("1.2.3.4", 200.0 * i)  # never 5 within 600 s


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
