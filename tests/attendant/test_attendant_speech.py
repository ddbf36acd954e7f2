"""The attendant's own texts (greetings, option labels, names) spoken by espeak-ng once and kept as
8 kHz WAVs under the data dir; without espeak (or in tone mode) each text is a distinct tone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from centrex.apps.attendant import Speaker
from centrex.apps.prompts import PromptLibrary, espeak_binary, tone_prompt


def test_tone_mode_gives_each_text_its_own_pattern(tmp_path: Path) -> None:
    speaker = Speaker(PromptLibrary(tmp_path, "tones"))
    a, b = speaker.say("For sales, press 1."), speaker.say("For support, press 2.")
    assert np.array_equal(a, tone_prompt("For sales, press 1."))
    assert not np.array_equal(a, b) or len(a) != len(b)
    assert not (tmp_path / "prompts" / "attendant").exists()


@pytest.mark.skipif(espeak_binary() is None, reason="espeak-ng is not installed")
def test_espeak_renders_a_text_once_into_the_data_dir(tmp_path: Path) -> None:
    prompts = PromptLibrary(tmp_path, "auto")
    prompts.spoken = True  # as after prepare(); the catalogue itself is not needed here
    pcm = Speaker(prompts).say("Thank you for calling Acme.")
    assert len(pcm) > 8000 * 0.8  # over 0.8 s of speech at 8 kHz
    files = list((tmp_path / "prompts" / "attendant").glob("*.wav"))
    assert len(files) == 1
    again = Speaker(prompts).say("Thank you for calling Acme.")  # a new process reads the file
    assert np.array_equal(again, pcm)
