"""RFC 4028 session timers: negotiation both ways, 422 and the retry, refresh and expiry times."""

from __future__ import annotations

import pytest

from centrex.sip.errors import SipParseError
from centrex.sip.message import Request, make_response
from centrex.sip.session_timer import (
    MIN_SE_FLOOR,
    SessionExpires,
    SessionTimer,
    TimerPolicy,
    parse_min_se,
    parse_session_expires,
    policy_from_env,
    refresh_headers,
    refresh_method,
    uac_after_422,
    uac_negotiated,
    uac_request_headers,
    uas_negotiate,
)
from tests.sip.helpers import invite_bytes, parse_request

POLICY = TimerPolicy()  # 1800 s asked, 90 s minimum


def invite(*headers: tuple[str, str]) -> Request:
    request = parse_request(invite_bytes())
    for name, value in headers:
        request.headers.add(name, value)
    return request


def test_header_grammar() -> None:
    assert parse_session_expires("4000;refresher=uac") == SessionExpires(4000, "uac")
    assert parse_session_expires(" 90 ") == SessionExpires(90, None)
    assert str(SessionExpires(1800, "uas")) == "1800;refresher=uas"
    assert parse_min_se("120;x=y") == 120
    for bad in ("", "-5", "abc", "90;refresher=proxy", "12345678901"):
        with pytest.raises(SipParseError):
            parse_session_expires(bad)
    with pytest.raises(SipParseError):
        parse_min_se("soon")


def test_policy_refuses_a_min_se_below_90_unless_short_timers_are_allowed_for_tests() -> None:
    with pytest.raises(ValueError, match="at least 90"):
        TimerPolicy(session_expires=10, min_se=4)
    assert TimerPolicy(session_expires=10, min_se=4, allow_short=True).min_se == 4
    with pytest.raises(ValueError, match="must be at least Min-SE"):
        TimerPolicy(session_expires=60, min_se=90)
    assert policy_from_env({}) == TimerPolicy(1800, MIN_SE_FLOOR)
    short = policy_from_env(
        {"CENTREX_SIP_SESSION_EXPIRES": "8", "CENTREX_SIP_MIN_SE": "4", "CENTREX_SIP_TEST_SHORT_TIMERS": "1"}
    )
    assert (short.session_expires, short.min_se) == (8, 4)
    with pytest.raises(ValueError):
        policy_from_env({"CENTREX_SIP_MIN_SE": "4"})
    with pytest.raises(ValueError, match="whole number"):
        policy_from_env({"CENTREX_SIP_MIN_SE": "1.5"})


def test_uas_refuses_too_short_an_interval_with_422_and_its_min_se() -> None:
    decision = uas_negotiate(invite(("Supported", "timer"), ("Session-Expires", "60")), POLICY)
    assert decision.reject is not None and decision.reject.status == 422
    assert decision.reject.headers.get("Min-SE") == "90"
    assert decision.timer is None


def test_uas_takes_the_callers_interval_and_lets_a_supporting_caller_refresh() -> None:
    decision = uas_negotiate(invite(("Supported", "timer"), ("Session-Expires", "600")), POLICY)
    assert decision.reject is None
    assert dict(decision.headers) == {"Session-Expires": "600;refresher=uac", "Require": "timer"}
    assert decision.timer == SessionTimer(600, "uac", we_refresh=False)


def test_uas_shortens_a_long_interval_to_its_own_and_keeps_the_named_refresher() -> None:
    decision = uas_negotiate(
        invite(("Supported", "timer"), ("Session-Expires", "7200;refresher=uas")), POLICY
    )
    assert decision.timer == SessionTimer(1800, "uas", we_refresh=True)
    assert dict(decision.headers) == {"Session-Expires": "1800;refresher=uas"}  # no Require for uas


def test_uas_never_goes_below_the_callers_min_se() -> None:
    decision = uas_negotiate(
        invite(("Supported", "timer"), ("Session-Expires", "3600"), ("Min-SE", "2400")), POLICY
    )
    assert decision.timer is not None and decision.timer.interval == 2400


def test_uas_with_a_caller_that_does_not_support_timers_refreshes_itself() -> None:
    decision = uas_negotiate(invite(), POLICY)
    assert decision.timer == SessionTimer(1800, "uas", we_refresh=True)
    assert dict(decision.headers) == {"Session-Expires": "1800;refresher=uas"}
    # A proxy inserted Session-Expires with refresher=uac but the caller cannot refresh.
    proxied = uas_negotiate(invite(("Session-Expires", "900;refresher=uac")), POLICY)
    assert proxied.timer == SessionTimer(900, "uas", we_refresh=True)


def test_uas_malformed_session_expires_is_a_parse_error() -> None:
    with pytest.raises(SipParseError):
        uas_negotiate(invite(("Session-Expires", "soon")), POLICY)


def test_uac_asks_then_retries_with_the_min_se_of_the_422() -> None:
    assert uac_request_headers(POLICY) == [
        ("Supported", "timer"),
        ("Session-Expires", "1800"),
        ("Min-SE", "90"),
    ]
    request = invite(*uac_request_headers(TimerPolicy(session_expires=90)))
    refused = make_response(request, 422, to_tag="t", extra=[("Min-SE", "300")])
    retry = uac_after_422(refused, POLICY, asked=90)
    assert retry == 300
    assert ("Session-Expires", "300") in uac_request_headers(POLICY, retry)
    # A 422 that asks for no more than we asked, or says nothing: do not loop.
    assert uac_after_422(make_response(request, 422, extra=[("Min-SE", "90")]), POLICY, asked=90) is None
    assert uac_after_422(make_response(request, 422), POLICY, asked=90) is None
    assert uac_after_422(make_response(request, 486), POLICY, asked=90) is None


def test_uac_reads_the_2xx() -> None:
    request = invite(*uac_request_headers(POLICY))
    ok = make_response(request, 200, to_tag="t", extra=[("Session-Expires", "1200;refresher=uas")])
    assert uac_negotiated(ok) == SessionTimer(1200, "uas", we_refresh=False)
    ours = make_response(request, 200, to_tag="t", extra=[("Session-Expires", "1200")])
    assert uac_negotiated(ours) == SessionTimer(1200, "uac", we_refresh=True)
    assert uac_negotiated(make_response(request, 200, to_tag="t")) is None


def test_refresh_is_due_at_half_the_interval_and_expiry_before_the_end() -> None:
    timer = SessionTimer(1800, "uas", we_refresh=True)
    assert timer.refresh_at(1000.0) == 1900.0
    assert timer.expires_at(1000.0) == 1000.0 + 1800 - 32
    short = SessionTimer(90, "uac", we_refresh=False)
    assert short.expires_at(0.0) == 60.0  # a third of 90 is less than 32
    assert short.next_deadline(0.0) == 60.0
    assert timer.next_deadline(0.0) == 900.0


def test_refresh_by_update_when_the_peer_allows_it() -> None:
    assert refresh_method("INVITE, ACK, BYE, UPDATE") == "UPDATE"
    assert refresh_method("INVITE, ACK, BYE") == "INVITE"
    assert refresh_method(None) == "INVITE"
    timer = SessionTimer(600, "uac", we_refresh=True)
    assert ("Session-Expires", "600;refresher=uac") in refresh_headers(timer, POLICY, "uac")
