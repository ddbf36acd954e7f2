"""A carrier simulator: an SMPP 3.4 server (SMSC) for `centrex demo`/serve and the tests.

PDUs are parsed and built with smpplib's PDU classes on this side too (smpp.parse_pdu/make_pdu), not
a hand-written codec. It accepts bind_transmitter/receiver/transceiver (with a system_id/password
when configured), answers submit_sm with submit_sm_resp and a decimal message id, sends a
deliver_sm receipt (esm_class 0x04, receipted_message_id + message_state TLVs and the de facto text
body) when registered_delivery asks: DELIVRD, or UNDELIV for the numbers configured as failing.
``inject_mo`` sends a mobile-originated message to the bound ESMEs, segmented with a UDH if long.
It answers enquire_link and unbind; everything it received is kept in ``submissions`` for tests.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import socketserver
import struct
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smpplib import consts, smpp
from smpplib.client import SimpleSequenceGenerator

from centrex.cpaas.messaging.dlr import ESM_RECEIPT, receipt_text
from centrex.cpaas.messaging.segments import segment

MESSAGE_STATE = {"DELIVRD": 2, "UNDELIV": 5, "REJECTD": 8}


@dataclass(frozen=True)
class Submission:
    source_addr: str
    destination_addr: str
    short_message: bytes
    data_coding: int
    esm_class: int
    registered_delivery: int
    message_id: str


class _Sequences:
    """What smpplib's PDU classes read their sequence numbers from (the server's own counter)."""

    def __init__(self) -> None:
        self._gen = SimpleSequenceGenerator()
        self._lock = threading.Lock()

    @property
    def sequence(self) -> int:
        return int(self._gen.sequence)

    def next_sequence(self) -> int:
        with self._lock:
            return int(self._gen.next_sequence())


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return "" if value is None else str(value)


class _Session(socketserver.BaseRequestHandler):
    server: _Server

    def setup(self) -> None:
        self.bound = False
        self.write_lock = threading.Lock()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, pdu: Any) -> None:
        data = pdu.generate()
        with self.write_lock:
            self.request.sendall(data)

    def _read(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = self.request.recv(n - got)
            if not chunk:
                raise ConnectionError("closed")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def handle(self) -> None:
        sim = self.server.simulator
        try:
            while not sim.stopping:
                head = self._read(4)
                (length,) = struct.unpack(">L", head)
                pdu = smpp.parse_pdu(
                    head + self._read(length - 4), client=sim.seq, allow_unknown_opt_params=True
                )
                if not self.dispatch(pdu):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            sim.sessions.discard(self)

    def respond(self, name: str, req: Any, status: int = consts.SMPP_ESME_ROK, **kwargs: Any) -> None:
        resp = smpp.make_pdu(name, client=self.server.simulator.seq, status=status, **kwargs)
        resp.sequence = req.sequence
        self.send(resp)

    def dispatch(self, pdu: Any) -> bool:
        sim = self.server.simulator
        cmd = pdu.command
        if cmd in ("bind_transceiver", "bind_transmitter", "bind_receiver"):
            ok = sim.system_id is None or (
                _text(pdu.system_id) == sim.system_id and _text(pdu.password) == (sim.password or "")
            )
            status = consts.SMPP_ESME_ROK if ok else consts.SMPP_ESME_RINVPASWD
            self.respond(cmd + "_resp", pdu, status=status, system_id="centrex-smsc")
            self.bound = ok
            if ok and cmd != "bind_transmitter":
                sim.sessions.add(self)
            return ok
        if cmd == "enquire_link":
            self.respond("enquire_link_resp", pdu)
        elif cmd == "unbind":
            self.respond("unbind_resp", pdu)
            return False
        elif cmd == "submit_sm":
            if not self.bound:
                self.respond("submit_sm_resp", pdu, status=consts.SMPP_ESME_RINVBNDSTS)
                return True
            self.submit(pdu)
        elif cmd in ("deliver_sm_resp", "enquire_link_resp"):
            pass
        else:
            self.respond("generic_nack", pdu, status=consts.SMPP_ESME_RINVCMDID)
        return True

    def submit(self, pdu: Any) -> None:
        sim = self.server.simulator
        message_id = str(next(sim.ids))
        dest = _text(pdu.destination_addr)
        sub = Submission(
            _text(pdu.source_addr),
            dest,
            bytes(pdu.short_message or b""),
            int(pdu.data_coding or 0),
            int(pdu.esm_class or 0),
            int(pdu.registered_delivery or 0),
            message_id,
        )
        self.respond("submit_sm_resp", pdu, message_id=message_id)
        with sim.lock:
            sim.submissions.append(sub)
            sim.submitted.notify_all()
        if sub.registered_delivery & 0x01:
            stat = "UNDELIV" if dest.lstrip("+") in sim.failing else "DELIVRD"
            when = datetime.now(UTC).strftime("%y%m%d%H%M")
            receipt = smpp.make_pdu(
                "deliver_sm",
                client=sim.seq,
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=dest,
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=sub.source_addr,
                esm_class=ESM_RECEIPT,
                data_coding=0,
                short_message=receipt_text(message_id, stat, "000" if stat == "DELIVRD" else "001", when),
                receipted_message_id=message_id,
                message_state=MESSAGE_STATE[stat],
            )
            self.send(receipt)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: SmscSimulator


@dataclass
class SmscSimulator:
    host: str = "127.0.0.1"
    port: int = 0
    system_id: str | None = None
    password: str | None = None
    failing: set[str] = field(default_factory=set)  # destinations (no "+") whose receipts say UNDELIV
    submissions: list[Submission] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seq = _Sequences()
        self.ids = itertools.count(1000000001)
        self.lock = threading.Lock()
        self.submitted = threading.Condition(self.lock)
        self.sessions: set[_Session] = set()
        self.stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SmscSimulator:
        server = _Server((self.host, self.port), _Session)
        server.simulator = self
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="smsc-sim"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for session in list(self.sessions):
            with contextlib.suppress(OSError):
                session.request.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SmscSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Submission]:
        """The first ``n`` submissions, waiting for them to arrive."""
        with self.submitted:
            self.submitted.wait_for(lambda: len(self.submissions) >= n, timeout)
            return list(self.submissions)

    def inject_mo(self, source: str, destination: str, text: str) -> int:
        """A message from a handset (``source``) to one of our numbers: deliver_sm to the bound ESMEs.
        Returns how many sessions it was sent to."""
        parts = segment(text)
        sent = 0
        for session in list(self.sessions):
            for part in parts.parts:
                pdu = smpp.make_pdu(
                    "deliver_sm",
                    client=self.seq,
                    source_addr_ton=1,
                    source_addr_npi=1,
                    source_addr=source.lstrip("+"),
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr=destination.lstrip("+"),
                    esm_class=parts.esm_class,
                    data_coding=parts.data_coding,
                    short_message=part,
                )
                session.send(pdu)
            sent += 1
        return sent
