"""RFC 4028 session timers, sans-I/O: negotiation as UAS and as UAC, 422, refresh and expiry times.

A B2BUA runs one session timer per leg: as UAS toward the caller (``uas_negotiate`` on the
INVITE, and on every refreshing re-INVITE or UPDATE) and as UAC toward the callee
(``uac_request_headers`` on the INVITE, ``uac_after_422`` on a 422, ``uac_negotiated`` on the
2xx). The result is a ``SessionTimer``: who refreshes, when the refresh is due (half the
interval, §10) and when an unrefreshed session is over (the interval minus the smaller of 32 s
and a third of it, §10), at which point the switch sends BYE.

Times are plain floats in seconds (the caller's clock); nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from centrex.sip.errors import SipParseError
from centrex.sip.headers import parse_params, split_list
from centrex.sip.message import Request, Response, make_response, new_tag

Refresher = Literal["uac", "uas"]

MIN_SE_FLOOR = 90  # §4: "MUST NOT be less than 90 seconds"
DEFAULT_SESSION_EXPIRES = 1800  # §4: the recommended interval (30 minutes)
TIMER = "timer"  # the option-tag (§3)


@dataclass(frozen=True, slots=True)
class SessionExpires:
    """A Session-Expires value (§4): delta-seconds and the optional refresher parameter."""

    interval: int
    refresher: Refresher | None = None

    def __str__(self) -> str:
        return f"{self.interval};refresher={self.refresher}" if self.refresher else str(self.interval)


def parse_session_expires(value: str) -> SessionExpires:
    text, _, ptext = value.partition(";")
    text = text.strip()
    if not text.isdigit() or len(text) > 10:
        raise SipParseError(f"bad Session-Expires {value!r}")
    params = parse_params(ptext) if ptext else {}
    refresher = (params.get("refresher") or "").lower() or None
    if refresher not in (None, "uac", "uas"):
        raise SipParseError(f"bad refresher {refresher!r} in Session-Expires")
    return SessionExpires(int(text), refresher)  # type: ignore[arg-type]


def parse_min_se(value: str) -> int:
    text = value.partition(";")[0].strip()
    if not text.isdigit() or len(text) > 10:
        raise SipParseError(f"bad Min-SE {value!r}")
    return int(text)


@dataclass(frozen=True)
class TimerPolicy:
    """What this switch asks for (``session_expires``) and the shortest it accepts (``min_se``).

    ``min_se`` below 90 s breaks §4 and exists only so that tests can see a refresh or an
    expiry in seconds: it needs ``allow_short=True`` (``CENTREX_SIP_TEST_SHORT_TIMERS=1`` in
    ``policy_from_env``), which no deployment sets.
    """

    session_expires: int = DEFAULT_SESSION_EXPIRES
    min_se: int = MIN_SE_FLOOR
    allow_short: bool = False

    def __post_init__(self) -> None:
        if self.min_se < MIN_SE_FLOOR and not self.allow_short:
            raise ValueError(f"Min-SE {self.min_se}: RFC 4028 §4 requires at least {MIN_SE_FLOOR} s")
        if self.min_se < 1 or self.session_expires < self.min_se:
            raise ValueError(
                f"Session-Expires {self.session_expires} must be at least Min-SE {self.min_se} (and >= 1)"
            )


def policy_from_env(env: Mapping[str, str]) -> TimerPolicy:
    """CENTREX_SIP_SESSION_EXPIRES and CENTREX_SIP_MIN_SE (seconds); the defaults otherwise."""

    def seconds(name: str, default: int) -> int:
        text = env.get(name)
        if not text:
            return default
        if not text.isdigit():
            raise ValueError(f"{name}={text!r}: must be a whole number of seconds")
        return int(text)

    return TimerPolicy(
        session_expires=seconds("CENTREX_SIP_SESSION_EXPIRES", DEFAULT_SESSION_EXPIRES),
        min_se=seconds("CENTREX_SIP_MIN_SE", MIN_SE_FLOOR),
        allow_short=env.get("CENTREX_SIP_TEST_SHORT_TIMERS") == "1",
    )


@dataclass(frozen=True, slots=True)
class SessionTimer:
    """A negotiated session timer on one leg. ``we_refresh``: this side sends the refreshes."""

    interval: int
    refresher: Refresher
    we_refresh: bool

    def refresh_at(self, refreshed: float) -> float:
        """When the refresher sends its re-INVITE/UPDATE: half the interval after the last
        refresh (§10: "the refresh SHOULD be sent ... at half the session interval")."""
        return refreshed + self.interval / 2

    def expires_at(self, refreshed: float) -> float:
        """When the other side gives up on a session nobody refreshed and sends BYE (§10):
        the interval minus the smaller of 32 s and a third of it."""
        return refreshed + self.interval - min(32.0, self.interval / 3)

    def next_deadline(self, refreshed: float) -> float:
        return self.refresh_at(refreshed) if self.we_refresh else self.expires_at(refreshed)


@dataclass(frozen=True, slots=True)
class UasDecision:
    """The UAS side of one INVITE or UPDATE: either ``reject`` (a 422 to send) or the headers to
    put in the 2xx and the timer that results (None when neither side wants one)."""

    reject: Response | None
    headers: tuple[tuple[str, str], ...] = ()
    timer: SessionTimer | None = None


def supports_timer(message: Request | Response) -> bool:
    tags = [t.lower() for v in message.headers.get_all("Supported") for t in split_list(v)]
    tags += [t.lower() for v in message.headers.get_all("Require") for t in split_list(v)]
    return TIMER in tags


def uas_negotiate(request: Request, policy: TimerPolicy) -> UasDecision:
    """§9: the UAS's answer to a session-timer offer in an INVITE or UPDATE.

    A Session-Expires under our Min-SE is refused with 422 and our Min-SE. Otherwise the
    interval is the request's (or ours when it had none), never below either side's Min-SE.
    The refresher is the one the request names; else the UAC when it supports timers (it
    offered to), else us. A refresher "uac" puts Require: timer in the 2xx (§9).
    Raises SipParseError for a malformed Session-Expires or Min-SE (a 400 to the caller).
    """
    se_value = request.headers.get("Session-Expires")
    asked = parse_session_expires(se_value) if se_value is not None else None
    min_value = request.headers.get("Min-SE")
    their_min = parse_min_se(min_value) if min_value is not None else 0
    if asked is not None and asked.interval < policy.min_se:
        reject = make_response(request, 422, to_tag=new_tag(), extra=[("Min-SE", str(policy.min_se))])
        return UasDecision(reject)
    floor = max(policy.min_se, their_min)
    interval = max(min(asked.interval, policy.session_expires) if asked else policy.session_expires, floor)
    uac_supports = supports_timer(request)
    refresher: Refresher
    if asked is not None and asked.refresher is not None and (asked.refresher == "uas" or uac_supports):
        refresher = asked.refresher
    else:
        refresher = "uac" if uac_supports else "uas"
    headers: list[tuple[str, str]] = [("Session-Expires", str(SessionExpires(interval, refresher)))]
    if refresher == "uac":
        headers.append(("Require", TIMER))
    return UasDecision(None, tuple(headers), SessionTimer(interval, refresher, we_refresh=refresher == "uas"))


def uac_request_headers(policy: TimerPolicy, interval: int | None = None) -> list[tuple[str, str]]:
    """§7.1: what our INVITE (or refreshing UPDATE) carries. No refresher: the UAS picks."""
    chosen = interval or policy.session_expires
    return [
        ("Supported", TIMER),
        ("Session-Expires", str(chosen)),
        ("Min-SE", str(policy.min_se)),
    ]


def uac_after_422(response: Response, policy: TimerPolicy, asked: int) -> int | None:
    """§7.4: the interval to retry with after a 422, or None when there is no point (no Min-SE
    in it, or one no larger than what we already asked)."""
    value = response.headers.get("Min-SE")
    if response.status != 422 or value is None:
        return None
    try:
        wanted = parse_min_se(value)
    except SipParseError:
        return None
    if wanted <= asked:
        return None
    return max(wanted, policy.min_se)


def uac_negotiated(response: Response) -> SessionTimer | None:
    """§7.2: the timer a 2xx settles for our leg, None when the UAS put no Session-Expires in
    it (no session timer). A missing refresher leaves the refreshing to us, the UAC."""
    value = response.headers.get("Session-Expires")
    if value is None:
        return None
    se = parse_session_expires(value)
    refresher: Refresher = se.refresher or "uac"
    return SessionTimer(se.interval, refresher, we_refresh=refresher == "uac")


def refresh_headers(timer: SessionTimer, policy: TimerPolicy, role: Refresher) -> list[tuple[str, str]]:
    """Headers of a refreshing re-INVITE or UPDATE sent by the side in ``role`` (§7.4, §8):
    the same interval, ourselves as refresher."""
    return [
        ("Supported", TIMER),
        ("Session-Expires", str(SessionExpires(timer.interval, role))),
        ("Min-SE", str(policy.min_se)),
    ]


def refresh_method(peer_allow: str | None) -> str:
    """UPDATE when the peer listed it in Allow (RFC 3311: no new offer needed), else re-INVITE."""
    methods = {m.upper() for m in split_list(peer_allow or "")}
    return "UPDATE" if "UPDATE" in methods else "INVITE"
