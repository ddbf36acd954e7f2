"""Port-in orders (hosted-pbx.txt §2.5 customer service record) and port-out (cpaas.txt §2.4.5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from centrex.numbers.porting import (
    CustomerServiceRecord,
    InvalidTransition,
    LetterOfAuthorization,
    PortAddress,
    PortInOrder,
    PortOrderInvalid,
    PortState,
    PortStatus,
    complete,
    confirm_foc,
    port_out_decision,
    reject,
    revise,
    submit,
    validate_port_in,
)

TODAY = date(2025, 6, 2)
NUMBERS = ("(212) 344-0100", "+1 212 344 0101")

CSR = CustomerServiceRecord(
    account_name="Acme Plumbing Inc",
    account_address=PortAddress("100 Main St", "Springfield", "IL", "62701", unit="Suite 2"),
    account_number="ACCT-778812",
    numbers=NUMBERS,
    services=("2 hosted PBX seats", "1 IP desk phone"),
    contact_phone="217-555-0142",
    contact_email="office@acme-plumbing.example",
)
ORDER = PortInOrder(
    csr=CSR,
    pin="4821",
    billing_telephone_number="212-344-0100",
    loa=LetterOfAuthorization("Jane Smith", date(2025, 5, 30), ("+12123440100", "+12123440101")),
    requested_foc_date=date(2025, 6, 9),
)


def test_complete_order_has_no_errors() -> None:
    assert validate_port_in(ORDER, TODAY) == []


def test_an_empty_order_reports_every_field_by_name() -> None:
    empty = PortInOrder(
        CustomerServiceRecord("", None, "", ()),
        pin="",
        billing_telephone_number="",
        loa=LetterOfAuthorization("", None, ()),
    )
    fields = [e.field for e in validate_port_in(empty, TODAY)]
    assert fields == [
        "csr.account_name",
        "csr.account_address",
        "csr.account_number",
        "csr.numbers",
        "csr.services",
        "csr.contact_phone",
        "csr.contact_email",
        "pin",
        "billing_telephone_number",
        "loa.signer",
        "loa.signed_on",
        "loa.numbers",
    ]


def test_invalid_values_are_each_explained() -> None:
    bad = replace(
        ORDER,
        csr=replace(
            CSR,
            account_address=PortAddress("100 Main St", "", "ZZ", "6270"),
            numbers=("212-344-0100", "212-055-0101", "(212) 344-0100", "1-800-555-0100"),
            contact_email="office at acme",
        ),
        pin="48 21",
        billing_telephone_number="555-0100",
        loa=LetterOfAuthorization("Jane Smith", date(2025, 7, 1), ("+12123440100", "+12123440199")),
        requested_foc_date=date(2025, 6, 1),
    )
    errors = {(e.field, e.message) for e in validate_port_in(bad, TODAY)}
    assert ("csr.account_address.city", "is required") in errors
    assert ("csr.account_address.state", "'ZZ' is not a US state code") in errors
    assert ("csr.account_address.postal_code", "'6270' is not a ZIP or ZIP+4 code") in errors
    assert any(f == "csr.numbers[1]" and "exchange 055 cannot start with 0" in m for f, m in errors)
    assert ("csr.numbers[2]", "+12123440100 is listed twice (also csr.numbers[0])") in errors
    assert (
        "csr.numbers[3]",
        "+18005550100 is toll-free: it moves by a RespOrg change, not a number port",
    ) in errors
    assert ("csr.contact_email", "'office at acme' is not a valid email address") in errors
    assert ("pin", "must be 1 to 15 letters or digits") in errors
    assert any(f == "billing_telephone_number" and "without its area code" in m for f, m in errors)
    assert ("loa.signed_on", "2025-07-01 is in the future") in errors
    assert ("loa.numbers", "does not authorize +18005550100") in errors
    assert ("loa.numbers", "names numbers not on the customer service record: +12123440199") in errors
    assert ("requested_foc_date", "2025-06-01 is in the past") in errors


def test_happy_path_draft_submitted_foc_completed() -> None:
    status = submit(PortStatus(), ORDER, TODAY)
    assert status.state is PortState.SUBMITTED
    status = confirm_foc(status, date(2025, 6, 9))
    assert (status.state, status.foc_date) == (PortState.FOC, date(2025, 6, 9))
    status = confirm_foc(status, date(2025, 6, 10))  # the losing carrier moved the date
    assert status.foc_date == date(2025, 6, 10)
    status = complete(status, date(2025, 6, 10))
    assert status.state is PortState.COMPLETED


def test_submit_refuses_an_incomplete_order_with_every_error() -> None:
    with pytest.raises(PortOrderInvalid) as caught:
        submit(PortStatus(), replace(ORDER, pin="", loa=replace(ORDER.loa, signer="")), TODAY)
    assert [e.field for e in caught.value.errors] == ["pin", "loa.signer"]
    assert str(caught.value) == "port-in order is incomplete: pin: is required; loa.signer: is required"


def test_rejection_keeps_the_reason_and_can_be_revised() -> None:
    status = reject(submit(PortStatus(), ORDER, TODAY), "account number does not match")
    assert (status.state, status.rejection_reason) == (PortState.REJECTED, "account number does not match")
    assert revise(status).state is PortState.DRAFT
    with pytest.raises(ValueError, match="needs a reason"):
        reject(submit(PortStatus(), ORDER, TODAY), " ")


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (PortStatus(), lambda s: confirm_foc(s, TODAY)),
        (PortStatus(), lambda s: complete(s, TODAY)),
        (PortStatus(), lambda s: reject(s, "no")),
        (PortStatus(PortState.SUBMITTED), lambda s: complete(s, TODAY)),
        (PortStatus(PortState.SUBMITTED), lambda s: submit(s, ORDER, TODAY)),
        (PortStatus(PortState.COMPLETED), lambda s: reject(s, "too late")),
        (PortStatus(PortState.COMPLETED), revise),
        (PortStatus(PortState.REJECTED), lambda s: confirm_foc(s, TODAY)),
    ],
)
def test_invalid_transitions_are_refused(status: PortStatus, move: object) -> None:
    with pytest.raises(InvalidTransition, match=f"cannot go from {status.state}"):
        move(status)  # type: ignore[operator]


def test_cannot_complete_before_the_foc_date() -> None:
    status = confirm_foc(submit(PortStatus(), ORDER, TODAY), date(2025, 6, 9))
    with pytest.raises(InvalidTransition, match="2025-06-08 is before the FOC date 2025-06-09"):
        complete(status, date(2025, 6, 8))


def test_port_out_refused_while_not_in_good_standing() -> None:
    refused = port_out_decision(account_in_good_standing=False)
    assert not refused.allowed
    assert "good standing" in refused.reason and "cpaas.txt §2.4.5" in refused.reason
    assert port_out_decision(account_in_good_standing=True).allowed


def test_port_out_exceptions_of_the_contract() -> None:
    assert port_out_decision(False, required_by_law=True).allowed
    assert port_out_decision(False, resporg_controlled_toll_free=True).allowed
    assert port_out_decision(False, customer_short_code=True).allowed
