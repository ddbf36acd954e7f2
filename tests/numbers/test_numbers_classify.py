"""Classification of dialled strings: one table over the shapes people and phones really send.

Caller at a New York City site (NPA-NXX 212-226, NY) unless a row says otherwise; tenant dial plan:
4-digit extensions, outside-line prefix 9, 7- and 10-digit dialling, 011 international. The
tenant owns +1 212 226 0100 and +1 212 226 0101.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrex.numbers.classes import CallClass
from centrex.numbers.classify import Classification, DestinationKind, classify, classify_e164
from centrex.numbers.dialplan import CallerSite, DialPlan, Shape, clean_dialled, parse_dialled
from centrex.numbers.ratecenters import SAMPLE_RATE_CENTERS

NYC = CallerSite("212226", "NY")
NEWARK = CallerSite("973222", "NJ")
PLAN = DialPlan(extension_length=4, outside_line_prefix="9")
OWN = frozenset({"+12122260100", "+12122260101"})

C = CallClass
E = "+12123440123"  # a New York City number in the same rate center as the site

TABLE: list[tuple[str, CallClass, str]] = [
    # --- 911, however it is dialled (Kari's Law: direct, and with the outside-line prefix) ---
    ("911", C.EMERGENCY, "911"),
    ("9911", C.EMERGENCY, "911"),
    ("9-911", C.EMERGENCY, "911"),
    ("1911", C.EMERGENCY, "911"),
    ("1-911", C.EMERGENCY, "911"),
    ("+1 911", C.EMERGENCY, "911"),
    ("9 1 911", C.EMERGENCY, "911"),
    ("sip:911@tenant.example.com", C.EMERGENCY, "911"),
    ("sip:9911@tenant.example.com;user=phone", C.EMERGENCY, "911"),
    ("tel:911", C.EMERGENCY, "911"),
    ("tel:911;phone-context=+1", C.EMERGENCY, "911"),
    # --- 933 test calls ---
    ("933", C.EMERGENCY_TEST, "933"),
    ("9933", C.EMERGENCY_TEST, "933"),
    # --- the other N11 codes ---
    ("211", C.N11, "211"),
    ("311", C.N11, "311"),
    ("411", C.DIRECTORY_ASSISTANCE, "411"),
    ("9411", C.DIRECTORY_ASSISTANCE, "411"),
    ("511", C.N11, "511"),
    ("611", C.N11, "611"),
    ("711", C.N11, "711"),
    ("811", C.N11, "811"),
    # --- directory assistance NPA-555-1212 (hosted-pbx.txt usage c) ---
    ("555-1212", C.DIRECTORY_ASSISTANCE, "+12125551212"),
    ("1 201 555 1212", C.DIRECTORY_ASSISTANCE, "+12015551212"),
    ("9-1-415-555-1212", C.DIRECTORY_ASSISTANCE, "+14155551212"),
    ("+1 (808) 555-1212", C.DIRECTORY_ASSISTANCE, "+18085551212"),
    # --- on-net: extensions and the tenant's own numbers ---
    ("1001", C.ON_NET, "1001"),
    ("2345", C.ON_NET, "2345"),
    ("9123", C.ON_NET, "9123"),  # 9 + "123" is nothing, so it is an extension
    ("sip:1001@tenant.example.com", C.ON_NET, "1001"),
    ("(212) 226-0100", C.ON_NET, "+12122260100"),
    ("+12122260101", C.ON_NET, "+12122260101"),
    ("226-0100", C.ON_NET, "+12122260100"),
    # --- local: same rate center, 7 and 10 digits, with and without 9 ---
    ("344-0123", C.LOCAL, E),
    ("3440123", C.LOCAL, E),
    ("9 344-0123", C.LOCAL, E),
    ("212 344 0123", C.LOCAL, E),
    ("(212) 344-0123", C.LOCAL, E),
    ("212.344.0123", C.LOCAL, E),
    ("1-212-344-0123", C.LOCAL, E),
    ("9-1-212-344-0123", C.LOCAL, E),
    ("9 (212) 344-0123", C.LOCAL, E),
    ("+1 212 344 0123", C.LOCAL, E),
    ("+1-212-344-0123", C.LOCAL, E),
    ("tel:+1-212-344-0123", C.LOCAL, E),
    ("sip:+12123440123@carrier.example.net;user=phone", C.LOCAL, E),
    ("sips:12123440123@carrier.example.net", C.LOCAL, E),
    ("tel:344-0123;phone-context=+1-212", C.LOCAL, E),
    ("<tel:+12123440123>".strip("<>"), C.LOCAL, E),
    ("718 222 0199", C.LOCAL, "+17182220199"),  # another NYC area code, same rate center
    ("646-555-0199", C.LOCAL, "+16465550199"),
    # --- long distance, by the caller's originating location (§V.9) ---
    ("1 (518) 222-0123", C.LD_INTRASTATE, "+15182220123"),  # Albany, NY
    ("516 222 0123", C.LD_INTRASTATE, "+15162220123"),  # Hempstead, NY: not local in the sample
    ("1-201-222-0123", C.LD_INTERSTATE, "+12012220123"),  # Jersey City, NJ
    ("+1 415 222 0123", C.LD_INTERSTATE, "+14152220123"),  # San Francisco
    ("9 1 808 222 0123", C.LD_INTERSTATE, "+18082220123"),  # Honolulu
    ("tel:+1-217-222-0123", C.LD_INTERSTATE, "+12172220123"),  # Springfield, IL
    ("1 305 555 0123", C.LD_INTERSTATE, "+13055550123"),  # Miami: not in the table, state from NPA
    ("917 555 0123", C.LD_INTRASTATE, "+19175550123"),  # not in the table: classified by state
    ("1 787 555 0123", C.LD_INTERSTATE, "+17875550123"),  # Puerto Rico is a U.S. call
    # --- toll-free 8YY ---
    ("1-800-555-0123", C.TOLL_FREE, "+18005550123"),
    ("8335550123", C.TOLL_FREE, "+18335550123"),
    ("(844) 555-0123", C.TOLL_FREE, "+18445550123"),
    ("1 855 555 0123", C.TOLL_FREE, "+18555550123"),
    ("9 1 866 555 0123", C.TOLL_FREE, "+18665550123"),
    ("+1 877 555 0123", C.TOLL_FREE, "+18775550123"),
    ("888.555.0123", C.TOLL_FREE, "+18885550123"),
    ("1-800-FLOWERS", C.TOLL_FREE, "+18003569377"),
    ("1 800 976 0123", C.TOLL_FREE, "+18009760123"),  # 976 inside 8YY is not premium
    # --- premium 900 / 976: blocked (§III.3.7) ---
    ("1-900-555-0123", C.PREMIUM, "+19005550123"),
    ("9005550123", C.PREMIUM, "+19005550123"),
    ("9 1 900 555 0123", C.PREMIUM, "+19005550123"),
    ("+1 900 555 0123", C.PREMIUM, "+19005550123"),
    ("976-1234", C.PREMIUM, "+12129761234"),
    ("9 976 1234", C.PREMIUM, "+12129761234"),
    ("1 212 976 1234", C.PREMIUM, "+12129761234"),
    ("(201) 976-1234", C.PREMIUM, "+12019761234"),
    # --- international: +, 011, 9 011, and other NANP countries ---
    ("+44 20 7946 0958", C.INTERNATIONAL, "+442079460958"),
    ("011 44 20 7946 0958", C.INTERNATIONAL, "+442079460958"),
    ("01144 20 7946 0958", C.INTERNATIONAL, "+442079460958"),
    ("9 011 44 20 7946 0958", C.INTERNATIONAL, "+442079460958"),
    ("tel:+44-20-7946-0958", C.INTERNATIONAL, "+442079460958"),
    ("sip:+442079460958@carrier.example.net;user=phone", C.INTERNATIONAL, "+442079460958"),
    ("+33 1 42 68 53 00", C.INTERNATIONAL, "+33142685300"),
    ("011 49 30 901820", C.INTERNATIONAL, "+4930901820"),
    ("011 81 3-3224-9999", C.INTERNATIONAL, "+81332249999"),
    ("+1 613 555 0123", C.INTERNATIONAL, "+16135550123"),  # Canada
    ("1 876 555 1234", C.INTERNATIONAL, "+18765551234"),  # Jamaica
    # --- feature codes go to the PBX ---
    ("*72", C.ON_NET, "*72"),
    ("#21#", C.ON_NET, "#21#"),
    # --- invalid ---
    ("", C.INVALID, ""),
    ("12345", C.INVALID, ""),
    ("1 999 555 0123", C.INVALID, ""),
    ("+1 212 555", C.INVALID, ""),
    ("011", C.INVALID, ""),
    ("011 999 1234", C.INVALID, ""),
    ("sip:alice@tenant.example.com", C.INVALID, ""),
    ("044-0123", C.INVALID, ""),
    ("1212555012", C.INVALID, ""),
]


@pytest.mark.parametrize(
    ("dialled", "call_class", "destination"), TABLE, ids=[r[0] or "<empty>" for r in TABLE]
)
def test_classification_table(dialled: str, call_class: CallClass, destination: str) -> None:
    got = classify(dialled, NYC, PLAN, OWN)
    assert (got.call_class, got.destination) == (call_class, destination), got
    assert got.dialled == dialled
    assert got.blocked is (call_class is C.PREMIUM)
    if call_class is C.INVALID:
        assert got.reason, "an invalid number must say why"
        assert not got.routable
    if destination.startswith("+"):
        assert got.kind is DestinationKind.E164


def test_premium_says_why_with_the_contract_section() -> None:
    for dialled in ("1-900-555-0123", "976-1234"):
        got = classify(dialled, NYC, PLAN)
        assert got.blocked and not got.routable
        assert "voip-service-guide.txt §III.3.7" in got.reason


def test_emergency_is_never_blocked_and_says_so() -> None:
    for dialled in ("911", "9911", "1-911"):
        got = classify(dialled, NYC, PLAN)
        assert got.is_emergency and got.routable and not got.blocked
    assert "outside-line prefix" in classify("9911", NYC, PLAN).reason


def test_911_wins_over_a_three_digit_extension_plan() -> None:
    plan = DialPlan(extension_length=3, outside_line_prefix="9")
    assert classify("911", NYC, plan).call_class is C.EMERGENCY
    assert classify("411", NYC, plan).call_class is C.DIRECTORY_ASSISTANCE
    assert classify("123", NYC, plan).call_class is C.ON_NET


def test_911_with_another_outside_prefix_and_none() -> None:
    assert classify("8911", NYC, DialPlan(outside_line_prefix="8")).is_emergency
    assert classify("911", NYC, DialPlan(outside_line_prefix=None)).is_emergency
    # 9911 is 911 even where the tenant has no outside-line prefix: habit wins in an emergency
    assert classify("9911", NYC, DialPlan(outside_line_prefix=None)).is_emergency
    assert classify("8911", NYC, DialPlan(outside_line_prefix=None)).call_class is C.ON_NET


def test_classification_is_by_originating_location_not_by_the_callers_number() -> None:
    """§V.9: a user whose number is 212 (NY) placing a call from the Newark site is rated from NJ."""
    assert classify("1 201 222 0123", NEWARK, PLAN).call_class is C.LOCAL  # Jersey City is local to Newark
    assert classify("1 609 222 0123", NEWARK, PLAN).call_class is C.LD_INTRASTATE  # Trenton, NJ
    assert classify("1 212 344 0123", NEWARK, PLAN).call_class is C.LD_INTERSTATE
    assert classify("1 201 222 0123", NYC, PLAN).call_class is C.LD_INTERSTATE


def test_seven_digit_dialling_uses_the_sites_area_code() -> None:
    assert classify("222-0123", NEWARK, PLAN).destination == "+19732220123"


def test_dial_plan_switches() -> None:
    no7 = DialPlan(seven_digit_local=False)
    got = classify("344-0123", NYC, no7)
    assert got.call_class is C.INVALID and "7-digit dialling is not enabled; dial 212 3440123" in got.reason
    no10 = DialPlan(ten_digit=False)
    got = classify("212 344 0123", NYC, no10)
    assert got.call_class is C.INVALID and "dial 1 2123440123" in got.reason
    assert classify("1 212 344 0123", NYC, no10).call_class is C.LOCAL


def test_invalid_reasons_are_specific() -> None:
    assert "area code 999 is not in service" in classify("1 999 555 0123", NYC, PLAN).reason
    assert "+1 must be followed by exactly 10 digits" in classify("+1 212 555", NYC, PLAN).reason
    assert "is not an extension (4 digits)" in classify("12345", NYC, PLAN).reason
    assert classify("", NYC, PLAN).reason == "nothing was dialled"


def test_unknown_rate_center_is_noted() -> None:
    got = classify("917 555 0123", NYC, PLAN)
    assert "not in the rate-center table" in got.reason and "classified by state (NY)" in got.reason


def test_classify_e164_for_billing() -> None:
    assert classify_e164("+12123440123", NYC).call_class is C.LOCAL
    assert classify_e164("+19005550123", NYC).blocked
    assert classify_e164("+442079460958", NYC).call_class is C.INTERNATIONAL
    assert classify_e164("+12122260100", NYC, OWN).call_class is C.ON_NET
    assert classify_e164("+12123440123", NYC, rate_centers=SAMPLE_RATE_CENTERS).call_class is C.LOCAL


def test_classification_is_frozen() -> None:
    got = classify("911", NYC, PLAN)
    assert isinstance(got, Classification)
    with pytest.raises(AttributeError):
        got.blocked = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("tel:+1-212-344-0123", "+12123440123"),
        ("sip:+12123440123@x.example;user=phone", "+12123440123"),
        ("sip:%2B12123440123@x.example", "+12123440123"),
        ("tel:344-0123;phone-context=+1-212", "+12123440123"),
        ("(212) 344-0123", "2123440123"),
        ("1-800-FLOWERS", "18003569377"),
    ],
)
def test_clean_dialled(text: str, cleaned: str) -> None:
    assert clean_dialled(text) == cleaned


def test_parse_reports_outside_line_prefix() -> None:
    assert parse_dialled("9 344 0123", PLAN, NYC).outside_line_prefix_used
    assert not parse_dialled("344 0123", PLAN, NYC).outside_line_prefix_used
    assert parse_dialled("9911", PLAN, NYC).shape is Shape.EMERGENCY


def test_bad_dial_plans_and_sites_are_refused() -> None:
    with pytest.raises(ValueError, match="extension_length 9"):
        DialPlan(extension_length=9)
    with pytest.raises(ValueError, match="outside_line_prefix"):
        DialPlan(outside_line_prefix="x")
    with pytest.raises(ValueError, match="NPA-NXX '012226'"):
        CallerSite("012226", "NY")


plans = st.builds(
    DialPlan,
    extension_length=st.integers(2, 7),
    outside_line_prefix=st.sampled_from([None, "9", "8", "0", "99"]),
    seven_digit_local=st.booleans(),
    ten_digit=st.booleans(),
)


@settings(max_examples=300)
@given(st.text(max_size=40), plans)
def test_classify_never_raises_on_garbage(text: str, plan: DialPlan) -> None:
    got = classify(text, NYC, plan)
    assert isinstance(got.call_class, CallClass)
    if got.call_class is C.INVALID:
        assert got.reason


@given(plans, st.sampled_from(["911", "1911", "+1911", "9911", "91911", "1-911", "9 911"]))
def test_911_is_emergency_under_every_dial_plan(plan: DialPlan, dialled: str) -> None:
    assert classify(dialled, NYC, plan).is_emergency
    if plan.outside_line_prefix:
        assert classify(plan.outside_line_prefix + "911", NYC, plan).is_emergency
