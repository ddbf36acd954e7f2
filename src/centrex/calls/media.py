"""The call engine's media anchor on the built-in relay (media/relay.py RelayManager).

``open`` binds the call's two relay legs at once so their ports can go into the SDP; ``close``
returns the ports and keeps the last per-leg statistics (packets, loss, jitter) for whoever asks
(tests, insights). A relay that cannot be made (ports exhausted) leaves the call unanchored rather
than refused: media then flows phone to phone, and 911 is never refused for capacity.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict

from centrex.media.errors import MediaError
from centrex.media.g711 import Pcm
from centrex.media.music import MusicOnHold
from centrex.media.relay import LegStats, RelayManager

log = logging.getLogger(__name__)


class RelayAnchor:
    def __init__(self, manager: RelayManager, keep_stats: int = 1000) -> None:
        self.manager = manager
        self.keep_stats = keep_stats
        self.finished: OrderedDict[str, dict[str, LegStats]] = OrderedDict()
        self._music: dict[tuple[str, str], MusicOnHold] = {}

    def open(self, call_id: str) -> tuple[tuple[str, int], tuple[str, int]] | None:
        try:
            self.manager.create_now(call_id)
        except MediaError as exc:
            log.error("media.anchor.unavailable call=%s: %s", call_id, exc)
            return None
        a = self.manager.sdp_address(call_id, "a")
        b = self.manager.sdp_address(call_id, "b")
        return (a.address, a.port), (b.address, b.port)

    def set_remote(self, call_id: str, leg: str, address: str, port: int) -> None:
        # The relay may have gone idle and been closed: then there is nothing to steer.
        with contextlib.suppress(MediaError):
            self.manager.set_remote(call_id, leg, address, port)

    def can_fan_out(self, call_id: str) -> bool:
        return self.manager.get(call_id) is not None

    def fan_out(self, call_id: str, leg: str, addresses: list[tuple[str, int]]) -> None:
        """What the relay sends out of ``leg`` goes to every address (paging: pbx/paging.py)."""
        relay = self.manager.get(call_id)
        if relay is not None:
            relay.fan_out(leg, addresses)

    def music(self, call_id: str, leg: str, payload_type: int, on: bool) -> None:
        """Music on hold to ``leg`` (the party put on hold), or stop it."""
        key = (call_id, leg)
        playing = self._music.pop(key, None)
        if playing is not None:
            playing.stop()
        relay = self.manager.get(call_id)
        if on and relay is not None:
            moh = MusicOnHold(relay, leg, payload_type)
            moh.start()
            self._music[key] = moh

    def announce(self, call_id: str, leg: str, payload_type: int, pcm: Pcm) -> None:
        """Play a prompt to ``leg`` (a queue position): over its music, which pauses for it and
        goes on after; a leg without music hears the prompt alone."""
        relay = self.manager.get(call_id)
        if relay is None:
            return
        key = (call_id, leg)
        player = self._music.get(key)
        if player is None or not player.playing:
            player = MusicOnHold(relay, leg, payload_type, music=False)
            self._music[key] = player
        player.announce(pcm)
        player.start()

    def close(self, call_id: str) -> None:
        for key in [k for k in self._music if k[0] == call_id]:
            self._music.pop(key).stop()
        stats = self.manager.destroy(call_id)
        if stats is not None:
            self.finished[call_id] = stats
            while len(self.finished) > self.keep_stats:
                self.finished.popitem(last=False)
