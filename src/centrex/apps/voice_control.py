"""The app server's CallControl for a voice app's call (cpaas/voice/control.py).

hangup: BYE. reject: after answer a hang-up (a first <Reject> never gets here: the INVITE was
refused 486/603 before answer, cpaas/voice/service.py). refer: the in-dialog REFER the attendant
uses. dial: until the cpaas-calls part's bridge is set as ``AppServer.voice_dialer``, a single
extension target (an extension, or a <Number> of extension length) is handed to the switch by
REFER — the switch rings it with forwarding, hunt groups and voicemail, and the app's leg ends;
anything else is DialCallStatus failed with the reason in the call's log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from centrex.cpaas.voice.control import DialRequest, DialResult

MAX_EXTENSION = 8  # the longest extension (store/models: String(8))
HANDOFF_S = 5.0  # after a REFER is accepted the switch BYEs the app's leg; wait that long for it

Dialer = Callable[[Any, DialRequest], Awaitable[DialResult]]


def extension_of(request: DialRequest) -> str | None:
    """The one extension a <Dial> names, or None (several targets, a number, a SIP URI …)."""
    if len(request.targets) != 1:
        return None
    t = request.targets[0]
    if t.kind == "extension" or (t.kind == "number" and t.value.isdigit() and len(t.value) <= MAX_EXTENSION):
        return t.value
    return None


class AppCallControl:
    def __init__(
        self,
        hangup: Callable[[], None],
        refer: Callable[[str], Awaitable[int]],
        dialer: Callable[[DialRequest], Awaitable[DialResult]] | None = None,
        notice: Callable[[str], Awaitable[None]] | None = None,
        closed: asyncio.Event | None = None,
    ) -> None:
        self._hangup = hangup
        self._closed = closed
        self._refer = refer
        self._dialer = dialer
        self.notice = notice

    async def hangup(self) -> None:
        self._hangup()

    async def reject(self, reason: str) -> None:
        self._hangup()

    async def refer(self, target: str) -> int:
        return await self._refer(target)

    async def dial(self, request: DialRequest) -> DialResult:
        if self._dialer is not None:
            return await self._dialer(request)
        extension = extension_of(request)
        if extension is None:
            if self.notice is not None:
                await self.notice(
                    "<Dial> to numbers, SIP URIs or several targets needs the bridge of the cpaas-calls part"
                )
            return DialResult("failed")
        status = await self._refer(extension)
        if status == 202 and self._closed is not None:
            # The switch has the caller now: the app's part of the call ends with its leg.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), HANDOFF_S)
        return DialResult("completed" if status == 202 else "failed")
