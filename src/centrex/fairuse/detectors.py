"""Fair-use monitors over one billing cycle's calls: each returns findings with their evidence.

voice-bundles.txt §3.2 lists the Prohibited Uses of the Voice Services Bundles; voip-service-guide.txt
§V.2 restricts HIPC with unlimited calling the same way. What each monitor looks for:
- ``autodialer`` — §3.2(i)(a) "place calls in an automated fashion (such as any predictive dialer,
  auto-dialer or robodialer)", §V.2 "auto-dialers": a caller's attempts beyond human rates in any
  minute, mostly very short answered calls, a low answer ratio, or numbers dialled in sequence;
- ``toll_free_share`` — §3.2(iv): toll-free minutes over 10% of all minutes of the cycle;
- ``destination_spread`` — §3.2(ii) "a natural distribution across RBOC, ILEC, CLEC and wireless
  destinations" and §3.2(i)(b) least-cost routing: a business's calls reach every kind of carrier;
  traffic concentrated on one carrier type is what an LCR engine sends to a bundle;
- ``shared_line`` — §3.2(v) "sharing between multiple users or multiple endpoints via a PBX": one
  user with more calls at once than a person holds;
- ``aggregation`` — §V.2 "may not aggregate traffic from multiple sites into a single site": a site
  whose calls present other places' numbers (a PBX of several offices behind it).
The thresholds are data (``Thresholds``); only the 10% is the contract's own figure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from pathlib import Path

from centrex.billing.cdr import CallRecord
from centrex.numbers.classes import CallClass, Direction

TOLL_FREE_MAX_SHARE = 0.10
"""voice-bundles.txt §3.2(iv): "the minutes for Atmosphere Toll Free Services exceed ten percent (10%)
of the total minutes of usage generated for all Services in any given billing cycle"."""

DOMESTIC = frozenset({CallClass.LOCAL, CallClass.LD_INTRASTATE, CallClass.LD_INTERSTATE})


class Kind(StrEnum):
    AUTODIALER = "autodialer"
    TOLL_FREE_SHARE = "toll_free_share"
    DESTINATION_SPREAD = "destination_spread"
    SHARED_LINE = "shared_line"
    AGGREGATION = "aggregation"
    CPAAS_NO_CONSENT = "cpaas_no_consent"  # cpaas.txt §2.5: messages to opted-out recipients


@dataclass(frozen=True, slots=True)
class Thresholds:
    attempts_per_minute: int = 12  # a person dials a few numbers a minute, not a dozen
    min_attempts: int = 100  # ratios are judged on at least this many attempts of a caller
    short_call_s: float = 6.0
    short_share: float = 0.5
    min_answer_ratio: float = 0.3
    sequential_run: int = 10  # numbers dialled one after the other (+1 each time)
    spread_min_calls: int = 200
    spread_max_share: float = 0.85  # one carrier type taking more than this is not a business's spread
    shared_concurrent: int = 3  # one user on this many calls at once
    aggregation_min_calls: int = 50
    aggregation_share: float = 0.5


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    subject: str  # the caller (user id or number), the site, or "tenant"
    evidence: Mapping[str, object] = field(default_factory=dict)


def load_carrier_types(path: Path) -> dict[str, str]:
    """NPA-NXX → carrier type (RBOC, ILEC, CLEC, WIRELESS) from a CSV ``npa_nxx,carrier_type``;
    the fixture ships in this package, the operator imports the real table (LERG)."""
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        npa_nxx, _, kind = line.strip().partition(",")
        if len(npa_nxx) == 6 and npa_nxx.isdigit() and kind:
            table[npa_nxx] = kind.strip().upper()
    return table


CARRIER_TYPES_FIXTURE = Path(__file__).with_name("carrier_types.csv")


def _minutes(records: Iterable[CallRecord]) -> float:
    return sum(r.duration_ms for r in records) / 60_000


def _caller_key(r: CallRecord) -> str:
    return r.user_id or r.caller


def autodialer(records: Sequence[CallRecord], t: Thresholds) -> list[Finding]:
    by_caller: dict[str, list[CallRecord]] = defaultdict(list)
    for r in records:
        if r.direction is Direction.OUTBOUND:
            by_caller[_caller_key(r)].append(r)
    findings: list[Finding] = []
    for who, calls in by_caller.items():
        calls.sort(key=lambda r: r.start)
        evidence: dict[str, object] = {"attempts": len(calls)}
        peak, lo = 0, 0
        for hi, r in enumerate(calls):  # attempts in any 60 s window
            while (r.start - calls[lo].start).total_seconds() >= 60:
                lo += 1
            peak = max(peak, hi - lo + 1)
        if peak > t.attempts_per_minute:
            evidence["peak_attempts_per_minute"] = peak
        answered = [r for r in calls if r.answered]
        if len(calls) >= t.min_attempts:
            ratio = len(answered) / len(calls)
            if ratio < t.min_answer_ratio:
                evidence["answer_ratio"] = round(ratio, 3)
            short = sum(1 for r in answered if r.duration_ms < t.short_call_s * 1000)
            if answered and short / len(answered) > t.short_share:
                evidence["short_call_share"] = round(short / len(answered), 3)
        run, best = 1, 1
        for prev, cur in pairwise(calls):
            a, b = prev.callee.lstrip("+"), cur.callee.lstrip("+")
            run = run + 1 if a.isdigit() and b.isdigit() and int(b) - int(a) == 1 else 1
            best = max(best, run)
        if best >= t.sequential_run:
            evidence["sequential_run"] = best
        if len(evidence) > 1:
            findings.append(Finding(Kind.AUTODIALER, who, evidence))
    return findings


def toll_free_share(records: Sequence[CallRecord]) -> list[Finding]:
    total = _minutes(records)
    toll_free = _minutes(
        r for r in records if r.call_class is CallClass.TOLL_FREE and r.direction is Direction.INBOUND
    )
    if total <= 0 or toll_free / total <= TOLL_FREE_MAX_SHARE:
        return []
    evidence = {
        "toll_free_minutes": round(toll_free, 1),
        "all_minutes": round(total, 1),
        "share": round(toll_free / total, 3),
    }
    return [Finding(Kind.TOLL_FREE_SHARE, "tenant", evidence)]


def destination_spread(
    records: Sequence[CallRecord], carriers: Mapping[str, str], t: Thresholds
) -> list[Finding]:
    kinds: Counter[str] = Counter()
    for r in records:
        if r.direction is Direction.OUTBOUND and r.call_class in DOMESTIC and r.callee.startswith("+1"):
            kind = carriers.get(r.callee[2:8])
            if kind is not None:
                kinds[kind] += 1
    total = sum(kinds.values())
    if total < t.spread_min_calls:
        return []
    kind, n = kinds.most_common(1)[0]
    if n / total <= t.spread_max_share:
        return []
    evidence = {
        "classified_calls": total,
        "by_carrier_type": dict(kinds),
        "top": kind,
        "share": round(n / total, 3),
    }
    return [Finding(Kind.DESTINATION_SPREAD, "tenant", evidence)]


def shared_line(records: Sequence[CallRecord], t: Thresholds) -> list[Finding]:
    edges: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in records:
        if r.answered and r.user_id and not r.is_intra_enterprise:
            begin = (r.answer or r.start).timestamp()
            edges[r.user_id] += [(begin, 1), (begin + r.duration_ms / 1000, -1)]
    findings = []
    for user, points in edges.items():
        up = peak = 0
        for _, step in sorted(points, key=lambda p: (p[0], p[1])):
            up += step
            peak = max(peak, up)
        if peak >= t.shared_concurrent:
            findings.append(Finding(Kind.SHARED_LINE, user, {"most_calls_at_once": peak}))
    return findings


def aggregation(records: Sequence[CallRecord], site_npa: Mapping[str, str], t: Thresholds) -> list[Finding]:
    outside: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for r in records:
        site = r.site_id
        if (
            site is not None
            and r.direction is Direction.OUTBOUND
            and site in site_npa
            and r.caller.startswith("+1")
        ):
            calls[site] += 1
            if r.caller[2:5] != site_npa[site][:3]:
                outside[site] += 1
    findings = []
    for site, n in calls.items():
        if n >= t.aggregation_min_calls and outside[site] / n > t.aggregation_share:
            evidence = {"calls": n, "calls_from_other_area_codes": outside[site]}
            findings.append(Finding(Kind.AGGREGATION, site, evidence))
    return findings


def review(
    records: Sequence[CallRecord],
    carriers: Mapping[str, str],
    site_npa: Mapping[str, str] | None = None,
    t: Thresholds = Thresholds(),
) -> list[Finding]:
    """Every monitor over one cycle's calls of one tenant."""
    return [
        *autodialer(records, t),
        *toll_free_share(records),
        *destination_spread(records, carriers, t),
        *shared_line(records, t),
        *aggregation(records, site_npa or {}, t),
    ]
