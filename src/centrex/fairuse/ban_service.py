"""The ban service of a running node: the BanBook in memory for the hot path, the store behind it.

``is_banned`` is a dict lookup and never touches the store. Writes (a ban started or ended) go to
one writer thread. ``sync`` re-reads the store through the same thread — after the writes queued
before it, so a node never reads back less than it wrote — and applies what it read on the event
loop: bans started by other nodes, bans an operator lifted through the API, allowlist changes
(new trunks, the operator's networks). Every mutation of the book happens on the loop thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from centrex.fairuse import ban_store
from centrex.fairuse.bans import Allowlist, Ban, BanBook, BanPolicy, Realm

log = logging.getLogger(__name__)


class BanService:
    def __init__(
        self,
        policies: Mapping[Realm, BanPolicy] | None = None,
        *,
        sessions: sessionmaker[Session] | None = None,
        allow: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.static_allow = tuple(allow)
        self.book = BanBook(policies, Allowlist(self.static_allow))
        self.sessions = sessions
        self.writer = ban_store.BanWriter(sessions) if sessions is not None else None
        self.clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the hot path ------------------------------------------------------------------------
    def is_banned(self, source: str, now: float, realm: Realm = Realm.SIP) -> bool:
        return self.book.is_banned(realm, source, now)

    def allowed(self, source: str) -> bool:
        return self.book.allowed(source)

    def failure(self, realm: Realm, source: str, now: float, username: str | None = None) -> Ban | None:
        """One failure that proves guessing. A ban it starts is logged and written."""
        ban = self.book.failure(realm, source, now, username)
        if ban is not None:
            # One structured line, the fail2ban way: enough to feed an external firewall too.
            policy = self.book.policy(realm)
            log.warning(
                "%s.ban source=%s failures=%d window_s=%g ban_s=%g last_username=%r",
                realm.value,
                ban.source,
                ban.failures,
                policy.window_s,
                policy.ban_s,
                username,
            )
            self._write(lambda s: ban_store.record_started(s, ban))
        return ban

    # -- lifecycle ---------------------------------------------------------------------------
    def load(self, now: float) -> int:
        """At start, before the first packet: the allowlist and the bans still running."""
        if self.sessions is None:
            return 0
        with self.sessions() as session:
            allow = ban_store.allowed_networks(session, self.static_allow)
            stored = [ban_store.ban_of(r) for r in ban_store.active_bans(session, now)]
        self.book.set_allowlist(Allowlist(allow))
        self.book.restore(stored, now)
        log.info("bans.restored count=%d allowlisted=%d", self.book.banned_count, len(allow))
        return self.book.banned_count

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Results of ``sync`` are applied on this loop."""
        self._loop = loop

    def purge(self, now: float) -> list[Ban]:
        ended = self.book.purge(now)
        for ban in ended:
            log.info("%s.unban source=%s", ban.realm.value, ban.source)
            self._write(_ended(ban, ban.until, None))
        return ended

    def lift(self, realm: Realm, source: str, now: float, by: str) -> Ban | None:
        """End a ban here and in the store (the API lifts in the store; this is for tools)."""
        ban = self.book.lift(realm, source)
        if ban is not None:
            self._write(_ended(ban, now, by))
        return ban

    def sync(self) -> None:
        """Re-read allowlist and active bans from the store (after this node's pending writes)."""
        if self.writer is None:
            return
        since = self.clock()

        def read(session: Session) -> None:
            now = self.clock()
            allow = ban_store.allowed_networks(session, self.static_allow)
            stored = [ban_store.ban_of(r) for r in ban_store.active_bans(session, now)]
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._apply, allow, stored, since)
            else:
                self._apply(allow, stored, since)

        self.writer.submit(read)

    def _apply(self, allow: list[str], stored: list[Ban], since: float) -> None:
        now = self.clock()
        for ban in self.book.set_allowlist(Allowlist(allow)):
            log.info("%s.unban source=%s reason=allowlisted", ban.realm.value, ban.source)
            self._write(_ended(ban, now, "allowlist"))
        for ban in self.book.replace(stored, now, since):
            log.info("%s.unban source=%s reason=lifted", ban.realm.value, ban.source)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.stop()

    def _write(self, job: ban_store.Job) -> None:
        if self.writer is not None:
            self.writer.submit(job)

    # -- what operators and health checks see ---------------------------------------------------
    def active(self, now: float) -> list[Ban]:
        return self.book.active(now)

    @property
    def banned_count(self) -> int:
        return self.book.banned_count


def _ended(ban: Ban, at: float, by: str | None) -> ban_store.Job:
    return lambda session: ban_store.record_ended(session, ban, at, by)
