"""The auto attendant answering SIPp over 127.0.0.1: SIPp plays the call engine's B-leg, presses
RFC 4733 keys, and answers the attendant's in-dialog REFER as the engine does (202, NOTIFY, BYE; or
404 for an extension that does not exist). What a caller would get is what the REFER names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.apps.pcap import RtpScript
from tests.apps.test_app_server_sip import final_status
from tests.attendant.conftest import AaRig

pytestmark = pytest.mark.interop
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the store runs on both below


def keys(*groups: tuple[float, str]) -> RtpScript:
    script = RtpScript()
    for at, digits in groups:
        script.digits(at, digits, spacing=0.3)
    return script


async def test_pressing_1_sends_the_caller_to_alices_extension(rig: AaRig) -> None:
    result = await rig.call(rig.office.main, keys((0.6, "1")), "aa_refer.xml")
    assert result.refer_targets == ["1001"]
    await rig.settle()
    assert rig.server.active_calls == 0


@SQLITE_ONLY
async def test_hunt_group_and_mailbox_options(rig: AaRig) -> None:
    assert (await rig.call(rig.office.main, keys((0.6, "2")), "aa_refer.xml")).refer_targets == ["2000"]
    mailbox = (await rig.call(rig.office.main, keys((0.6, "3")), "aa_refer.xml")).refer_targets
    assert mailbox == [f"vm-deposit.{rig.office.bob}"]


@SQLITE_ONLY
async def test_a_sub_menu_then_its_option(rig: AaRig) -> None:
    result = await rig.call(rig.office.main, keys((0.6, "4"), (2.0, "1")), "aa_refer.xml")
    assert result.refer_targets == ["1003"]


@SQLITE_ONLY
async def test_dial_by_name_one_match_and_a_choice_of_two(rig: AaRig) -> None:
    # J-O-N: Carol Jones alone.
    one = await rig.call(rig.office.main, keys((0.6, "5"), (1.5, "566")), "aa_refer.xml")
    assert one.refer_targets == ["1003"]
    # S-M-I: Alice Smith and Bob Smithers (Dave Smithson is not listed); 2 picks Bob.
    two = await rig.call(rig.office.main, keys((0.6, "5"), (1.5, "764"), (3.5, "2")), "aa_refer.xml")
    assert two.refer_targets == ["1002"]


@SQLITE_ONLY
async def test_silence_repeats_the_menu_then_goes_to_the_operator(rig: AaRig) -> None:
    started = datetime.now(UTC)
    result = await rig.call(rig.office.main, RtpScript(), "aa_refer.xml")
    assert result.refer_targets == ["1000"]
    # Greeting + menu, 1 s, menu again, 1 s: not at the first silence.
    assert (datetime.now(UTC) - started).total_seconds() > 2.5


@SQLITE_ONLY
async def test_three_invalid_keys_end_with_goodbye_and_no_transfer(rig: AaRig) -> None:
    result = await rig.call(rig.office.main, keys((0.6, "8"), (1.6, "8"), (3.0, "8")), "aa_goodbye.xml")
    assert result.refer_targets == []
    await rig.settle()
    assert rig.server.active_calls == 0


@SQLITE_ONLY
async def test_an_extension_the_switch_refuses_is_invalid_and_the_caller_chooses_again(rig: AaRig) -> None:
    result = await rig.call(rig.office.main, keys((0.6, "6"), (2.5, "1")), "aa_refused.xml")
    assert result.refer_targets == ["1999", "1001"]


@SQLITE_ONLY
async def test_the_schedule_plays_the_night_menu_on_thanksgiving(rig: AaRig) -> None:
    rig.server.attendant.clock = lambda: datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # 10:00 CST, holiday
    result = await rig.call(rig.office.main, keys((0.6, "1")), "aa_refer.xml")
    assert result.refer_targets == [f"vm-deposit.{rig.office.alice}"]  # the night menu's 1, not Alice's phone


@SQLITE_ONLY
async def test_an_unknown_menu_or_another_tenants_menu_is_404(rig: AaRig) -> None:
    target = rig.server.address
    ours = {"X-Centrex-Tenant": str(rig.office.tenant_id), "X-Centrex-Caller": "+13125550100"}
    theirs = ours | {"X-Centrex-Tenant": str(uuid.uuid4())}
    assert (await final_status(target, f"aa.{uuid.uuid4()}", ours)).status == 404
    assert (await final_status(target, f"aa.{rig.office.main}", theirs)).status == 404
    assert (await final_status(target, "aa.not-a-menu", ours)).status == 404
