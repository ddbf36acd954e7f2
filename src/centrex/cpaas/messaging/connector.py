"""What a carrier connector is: it submits a message's parts and reports back, on its own thread,
what the carrier said (``CarrierEvents``). SMPP (smpp_connector.py) and HTTP (http_connector.py)
implement it; the Messenger (service.py) is the events' receiver."""

from __future__ import annotations

from typing import Protocol

from centrex.cpaas.messaging.dlr import Receipt
from centrex.cpaas.messaging.segments import Segmented


class CarrierEvents(Protocol):
    def submitted(self, ref: str, part: int, carrier_id: str | None, error: str | None) -> None:
        """The carrier accepted part ``part`` (1-based) of message ``ref`` as ``carrier_id``, or
        refused it (``error``)."""

    def receipt(self, receipt: Receipt) -> None:
        """A delivery receipt for a part the carrier accepted."""

    def inbound(self, from_: str, to: str, text: str) -> None:
        """A mobile-originated message (whole: concatenated parts already joined)."""


class Connector(Protocol):
    name: str

    def start(self, events: CarrierEvents) -> None: ...

    def submit(self, ref: str, from_: str, to: str, message: Segmented) -> None: ...

    def stop(self) -> None: ...


def e164(addr: str) -> str:
    digits = addr.strip().lstrip("+")
    return "+" + digits if digits.isdigit() else addr
