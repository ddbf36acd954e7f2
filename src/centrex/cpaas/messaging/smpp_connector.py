"""The SMPP 3.4 connector: an ESME with smpplib (a maintained library's PDUs, issue 16 §4).

bind_transceiver once, then one reader thread acts on every PDU: submit_sm_resp (the carrier's id of
a part), deliver_sm (a delivery receipt when esm_class has 0x04, else a mobile-originated message,
reassembled from its UDH parts), enquire_link (answered; sent by us when the link is idle for
``enquire_link_s``). submit_sm asks for a receipt (registered_delivery 1); addresses are
international/ISDN (TON 1, NPI 1) without the "+". smpplib's client is synchronous: writes from the
API's threads and the reader's deliver_sm_resp share one lock. A lost link is re-bound with back-off.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from typing import Any

from smpplib import consts, exceptions, smpp
from smpplib.client import Client

from centrex.cpaas.messaging.connector import CarrierEvents, e164
from centrex.cpaas.messaging.dlr import ESM_RECEIPT, normalize_id, parse_receipt
from centrex.cpaas.messaging.segments import Segmented, decode, split_udh

log = logging.getLogger(__name__)


class _Client(Client):
    """smpplib's client with one write lock (the reader answers deliver_sm while others submit)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.write_lock = threading.RLock()

    def send_pdu(self, p: Any) -> bool:
        with self.write_lock:
            return bool(super().send_pdu(p))


class SmppConnector:
    name = "smpp"

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str = "",
        password: str = "",
        *,
        system_type: str = "",
        enquire_link_s: float = 30.0,
        window: int = 100,
    ) -> None:
        self.host, self.port = host, port
        self.system_id, self.password, self.system_type = system_id, password, system_type
        self.enquire_link_s = enquire_link_s
        # SMPP windowing: at most ``window`` submit_sm awaiting their submit_sm_resp (reference §2.5).
        self.window = threading.BoundedSemaphore(window)
        self.events: CarrierEvents | None = None
        self.client: _Client | None = None
        self.pending: dict[int, tuple[str, int, bool]] = {}  # sequence → (ref, part, holds a window slot)
        self.parts: dict[tuple[str, int], dict[int, str]] = {}  # MO reassembly: (source, ref) → seq → text
        self.bound = threading.Event()
        self.stopping = False
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self, events: CarrierEvents) -> None:
        self.events = events
        self._thread = threading.Thread(target=self._run, daemon=True, name="smpp-esme")
        self._thread.start()

    def wait_bound(self, timeout: float = 10.0) -> bool:
        return self.bound.wait(timeout)

    def stop(self) -> None:
        self.stopping = True
        client = self.client
        if client is not None:
            with contextlib.suppress(Exception), client.write_lock:  # best effort on the way out
                client.send_pdu(smpp.make_pdu("unbind", client=client))
            with contextlib.suppress(Exception):
                client._socket.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _bind(self) -> _Client:
        client = _Client(self.host, self.port, timeout=self.enquire_link_s, allow_unknown_opt_params=True)
        client.set_message_sent_handler(self._on_submit_resp)
        client.set_message_received_handler(self._on_deliver)
        client.set_error_pdu_handler(self._on_error)
        client.connect()
        client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.bind_transceiver(
            system_id=self.system_id, password=self.password, system_type=self.system_type
        )
        return client

    def _run(self) -> None:
        backoff = 0.5
        while not self.stopping:
            try:
                self.client = self._bind()
            except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
                log.warning("SMPP bind to %s:%s failed: %s", self.host, self.port, exc)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            self.bound.set()
            try:
                while not self.stopping:
                    self.client.read_once()  # a read timeout sends enquire_link (smpplib)
            except (exceptions.ConnectionError, OSError) as exc:
                if not self.stopping:
                    log.warning("SMPP link to %s:%s lost: %s", self.host, self.port, exc)
            except Exception:
                log.exception("SMPP reader failed")
            finally:
                self.bound.clear()
                self._fail_pending("the SMPP link was lost before the carrier answered")
                with contextlib.suppress(Exception):
                    self.client.disconnect()

    # -- sending
    def submit(self, ref: str, from_: str, to: str, message: Segmented) -> None:
        client = self.client
        if client is None or not self.bound.is_set():
            for part in range(1, message.count + 1):
                self._event_submitted(ref, part, None, "the SMPP link to the carrier is not bound")
            return
        # The reader thread (a keyword reply to an incoming message) never waits for a window slot:
        # only it can free one. Others wait outside the write lock, which the reader needs to answer.
        reader = threading.current_thread() is self._thread
        for part, payload in enumerate(message.parts, start=1):
            if not reader and not self.window.acquire(timeout=30):
                self._event_submitted(ref, part, None, "the carrier's SMPP window stayed full")
                continue
            with client.write_lock:
                pdu = smpp.make_pdu(
                    "submit_sm",
                    client=client,
                    source_addr_ton=consts.SMPP_TON_INTL,
                    source_addr_npi=consts.SMPP_NPI_ISDN,
                    source_addr=from_.lstrip("+"),
                    dest_addr_ton=consts.SMPP_TON_INTL,
                    dest_addr_npi=consts.SMPP_NPI_ISDN,
                    destination_addr=to.lstrip("+"),
                    short_message=payload,
                    data_coding=message.data_coding,
                    esm_class=message.esm_class,
                    registered_delivery=consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
                )
                self.pending[pdu.sequence] = (ref, part, not reader)
                try:
                    client.send_pdu(pdu)
                except (exceptions.ConnectionError, OSError) as exc:
                    self._release(self.pending.pop(pdu.sequence, None))
                    self._event_submitted(ref, part, None, f"the SMPP link failed: {exc}")

    # -- reader thread
    def _event_submitted(self, ref: str, part: int, carrier_id: str | None, error: str | None) -> None:
        if self.events is not None:
            self.events.submitted(ref, part, carrier_id, error)

    def _release(self, target: tuple[str, int, bool] | None) -> None:
        if target is not None and target[2]:
            self.window.release()

    def _fail_pending(self, reason: str) -> None:
        pending, self.pending = self.pending, {}
        for target in pending.values():
            self._release(target)
            self._event_submitted(target[0], target[1], None, reason)

    def _on_submit_resp(self, pdu: Any, **_: Any) -> None:
        target = self.pending.pop(pdu.sequence, None)
        if target is None:
            return
        self._release(target)
        message_id = (
            pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else str(pdu.message_id or "")
        )
        self._event_submitted(target[0], target[1], normalize_id(message_id), None)

    def _on_error(self, pdu: Any) -> None:
        if pdu.command == "submit_sm_resp":
            target = self.pending.pop(pdu.sequence, None)
            if target is not None:
                self._release(target)
                desc = consts.DESCRIPTIONS.get(pdu.status, f"status 0x{pdu.status:x}")
                self._event_submitted(target[0], target[1], None, f"the carrier refused it: {desc}")
            return
        log.warning("SMPP error PDU %s status 0x%x", pdu.command, pdu.status)

    def _on_deliver(self, pdu: Any, **_: Any) -> int:
        if pdu.command != "deliver_sm" or self.events is None:
            return consts.SMPP_ESME_ROK
        esm = int(pdu.esm_class or 0)
        if esm & ESM_RECEIPT:
            receipt = parse_receipt(pdu.short_message or b"", pdu.receipted_message_id, pdu.message_state)
            if receipt is not None:
                self.events.receipt(receipt)
            return consts.SMPP_ESME_ROK
        source = e164(
            pdu.source_addr.decode() if isinstance(pdu.source_addr, bytes) else str(pdu.source_addr)
        )
        dest = e164(
            pdu.destination_addr.decode()
            if isinstance(pdu.destination_addr, bytes)
            else str(pdu.destination_addr)
        )
        concat, payload = split_udh(bytes(pdu.short_message or b""), esm)
        text = decode(payload, int(pdu.data_coding or 0))
        if concat is not None:
            ref, total, seq = concat
            buf = self.parts.setdefault((source, ref), {})
            buf[seq] = text
            if len(buf) < total:
                return consts.SMPP_ESME_ROK
            text = "".join(buf[i] for i in sorted(buf))
            del self.parts[(source, ref)]
        self.events.inbound(source, dest, text)
        return consts.SMPP_ESME_ROK
