"""Word-like sounds cut at the pauses of a clip (`audiosearch eval --cut-words`)."""

import numpy as np
import pytest

from audiosearch.tools import synth
from audiosearch.tools.evaluation.dataset import Item, cut_words

RATE = 16000


def test_sounds_between_pauses_of_the_asked_length_become_clips_of_their_own():
    pause = np.zeros(RATE // 5, np.float32)
    sounds = [
        synth.generate("vowel", seed, seconds, RATE) for seed, seconds in ((1, 0.5), (2, 0.2), (3, 1.5), (4, 0.8))
    ]
    samples = np.concatenate([pause, sounds[0], pause, sounds[1], pause, sounds[2], pause, sounds[3]])
    words = cut_words([Item("talk.flac", "spk", samples, RATE, b"")])
    # The 0.2-s and 1.5-s sounds are outside 0.3-1 s; the last one ends with the clip.
    assert [word.samples.size / RATE for word in words] == pytest.approx([0.5, 0.8], abs=0.02)
    assert [word.name for word in words] == ["talk.flac@0.20", "talk.flac@3.00"]
    assert all(word.label == word.name and word.content[:4] == b"RIFF" for word in words)
    np.testing.assert_array_equal(words[0].samples, sounds[0][: words[0].samples.size])
