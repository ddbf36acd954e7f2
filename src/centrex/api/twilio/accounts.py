"""GET /2010-04-01/Accounts/{AccountSid}.json: the account the credentials belong to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from centrex.api.twilio.formats import API_VERSION, account_uri
from centrex.api.twilio_auth import ERRORS, PREFIX, TwilioAccountDep

router = APIRouter(tags=["twilio"])


@router.get(PREFIX + ".json", responses=ERRORS)
def fetch_account(account: TwilioAccountDep) -> dict[str, Any]:
    sid = account.sid
    return {
        "sid": sid,
        "owner_account_sid": sid,
        "friendly_name": account.account.friendly_name or sid,
        "status": "active",
        "type": "Full",
        "auth_token": account.account.auth_token,
        "uri": account_uri(sid) + ".json",
        "subresource_uris": {
            "calls": f"/{API_VERSION}/Accounts/{sid}/Calls.json",
            "messages": f"/{API_VERSION}/Accounts/{sid}/Messages.json",
            "recordings": f"/{API_VERSION}/Accounts/{sid}/Recordings.json",
            "incoming_phone_numbers": f"/{API_VERSION}/Accounts/{sid}/IncomingPhoneNumbers.json",
        },
    }
