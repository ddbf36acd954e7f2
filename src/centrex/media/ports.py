"""RTP/RTCP port pairs from the configured range (``Settings.rtp_ports``, CENTREX_RTP_PORTS).

RFC 3550 §11: RTP on an even port, RTCP on the next odd one. Released pairs go to the back of the
queue, so a port is reused as late as possible: a stray packet of a finished call is then unlikely
to reach the next call given the same port.
"""

from __future__ import annotations

import threading
from collections import deque

from centrex.media.errors import MediaError, PortsExhausted


class PortAllocator:
    def __init__(self, low: int, high: int) -> None:
        if not (1024 <= low < high <= 65535):
            raise MediaError(f"rtp_ports: {low}-{high} must satisfy 1024 <= low < high <= 65535")
        first = low + (low & 1)  # first even port
        self.low, self.high = low, high
        self._free: deque[int] = deque(range(first, high, 2))  # RTCP = rtp + 1 <= high
        if not self._free:
            raise MediaError(f"rtp_ports: {low}-{high} holds no even/odd pair")
        self.capacity = len(self._free)
        self._used: set[int] = set()
        self._lock = threading.Lock()

    def allocate(self) -> tuple[int, int]:
        """An (RTP, RTCP) pair not handed out to anyone else until released."""
        with self._lock:
            if not self._free:
                raise PortsExhausted(f"rtp_ports: all {self.capacity} pairs of {self.low}-{self.high} in use")
            port = self._free.popleft()
            self._used.add(port)
            return port, port + 1

    def release(self, rtp_port: int) -> None:
        with self._lock:
            if rtp_port not in self._used:
                raise MediaError(f"rtp_port: {rtp_port} was not allocated (released twice?)")
            self._used.remove(rtp_port)
            self._free.append(rtp_port)

    @property
    def in_use(self) -> int:
        return len(self._used)

    @property
    def available(self) -> int:
        return len(self._free)
