"""8 kHz 16-bit mono WAV files (voicemail, recordings, prompts) through the stdlib ``wave`` module."""

from __future__ import annotations

import wave
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from centrex.media.errors import MediaError
from centrex.media.g711 import Pcm, _as_pcm

RATE = 8000


def write_wav(path: str | Path, samples: npt.ArrayLike, rate: int = RATE) -> None:
    with WavRecorder(path, rate) as rec:
        rec.append(samples)


def read_wav(path: str | Path, rate: int = RATE) -> Pcm:
    """Samples of a mono 16-bit WAV at ``rate``; MediaError naming what differs otherwise."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1:
                raise MediaError(f"{path}: {w.getnchannels()} channels, expected mono")
            if w.getsampwidth() != 2:
                raise MediaError(f"{path}: {8 * w.getsampwidth()}-bit samples, expected 16-bit")
            if w.getframerate() != rate:
                raise MediaError(f"{path}: {w.getframerate()} Hz, expected {rate} Hz")
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise MediaError(f"{path}: not a PCM WAV file ({exc})") from None
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


class WavRecorder:
    """Appends frames to a WAV file as they come; the header is finalised on close.

    ``wave`` rewrites the length fields on close, so a recording cut short by a crash is a valid
    file up to its last complete header update; callers close it in a ``finally`` or ``with``.
    """

    def __init__(self, path: str | Path, rate: int = RATE) -> None:
        self.path = Path(path)
        self.rate = rate
        self.samples = 0
        self._w = wave.open(str(self.path), "wb")  # noqa: SIM115 - stays open while frames are appended
        self._w.setnchannels(1)
        self._w.setsampwidth(2)
        self._w.setframerate(rate)

    def append(self, samples: npt.ArrayLike) -> None:
        pcm = _as_pcm(samples)
        self._w.writeframes(pcm.astype("<i2").tobytes())
        self.samples += len(pcm)

    @property
    def duration_ms(self) -> int:
        return 1000 * self.samples // self.rate

    def close(self) -> None:
        self._w.close()

    def __enter__(self) -> WavRecorder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
