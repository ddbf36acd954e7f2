"""TOTP second factors (RFC 6238: 6 digits, 30-second steps, SHA-1 — what every authenticator app
reads from an otpauth:// URI), with pyotp (the maintained Python implementation of RFC 4226/6238;
it also writes the provisioning URI).

The secret is sealed at rest (store/sealed.py): unlike a password it must be read back to check a
code. A code is accepted for the current step or one step either side (clock drift, RFC 6238 §5.2),
and never twice: the factor remembers the last step it accepted.
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime

import pyotp
from sqlalchemy import delete
from sqlalchemy.orm import Session

from centrex.store.models import TokenKind
from centrex.store.models.sessions import TotpFactor
from centrex.store.sealed import seal, unseal
from centrex.store.sessions import Account

ISSUER = "Centrex"
STEP_S = 30
DRIFT_STEPS = 1


def enroll(session: Session, account: Account, label: str) -> tuple[TotpFactor, str, str]:
    """A new pending factor (any earlier one of the account is replaced): (row, secret, otpauth URI)."""
    owner = TotpFactor.operator_id if account.kind is TokenKind.OPERATOR else TotpFactor.user_id
    session.execute(delete(TotpFactor).where(owner == account.id))
    secret = pyotp.random_base32()  # 160 bits, RFC 4226 §4's recommended length
    row = TotpFactor(**account.columns(), secret_sealed=seal(session, secret), last_step=0)
    session.add(row)
    session.flush()
    uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=label, issuer_name=ISSUER)
    return row, secret, uri


def check(session: Session, factor: TotpFactor, code: str | None, now: float | None = None) -> bool:
    """Whether `code` is valid now and not used before; a valid code is used up."""
    if not code or not code.isdigit() or len(code) != 6:
        return False
    now = now or time.time()
    totp = pyotp.TOTP(unseal(session, factor.secret_sealed), interval=STEP_S)
    current = int(now // STEP_S)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > factor.last_step and hmac.compare_digest(totp.at(step * STEP_S), code):
            factor.last_step = step
            session.flush()
            return True
    return False


def confirm(session: Session, factor: TotpFactor, code: str | None) -> bool:
    if not check(session, factor, code):
        return False
    factor.confirmed_at = datetime.now(UTC)
    session.flush()
    return True
