"""Prompt audio: rendered once with espeak-ng into the data dir, or tone prompts when it is absent.

Nothing is downloaded at run time (issue 4, "Prompts"). With ``mode="auto"`` the library renders
every phrase of phrases.TEXTS with ``espeak-ng`` at first start into ``<data>/prompts/espeak-en-us/``
as 8 kHz 16-bit mono WAV files (espeak writes 22.05 kHz; the FFT resampler below band-limits to
4 kHz), and renders again only the phrases whose text changed (a manifest keeps each text's hash).
Without espeak-ng, or with ``mode="tones"`` (what the tests use), each phrase is a short pattern of
pips from media/tones.py, distinct per phrase, so a menu still works and is timed the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from centrex.apps.phrases import TEXTS
from centrex.media.g711 import Pcm
from centrex.media.tones import silence, sine
from centrex.media.wav import RATE, read_wav, write_wav

log = logging.getLogger(__name__)

MODES = ("auto", "espeak", "tones")
VOICE = "en-us"
ESPEAK_DIR = "espeak-en-us"
BEEP_HZ = 1000.0  # the record tone


def beep() -> Pcm:
    """The tone before recording: 1 kHz for 400 ms, then 100 ms of silence."""
    return np.concatenate([sine(BEEP_HZ, 400, -10.0), silence(100)])


def resample(samples: npt.ArrayLike, rate_in: int, rate_out: int = RATE) -> Pcm:
    """Band-limited resampling by FFT: keep the spectrum below the new Nyquist frequency."""
    x = np.asarray(samples, dtype=np.float64)
    if rate_in == rate_out or len(x) == 0:
        return np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    n_out = max(1, round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x)
    kept = spectrum[: n_out // 2 + 1]
    y = np.fft.irfft(kept, n_out) * (n_out / len(x))
    return np.clip(np.rint(y), -32768, 32767).astype(np.int16)


def _trim_and_level(pcm: Pcm, peak: float = 0.5) -> Pcm:
    """Cut espeak's leading and trailing silence (keep 60 ms) and scale the peak to ``peak`` of full scale."""
    x = pcm.astype(np.float64)
    loud = np.nonzero(np.abs(x) > 300)[0]
    if len(loud) == 0:
        return pcm
    pad = RATE * 60 // 1000
    x = x[max(0, loud[0] - pad) : loud[-1] + pad]
    top = float(np.max(np.abs(x))) or 1.0
    return np.clip(np.rint(x * (peak * 32767 / top)), -32768, 32767).astype(np.int16)


def tone_prompt(key: str) -> Pcm:
    """A stand-in for a spoken phrase: 2 or 3 pips whose pitches come from the key's hash."""
    h = hashlib.sha256(key.encode()).digest()
    parts: list[Pcm] = []
    for i in range(2 + h[0] % 2):
        freq = 400.0 + 25.0 * (h[1 + i] % 22)  # 400..925 Hz, never the 1 kHz record tone
        parts += [sine(freq, 90, -16.0), silence(50)]
    return np.concatenate(parts)


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


def render_espeak(text: str, binary: str, voice: str = VOICE, speed: int = 165) -> Pcm:
    """One phrase through espeak-ng, as 8 kHz samples."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "p.wav"
        subprocess.run(
            [binary, "-v", voice, "-s", str(speed), "-w", str(out), text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        import wave

        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
            data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return _trim_and_level(resample(data, rate))


class PromptLibrary:
    """Phrase key -> 8 kHz samples, cached in memory. ``prepare()`` renders what is missing."""

    def __init__(self, data_dir: Path | str | None, mode: str = "auto") -> None:
        if mode not in MODES:
            raise ValueError(f"prompts: {mode!r} is not one of {', '.join(MODES)}")
        self.mode = mode
        self.directory = Path(data_dir) / "prompts" / ESPEAK_DIR if data_dir is not None else None
        self.spoken = False  # True once espeak prompts are in use
        self._cache: dict[str, Pcm] = {}

    def prepare(self) -> str:
        """Render the missing espeak prompts (blocking: run it in a thread). Returns what is in use:
        "espeak" or "tones"."""
        binary = espeak_binary()
        if self.mode == "tones" or self.directory is None:
            return "tones"
        if binary is None:
            if self.mode == "espeak":
                raise RuntimeError("prompts: espeak-ng is not installed (Debian package espeak-ng)")
            log.info("apps.prompts espeak-ng not installed: tone prompts")
            return "tones"
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest_path = self.directory / "manifest.json"
        try:
            manifest: dict[str, str] = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            manifest = {}
        rendered = 0
        for key, text in TEXTS.items():
            digest = hashlib.sha256(f"{VOICE}|{text}".encode()).hexdigest()[:16]
            path = self.directory / f"{key}.wav"
            if manifest.get(key) == digest and path.exists():
                continue
            write_wav(path, render_espeak(text, binary))
            manifest[key] = digest
            rendered += 1
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        if rendered:
            log.info("apps.prompts rendered %d prompts with espeak-ng into %s", rendered, self.directory)
        self.spoken = True
        self._cache.clear()
        return "espeak"

    def get(self, key: str) -> Pcm:
        pcm = self._cache.get(key)
        if pcm is not None:
            return pcm
        if key not in TEXTS:
            raise KeyError(f"prompt {key!r} is not in the catalogue")
        if self.spoken and self.directory is not None:
            try:
                pcm = read_wav(self.directory / f"{key}.wav")
            except Exception:  # a missing or damaged file: a tone is better than silence
                log.warning("apps.prompts cannot read %s: tone instead", key, exc_info=True)
                pcm = tone_prompt(key)
        else:
            pcm = tone_prompt(key)
        self._cache[key] = pcm
        return pcm

    def phrase(self, keys: tuple[str, ...] | list[str], gap_ms: int = 0) -> Pcm:
        """Several prompts one after the other (a sentence made of parts)."""
        parts: list[Pcm] = []
        for key in keys:
            parts.append(self.get(key))
            if gap_ms:
                parts.append(silence(gap_ms))
        return np.concatenate(parts) if parts else silence(0)
