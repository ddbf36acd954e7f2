"""Prompts: espeak-ng renders the catalogue once into the data dir at 8 kHz (when installed), and
tone prompts stand in without it; nothing is fetched at run time."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from centrex.apps.app_config import AppConfig
from centrex.apps.phrases import TEXTS, say_digits, say_number
from centrex.apps.prompts import PromptLibrary, beep, resample, tone_prompt
from centrex.config import Settings
from centrex.media.tones import sine
from centrex.media.wav import read_wav
from tests.apps.pcap import dominant_hz


def test_tone_prompts_differ_by_phrase_and_never_sound_like_the_beep() -> None:
    pips = {key: tone_prompt(key).tobytes() for key in TEXTS}
    assert len(set(pips.values())) > len(TEXTS) * 0.9
    for key in ("vm-main-menu", "digit-7", "num-20"):
        assert abs(dominant_hz(tone_prompt(key)) - 1000.0) > 40
    assert abs(dominant_hz(beep()) - 1000.0) < 5


def test_resampling_keeps_pitch_and_length() -> None:
    x = sine(1000.0, 1000, rate=22050)
    y = resample(x, 22050, 8000)
    assert len(y) == 8000 and abs(dominant_hz(y) - 1000.0) < 3


def test_numbers_and_digits_are_said_with_catalogue_prompts() -> None:
    assert say_number(0) == ("num-0",)
    assert say_number(47) == ("num-40", "num-7")
    assert say_number(105) == ("digit-1", "digit-0", "digit-5")
    assert say_digits("+1 (217) 555*#") == tuple(
        f"digit-{d}" for d in ("1", "2", "1", "7", "5", "5", "5", "star", "pound")
    )
    for key in (*say_number(99), *say_digits("0123456789*#")):
        assert key in TEXTS


def test_tones_mode_writes_nothing(tmp_path: Path) -> None:
    lib = PromptLibrary(tmp_path, "tones")
    assert lib.prepare() == "tones"
    assert not (tmp_path / "prompts").exists()
    assert len(lib.phrase(("vm-goodbye", "vm-goodbye"), gap_ms=100)) == 2 * len(lib.get("vm-goodbye")) + 1600
    with pytest.raises(KeyError):
        lib.get("not-a-prompt")


def test_espeak_required_but_missing_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on this PATH
    with pytest.raises(RuntimeError, match="espeak-ng"):
        PromptLibrary(tmp_path, "espeak").prepare()
    assert PromptLibrary(tmp_path, "auto").prepare() == "tones"


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (scripts/test installs it)"
)
def test_espeak_renders_the_catalogue_once_at_8_khz(tmp_path: Path) -> None:
    lib = PromptLibrary(tmp_path, "auto")
    assert lib.prepare() == "espeak"
    folder = tmp_path / "prompts" / "espeak-en-us"
    files = {p.stem for p in folder.glob("*.wav")}
    assert files == set(TEXTS)
    speech = read_wav(folder / "vm-enter-pin.wav")  # read_wav refuses anything but 8 kHz mono 16-bit
    assert 1.0 < len(speech) / 8000 < 6.0
    assert np.abs(speech).max() > 8000
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.wav")}
    assert PromptLibrary(tmp_path, "auto").prepare() == "espeak"
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.wav")} == stamps  # nothing rendered again
    assert len(lib.get("vm-enter-pin")) == len(speech)


def test_app_config_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_host="mail.example.net", smtp_from="pbx@example.net")
    config = AppConfig.from_settings(settings, prompts="tones")
    assert config.smtp is not None and config.smtp.host == "mail.example.net"
    assert config.mail_from == "voicemail@example.net" and config.prompts == "tones"
    assert AppConfig.from_settings(Settings(data_dir=tmp_path)).smtp is None
