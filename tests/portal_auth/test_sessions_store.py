"""Sessions in the store: idle and absolute expiry, the CSRF token bound to the session, and the
principal a session yields being the one a bearer token of the same person yields."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.store.access import authenticate
from centrex.store.db import transaction
from centrex.store.models import User
from centrex.store.models.sessions import PortalSession
from centrex.store.sessions import Account, SessionPolicy, csrf_matches, csrf_token, id_hash, lookup, start
from tests.portal_auth.conftest import Portal

POLICY = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def test_idle_and_absolute_expiry(portal: Portal) -> None:
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with transaction(portal.app.state.sessionmaker) as session:
        user = session.get(User, portal.world.a.ids["end_user"])
        assert user is not None
        plaintext, row = start(session, Account.of(user), POLICY, now=t0)
        stored = session.scalar(select(PortalSession.id_hash).where(PortalSession.id == row.id))
        assert stored == id_hash(plaintext) and plaintext not in stored
        # Used every 20 minutes it stays alive past the idle timeout...
        for minutes in (20, 40, 60):
            assert lookup(session, plaintext, POLICY, t0 + timedelta(minutes=minutes)) is not None
        # ...idle 30 minutes it is over,
        assert lookup(session, plaintext, POLICY, t0 + timedelta(minutes=91)) is None
        # and however busy, it ends 12 hours after log-in.
        again, _ = start(session, Account.of(user), POLICY, now=t0)
        for minutes in range(25, 12 * 60, 25):
            assert lookup(session, again, POLICY, t0 + timedelta(minutes=minutes)) is not None
        assert lookup(session, again, POLICY, t0 + timedelta(hours=12)) is None
        assert lookup(session, "not-a-session", POLICY, t0) is None


def test_csrf_token_is_bound_to_its_session() -> None:
    assert csrf_matches("session-one", csrf_token("session-one"))
    assert not csrf_matches("session-two", csrf_token("session-one"))
    assert not csrf_matches("session-one", None) and not csrf_matches("session-one", "")


def test_session_principal_is_the_bearer_tokens(portal: Portal) -> None:
    with transaction(portal.app.state.sessionmaker) as session:
        for role in ("office_admin", "cpni_admin", "granted_user", "end_user"):
            by_token = authenticate(session, portal.world.a.tokens[role])
            assert by_token is not None and by_token.user_id is not None
            user = session.get(User, by_token.user_id)
            assert user is not None
            plaintext, row = start(session, Account.of(user), POLICY)
            found = lookup(session, plaintext, POLICY)
            assert found is not None
            assert found.principal == replace(by_token, token_id=row.id), role
