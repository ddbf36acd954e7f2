"""The one thread that writes the switch's records, with group commit (see call_records.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.record_writes import Write, apply_writes
from centrex.store.db import transaction

log = logging.getLogger(__name__)


class RecordWriter:
    """The one thread that writes: group commit, in order, and a report of what is durable.

    ``submit`` queues a write and returns its sequence number (1, 2, ...); the writes of one turn
    of the event loop are handed to the thread together (one wake-up, not one per write). The
    thread takes the first writes waiting, then every other one already queued (up to about
    ``max_batch``), applies them
    in one transaction and calls ``on_durable(last sequence number)`` on the event loop. A batch
    that fails is retried write by write, so one bad row does not take its neighbours down; a
    write that fails on its own is logged in full (the log is its last copy) and counted as done,
    so signalling does not wait for ever on a store that refuses it.
    """

    _STOP = object()

    def __init__(
        self,
        sessions: sessionmaker[Session],
        loop: asyncio.AbstractEventLoop,
        on_durable: Callable[[int], None],
        *,
        max_batch: int = 2000,
        node_id: uuid.UUID | None = None,
    ) -> None:
        self.node_id = node_id
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        self._engine: Engine | None = bind if isinstance(bind, Engine) else None
        self._conn: Connection | None = None  # the writer thread's own
        self.loop = loop
        self.on_durable = on_durable
        self.max_batch = max_batch
        self.submitted = 0
        self.commits = 0  # transactions committed (for tests and the benchmark)
        self.lost = 0
        self.durable = 0  # the last sequence number committed
        # (last sequence number, when handed to the thread) of each batch not yet committed:
        # the oldest one's age is the writer's lag (ops/metrics_switch.py).
        self.waiting: deque[tuple[int, float]] = deque()
        self._queue: queue.SimpleQueue[list[tuple[int, Write]] | object] = queue.SimpleQueue()
        self._pending: list[tuple[int, Write]] = []
        self._loop_thread = threading.get_ident()  # made on the loop (SipService.start)
        self._thread = threading.Thread(target=self._run, name="centrex-records", daemon=True)
        self._thread.start()

    def submit(self, write: Write) -> int:
        if threading.get_ident() != self._loop_thread:
            # From another thread (an API worker): queued at once, with no number, since no
            # message of the switch waits for it and numbers must reach the thread in order.
            self._queue.put([(0, write)])
            return 0
        self.submitted += 1
        if not self._pending:
            self.loop.call_soon(self._hand_over)
        self._pending.append((self.submitted, write))
        return self.submitted

    def _hand_over(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            self.waiting.append((pending[-1][0], time.monotonic()))
            self._queue.put(pending)

    def lag_s(self, now: float) -> float:
        """How long the oldest write not yet committed has waited (0: none waits)."""
        try:
            return max(0.0, now - self.waiting[0][1])
        except IndexError:
            return 0.0

    async def stop(self) -> None:
        """Commit everything queued, then end the thread."""
        self._hand_over()
        self._queue.put(self._STOP)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is self._STOP:
                break
            pairs: list[tuple[int, Write]] = list(item)  # type: ignore[call-overload]
            while len(pairs) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is self._STOP:
                    stopping = True
                    break
                pairs.extend(item)  # type: ignore[arg-type]
            self._commit([w for _, w in pairs])
            last = max(seq for seq, _ in pairs)
            if last:
                self.durable = last
                while self.waiting and self.waiting[0][0] <= last:
                    self.waiting.popleft()
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                    self.loop.call_soon_threadsafe(self.on_durable, last)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _apply(self, writes: list[Write]) -> None:
        """One transaction on the thread's own connection: Core statements, no ORM session and
        no pool check-out per batch (together ~8 % of the switch's time at 450 calls/s). A
        connection the database dropped is replaced and the batch tried once more."""
        if self._engine is None:
            with transaction(self.sessions) as s:
                apply_writes(s, writes, self.node_id)
            return
        for attempt in (1, 2):
            if self._conn is None or self._conn.closed:
                self._conn = self._engine.connect()
            conn = self._conn
            try:
                with conn.begin():
                    apply_writes(conn, writes, self.node_id)
                return
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == 2:
                    raise
                self._conn = None
                with contextlib.suppress(Exception):
                    conn.close()

    def _commit(self, writes: list[Write]) -> None:
        try:
            self._apply(writes)
            self.commits += 1
            return
        except Exception:
            if len(writes) == 1:
                self._lost(writes[0])
                return
            log.exception("sip.records.batch_failed writes=%d (retrying one by one)", len(writes))
        for w in writes:
            try:
                self._apply([w])
                self.commits += 1
            except Exception:
                self._lost(w)

    def _lost(self, w: Write) -> None:
        self.lost += 1
        log.exception("sip.records.write_failed %r", w)
