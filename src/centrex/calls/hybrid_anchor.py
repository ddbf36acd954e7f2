"""The media anchor when rtpengine is selected (``CENTREX_MEDIA_RELAY=rtpengine``): rtpengine for
the calls nobody may record, the built-in relay for the others.

The recorder taps the built-in relay's packets in this process (media/recorder.py) and rtpengine's
media never passes through it, so ``open`` asks ``tapped(call_id)`` first: a call whose tenant may
record someone (``RecordingListener.policy(tenant)`` is not ``idle``: a policy mode, a per-user
override or on-demand recording) is anchored on the built-in relay, where the listener finds it at
the answer; every other call on rtpengine. A call rtpengine cannot take (the daemon is down or
refuses) falls back to the built-in relay: a call is never refused, nor left unanchored while
the built-in relay has ports.

``HybridAnchor`` remembers which anchor owns each call and sends ``set_remote``, ``music``,
``announce`` and ``close`` to it. Queue position prompts on an rtpengine call are rtpengine's
``play media`` of the prompt as a WAV, after which the hold music starts again
(calls/rtpengine_anchor.py ``RtpengineAnchor.announce``). ``finished`` reads the final statistics
of both.
"""

from __future__ import annotations

import logging
import uuid
from collections import ChainMap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from centrex.calls.media import RelayAnchor
from centrex.calls.ports import Announcer, MediaAnchor
from centrex.calls.rtpengine_anchor import RtpengineAnchor, rtpengine_anchor
from centrex.media.g711 import Pcm
from centrex.media.relay import LegStats, RelayManager

if TYPE_CHECKING:
    from centrex.calls.model import Call


class TenantPolicy(Protocol):
    """What the tap reads of a tenant's recording policy (adapters/recording.py)."""

    @property
    def idle(self) -> bool: ...


log = logging.getLogger(__name__)

BUILTIN, RTPENGINE = "builtin", "rtpengine"


def recording_tap(
    calls: Mapping[uuid.UUID, Call], policy: Callable[[uuid.UUID], TenantPolicy]
) -> Callable[[str], bool]:
    """``tapped`` for the switch: whether the call's tenant may record anyone. The engine opens the
    anchor right after it tracked the call (engine.py ``_anchor``), so the call is in ``calls``."""

    def tapped(call_id: str) -> bool:
        call = calls.get(uuid.UUID(call_id))
        return call is not None and not policy(call.tenant.id).idle

    return tapped


class HybridAnchor:
    def __init__(
        self, rtpengine: RtpengineAnchor, builtin: RelayAnchor, tapped: Callable[[str], bool]
    ) -> None:
        self.rtpengine = rtpengine
        self.builtin = builtin
        self.tapped = tapped
        self._owner: dict[str, RelayAnchor | RtpengineAnchor] = {}

    def __len__(self) -> int:
        return len(self._owner)

    def owner(self, call_id: str) -> str | None:
        """``builtin`` or ``rtpengine`` for an anchored call, else None."""
        anchor = self._owner.get(call_id)
        if anchor is None:
            return None
        return BUILTIN if anchor is self.builtin else RTPENGINE

    @property
    def finished(self) -> Mapping[str, dict[str, LegStats]]:
        return ChainMap(self.builtin.finished, self.rtpengine.finished)

    # -- the MediaAnchor and Announcer ports ------------------------------------------------------
    def open(self, call_id: str) -> tuple[tuple[str, int], tuple[str, int]] | None:
        try:
            tap = self.tapped(call_id)
        except Exception:
            # The policy could not be read (the database, say): the built-in relay, where a
            # recording the tenant asked for is not lost.
            log.exception("media.hybrid.policy_unknown call=%s: anchored on the built-in relay", call_id)
            tap = True
        if not tap:
            addresses = self.rtpengine.open(call_id)
            if addresses is not None:
                self._owner[call_id] = self.rtpengine
                return addresses
            log.warning(
                "media.hybrid.fallback call=%s: rtpengine did not anchor it, the built-in relay does", call_id
            )
        addresses = self.builtin.open(call_id)
        if addresses is not None:
            self._owner[call_id] = self.builtin
        return addresses

    def set_remote(self, call_id: str, leg: str, address: str, port: int) -> None:
        anchor = self._owner.get(call_id)
        if anchor is not None:
            anchor.set_remote(call_id, leg, address, port)

    def music(self, call_id: str, leg: str, payload_type: int, on: bool) -> None:
        anchor = self._owner.get(call_id)
        if anchor is not None:
            anchor.music(call_id, leg, payload_type, on)

    def announce(self, call_id: str, leg: str, payload_type: int, pcm: Pcm) -> None:
        anchor = self._owner.get(call_id)
        if anchor is not None:
            anchor.announce(call_id, leg, payload_type, pcm)

    def can_fan_out(self, call_id: str) -> bool:
        """Paging (pbx/paging.py): only a call on the built-in relay can be fanned out."""
        return self._owner.get(call_id) is self.builtin

    def fan_out(self, call_id: str, leg: str, addresses: list[tuple[str, int]]) -> None:
        if self._owner.get(call_id) is self.builtin:
            self.builtin.fan_out(call_id, leg, addresses)

    def close(self, call_id: str) -> None:
        anchor = self._owner.pop(call_id, None)
        if anchor is not None:
            anchor.close(call_id)

    def close_all(self) -> None:
        for call_id in list(self._owner):
            self.close(call_id)
        self.rtpengine.client.close()


def _conforms(anchor: HybridAnchor) -> tuple[MediaAnchor, Announcer]:
    """mypy checks here that HybridAnchor is both of the engine's ports."""
    return anchor, anchor


def select_anchor(
    relay: str,
    ng: str,
    data_dir: str | Path,
    builtin: RelayManager,
    tapped: Callable[[str], bool] | None = None,
) -> MediaAnchor:
    """The call engine's media anchor by ``CENTREX_MEDIA_RELAY`` (config.py: builtin | rtpengine).

    rtpengine is selected through a ``HybridAnchor``: the calls ``tapped`` names (their tenant may
    record someone) and every call while rtpengine is down stay on the built-in relay."""
    if relay == "rtpengine":
        log.info(
            "media: rtpengine at %s anchors calls; calls that may be recorded use the built-in relay", ng
        )
        return HybridAnchor(
            rtpengine_anchor(ng, data_dir), RelayAnchor(builtin), tapped or (lambda _call_id: False)
        )
    return RelayAnchor(builtin)
