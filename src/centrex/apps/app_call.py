"""One call of the app server (apps/server.py): an INVITE it answered or is answering, or a call it
placed (apps/outbound.py), with its dialog, media and the task of the app running on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from centrex.apps.media import CallMedia
from centrex.sip import Dialog, Request
from centrex.sip.sdp import SessionDescription


@dataclass
class AppCall:
    """One answered (or being answered) INVITE, or a call placed and answered (``AppServer.adopt``)."""

    key: tuple[str, str]  # Call-ID, our tag
    invite: Request
    source: tuple[str, int]
    dialog: Dialog | None = None
    media: CallMedia | None = None
    task: asyncio.Task[None] | None = None
    cancelled: bool = False
    ended_by_peer: bool = False
    answer: SessionDescription | None = None
    sdp_version: int = 0
    abandoned: Callable[[], Awaitable[None]] | None = None  # a voice app's call cancelled before answer
