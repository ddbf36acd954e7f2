"""Password reset by e-mail (issue 18 §1; docs/portal-auth.md).

POST /auth/password-reset always answers 202, whether or not an account has the address (nothing
to learn from it, and the mail leaves after the answer, so no timing either); each account with the
address gets a link to the portal, ``<portal_base_url>/reset?token=…``, valid one hour and once.
POST /auth/password-reset/confirm sets the new password and ends every session of the account.
A token that is not valid counts as a failed log-in of the source (api/login_guard.py).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from centrex.api import accounts
from centrex.api.deps import SessionDep
from centrex.api.login_guard import TOO_MANY, LoginGuard, source_of
from centrex.api.portal import PortalConfig, config_of
from centrex.ops.mailer import Mailer, Message
from centrex.store import password_reset
from centrex.store.sessions import Account

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth/password-reset", tags=["auth"])

ACCEPTED = {"message": "if an account has this e-mail address, a reset link was sent to it"}
NOT_VALID = {
    "error": "validation_error",
    "message": "this reset link is not valid (mistyped, expired or already used): ask for a new one",
    "field": "token",
    "rule": "reset_token",
}


class ResetIn(BaseModel):
    email: str = Field(min_length=1, max_length=254)


class ResetConfirm(BaseModel):
    token: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=password_reset.MAX_LENGTH)


def _issue(session: Session, email: str, config: PortalConfig, source: str) -> list[Message]:
    out = []
    for row in accounts.candidates(session, email):
        if not row.email:
            continue
        token = password_reset.issue(session, Account.of(row), config.reset_ttl)
        if token is None:
            log.info("auth.reset_limited account=%s", row.id)
            continue
        accounts.audit(
            session,
            "auth.password_reset_requested",
            row,
            f"source:{source}",
            "anonymous",
            {"source": source},
        )
        link = f"{config.base_url}/reset?token={quote(token)}"
        minutes = int(config.reset_ttl.total_seconds() // 60)
        out.append(
            Message(
                to=(row.email,),
                subject="Reset your Centrex password",
                text=(
                    f"Hello {row.name},\n\nSomeone (we hope you) asked to reset the password of your"
                    f" Centrex account {row.email}.\nTo choose a new password, open this link within"
                    f" {minutes} minutes:\n\n{link}\n\nThe link works once. If you did not ask for this,"
                    " ignore this mail: your password stays as it is.\n"
                ),
            )
        )
    return out


async def _send(mailer: Mailer | None, messages: list[Message]) -> None:
    for message in messages:
        if mailer is None:
            log.warning("auth.reset_not_mailed to=%s: no SMTP host (CENTREX_SMTP_HOST)", message.to[0])
            continue
        sent = await mailer.deliver(message)
        if not sent.ok:
            log.warning("auth.reset_mail_failed to=%s detail=%s", message.to[0], sent.detail)


@router.post("", status_code=202, responses=TOO_MANY, openapi_extra={"security": []})
async def request_reset(
    body: ResetIn, request: Request, session: SessionDep, background: BackgroundTasks
) -> Any:
    source = source_of(request)
    refused = LoginGuard.of(request.app).refusal(source, None)
    if refused is not None:
        return refused
    config = config_of(request.app)
    messages = await run_in_threadpool(_issue, session, body.email, config, source)
    background.add_task(_send, config.mailer, messages)  # after the answer: no timing to read
    return ACCEPTED


def _redeem(session: Session, body: ResetConfirm) -> bool:
    done = password_reset.redeem(session, body.token.strip(), body.password)
    if done is None:
        return False
    row, ended = done
    actor = accounts.label_of(row, session)
    accounts.audit(session, "auth.password_reset", row, actor, "self", {"sessions_ended": ended})
    return True


@router.post("/confirm", status_code=204, responses=TOO_MANY, openapi_extra={"security": []})
async def confirm_reset(body: ResetConfirm, request: Request, session: SessionDep) -> Response:
    guard = LoginGuard.of(request.app)
    source = source_of(request)
    refused = guard.refusal(source, None)
    if refused is not None:
        return refused
    if not await run_in_threadpool(_redeem, session, body):
        guard.failed(source, None)
        return JSONResponse(status_code=422, content=NOT_VALID)
    return Response(status_code=204)
