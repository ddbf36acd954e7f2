"""The one error the media package raises for bad input (garbage packets, wrong WAV files, no ports)."""

from __future__ import annotations


class MediaError(ValueError):
    """Input the media layer cannot accept; the message says which field and which rule."""


class PortsExhausted(MediaError):
    """The configured RTP port range has no free even/odd pair left."""
