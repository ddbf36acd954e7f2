"""Who calls the Twilio-compatible API (issue 16 §2): HTTP Basic with the account SID and auth token.

Routes of the compatible API live under ``/2010-04-01/Accounts/{AccountSid}/`` and depend on
``TwilioAccountDep``: the caller is the tenant's developer principal (store/policy.py decides what a
developer may do, the same as for a developer's bearer token), and the account in the path must be
the one authenticated. Errors there are answered in Twilio's shape (``TwilioError``), which the
``twilio`` package turns into a TwilioRestException with our code and message.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from centrex.api.deps import SessionDep
from centrex.cpaas.accounts import Account, check_credentials
from centrex.store.access import Principal
from centrex.store.models import Role, TokenKind

PREFIX = "/2010-04-01/Accounts/{AccountSid}"


class TwilioErrorOut(BaseModel):
    """Twilio's error body, as TwilioError is answered."""

    code: int
    message: str
    more_info: str
    status: int


# The errors every compatible route may answer, for its OpenAPI entry.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": TwilioErrorOut, "description": "refused (Twilio error code)"},
    401: {"model": TwilioErrorOut, "description": "HTTP Basic with the account SID and auth token required"},
    404: {"model": TwilioErrorOut, "description": "not found"},
}


class TwilioError(Exception):
    """An error in Twilio's body shape: {code, message, more_info, status}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {what} was not found")


def install_twilio_errors(app: FastAPI) -> None:
    @app.exception_handler(TwilioError)
    async def _twilio_error(request: Request, exc: TwilioError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if exc.status == 401 else None
        body = {
            "code": exc.code,
            "message": exc.message,
            "more_info": f"https://www.twilio.com/docs/errors/{exc.code}",
            "status": exc.status,
        }
        return JSONResponse(body, status_code=exc.status, headers=headers)


@dataclass(frozen=True)
class TwilioAccount:
    account: Account
    principal: Principal

    @property
    def sid(self) -> str:
        return self.account.sid

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.account.tenant_id


def developer_principal(account: Account) -> Principal:
    # The account row stands in for a token: a developer of this tenant and nothing more.
    return Principal(
        TokenKind.DEVELOPER,
        uuid.uuid5(uuid.NAMESPACE_URL, account.sid),
        frozenset({Role.DEVELOPER}),
        f"developer:{account.sid}",
        tenant_id=account.tenant_id,
    )


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


async def twilio_account(
    request: Request, session: SessionDep, account_sid: Annotated[str, Path(alias="AccountSid")]
) -> TwilioAccount:
    creds = _basic(request)
    account = None
    if creds is not None:
        account = await run_in_threadpool(check_credentials, session, creds[0], creds[1])
    if account is None:
        raise TwilioError(401, 20003, "Authenticate")
    if account_sid != account.sid:  # another account's resources: as if they did not exist
        raise not_found(f"/2010-04-01/Accounts/{account_sid}")
    return TwilioAccount(account, developer_principal(account))


TwilioAccountDep = Annotated[TwilioAccount, Depends(twilio_account)]
