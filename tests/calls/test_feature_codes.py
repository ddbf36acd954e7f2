"""Per-tenant feature codes (issue 4 point 1): the table's rules (calls/features.py) and the engine
using each tenant's own codes — a tenant that moved park, voicemail or pickup is served on its
new codes and refused on the old ones, while another tenant keeps the defaults."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from centrex.calls import features
from centrex.calls.features import DEFAULT_CODES, DEFAULTS, Match, apply_patch, effective, merge, validate
from centrex.pbx.apps import Apps
from centrex.sip.message import Request, Response

from .engine_harness import Bench, in_dialog, make_bench
from .helpers import DOMAIN_A, DOMAIN_B
from .test_calls_transfer import ANSWER, Anchor

# -- the table ------------------------------------------------------------------------------------


def test_defaults_are_the_codes_phones_have_always_dialled() -> None:
    assert DEFAULT_CODES == {
        "privacy": "*67",
        "voicemail": "*97",
        "voicemail_login": "*98",
        "conference": "*55",
        "park": "*70",
        "retrieve": "*71",
        "pickup": "*8",
        "agent_login": "*45",
        "agent_logout": "*46",
        "intercom": "*90",
    }
    assert validate({}) == []


def test_match_codes_and_their_arguments() -> None:
    m = DEFAULTS.match
    assert m("*97") == Match("voicemail", "")
    assert m("*971") is None  # voicemail takes nothing after it
    assert m("*70") == Match("park", "") and m("*703") == Match("park", "3")
    assert m("*71") == Match("retrieve", "") and m("*712") == Match("retrieve", "2")
    assert m("*81002") == Match("pickup", "1002") and m("*8") == Match("pickup", "")
    assert m("*452000") == Match("agent_login", "2000")
    assert m("*45") is None  # the queue is required
    assert m("*4x") is None and m("*8abc") is None
    assert m("*6715551234567") == Match("privacy", "15551234567")
    assert m("*67") is None  # privacy needs a number after it
    assert m("1002") is None and m("*99") is None


def test_a_tenants_own_codes_replace_the_defaults_only_where_set() -> None:
    table = effective({"park": "#70", "voicemail": "*96"})
    assert table.code("park") == "#70" and table.code("retrieve") == "*71"
    assert table.match("#703") == Match("park", "3")
    assert table.match("*703") is None and table.match("*97") is None
    assert table.match("*96") == Match("voicemail", "")
    assert effective(None) is DEFAULTS and effective({}) is DEFAULTS
    assert effective({"park": "#70"}) is effective({"park": "#70"})  # built once per override set
    # A stored name that is no longer a feature is ignored rather than breaking every call.
    assert merge({"gone": "*11", "park": None}) == dict(DEFAULT_CODES)


def test_patch_stores_only_what_differs_from_the_default() -> None:
    stored = apply_patch(None, {"park": "#70", "voicemail": "*97"})
    assert stored == {"park": "#70"}  # *97 is the default: nothing to keep
    assert apply_patch(stored, {"park": None}) == {}  # null resets
    assert apply_patch(stored, {"retrieve": "#71"}) == {"park": "#70", "retrieve": "#71"}


def rules(overrides: dict[str, object]) -> set[tuple[str, str]]:
    return {(p.feature, p.rule) for p in validate(overrides)}


def test_each_rule_names_the_feature_and_the_rule() -> None:
    assert rules({"parking": "*70"}) == {("parking", "unknown_feature")}
    for bad in ("70", "*", "*123456", "*7a", "**70", "", 70):
        assert rules({"park": bad}) == {("park", "code_syntax")}, bad
    for bad in ("*911", "#9911", "*9330", "*1911"):
        assert ("park", "emergency") in rules({"park": bad}), bad
    assert rules({"voicemail": "*70"}) == {("voicemail", "unique")}  # park's default
    assert rules({"voicemail": "#5", "conference": "#5"}) == {("conference", "unique")}
    # *8 takes an extension: *80 could never be dialled (it is pickup of extension 0).
    assert rules({"conference": "*80"}) == {("conference", "prefix")}
    assert rules({"pickup": "*9"}) == {("pickup", "prefix")}  # *9 begins *97, *98 and *90
    first, second, third = validate({"pickup": "*9"})
    assert "*97 (voicemail)" in first.message and "*98 (voicemail_login)" in second.message
    assert "*90 (intercom)" in third.message
    # FreePBX's intercom code *80 would be pickup of extension 0 here: refused by the same rule.
    assert rules({"intercom": "*80"}) == {("intercom", "prefix")}
    assert features.effective({"intercom": "*77"}).match("*771002") == Match("intercom", "1002")
    # Moving both sides of a clash together is fine.
    assert rules({"pickup": "#8", "conference": "*80"}) == set()


codes = st.from_regex(r"[*#][0-9]{1,4}", fullmatch=True)
names = st.sampled_from([f.name for f in features.FEATURES])


@given(st.dictionaries(names, codes, max_size=6))
def test_a_valid_table_matches_every_code_to_its_own_feature(overrides: dict[str, str]) -> None:
    if validate(overrides):
        return
    table = effective(overrides)
    for name, code in table.codes.items():
        kind = features.BY_NAME[name].argument
        if kind is features.Argument.DIAL_STRING:
            assert table.match(code + "5551234") == Match(name, "5551234")
        elif kind is features.Argument.REQUIRED:
            assert table.match(code + "2000") == Match(name, "2000")
        else:
            assert table.match(code) == Match(name, "")
            if kind is features.Argument.OPTIONAL:
                assert table.match(code + "3") == Match(name, "3")


@given(st.dictionaries(names, codes, max_size=6), st.text(alphabet="*#0123456789", max_size=8))
def test_in_a_valid_table_a_dialled_string_means_at_most_one_feature(
    overrides: dict[str, str], dialled: str
) -> None:
    if validate(overrides):
        return
    table = effective(overrides)
    hits = [n for n, c in table.codes.items() if dialled.startswith(c)]
    assert len(hits) <= 1  # no code begins another, so the longest-first order never decides
    found = table.match(dialled)
    assert found is None or found.feature in hits


@given(st.dictionaries(st.text(max_size=12), st.one_of(codes, st.text(max_size=7), st.none()), max_size=5))
def test_validate_never_raises_and_every_problem_names_a_given_feature(overrides: dict[str, object]) -> None:
    for p in validate(overrides):
        assert p.feature in overrides and p.rule and p.message


# -- through the engine -----------------------------------------------------------------------------


def bench_with(domain_codes: dict[str, str]) -> tuple[Bench, Anchor]:
    b = make_bench()
    anchor = Anchor()
    b.engine.media = anchor
    b.engine.service(Apps).address = ("127.0.0.1", 5099)
    tenant = b.org.directory.tenants[DOMAIN_A]
    b.org.directory.tenants[DOMAIN_A] = replace(tenant, feature_codes=effective(domain_codes))
    for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063)):
        b.register(ext, port)
    b.register("2001", 5071, domain=DOMAIN_B)
    return b, anchor


def app_invites(b: Bench) -> list[str]:
    return [
        str(s.message.uri)
        for s in b.invites()
        if isinstance(s.message, Request) and s.addr == ("127.0.0.1", 5099)
    ]


def finals(b: Bench) -> list[int]:
    return [r.status for r in b.responses() if r.status >= 200]


def test_voicemail_on_the_tenants_own_code_and_not_on_the_default() -> None:
    b, _ = bench_with({"voicemail": "*96"})
    b.call("1001", "*96")
    assert any(uri.startswith("sip:vm-main@") for uri in app_invites(b))
    b.net.take()
    b.call("1001", "*97")
    assert finals(b) == [404] and not app_invites(b)
    b.net.take()
    # Tenant B kept the defaults.
    b.call("2001", "*97", port=5071, domain=DOMAIN_B)
    assert any(uri.startswith("sip:vm-main@") for uri in app_invites(b))


def park_by_refer(b: Bench, code: str) -> list[int]:
    b.net.take()
    b.call("1001", "1002")
    [leg] = b.invites()
    b.respond(leg, 200, to_tag="b1", body=ANSWER)
    b.net.take()
    assert isinstance(leg.message, Request)
    req = in_dialog("REFER", leg.message.call_id, "b1", leg.message.from_.tag or "", 2, "z9hG4bKpk")
    req.headers.add("Refer-To", f"<sip:{code}@a.example.com>")
    b.request(req, ("10.0.0.9", 5062))
    return [s.message.status for s in b.net.sent if isinstance(s.message, Response)]


def test_park_and_retrieve_on_moved_codes() -> None:
    b, anchor = bench_with({"park": "#70", "retrieve": "#71"})
    assert park_by_refer(b, "%23702") == [202]  # '#' is %23 in a SIP URI
    call = next(c for c in b.engine.calls.values() if c.parked)
    assert call.parked == 2 and ("music-on", "a", 0) in anchor.remotes
    b.net.take()
    b.call("1003", "*712", port=5063)  # the old retrieve code is nothing now
    assert finals(b) == [404] and call.parked == 2
    b.net.take()
    b.call("1003", "%23712", port=5063)
    assert 200 in finals(b) and call.parked is None


def test_the_old_park_code_is_an_ordinary_transfer_target() -> None:
    b, _ = bench_with({"park": "#70"})
    park_by_refer(b, "*70")
    assert not any(c.parked for c in b.engine.calls.values())


def test_pickup_and_privacy_on_moved_codes() -> None:
    b, _ = bench_with({"pickup": "#8", "privacy": "#67"})
    b.call("1001", "1002")
    b.net.take()
    b.call("1003", "*81002", port=5063)
    assert finals(b) == [404]
    b.net.take()
    b.call("1003", "%2381002", port=5063)
    assert 200 in finals(b)
    b.net.take()
    b.call("1001", "%23671003")  # privacy applies off the switch (tests/calls/test_calls_trunks.py)
    [leg] = b.invites()
    assert isinstance(leg.message, Request) and leg.message.uri.user == "1003"  # type: ignore[union-attr]
    assert [c.dialled for c in b.engine.calls.values() if c.privacy] == ["1003"]
