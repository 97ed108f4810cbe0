"""Reference vectors for the `ge2e` model, computed with resemblyzer's own code (torch, librosa): test data.

Not run in CI. It needs a throwaway environment with the reference implementation, then writes
tests/embedding/data/ge2e_reference.json (clip recipes for audiosearch.tools.synth plus resemblyzer's vectors):

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch==2.13.0 resemblyzer==0.1.4 librosa webrtcvad soundfile "setuptools<81"
    /tmp/refenv/bin/python scripts/make_ge2e_reference.py

The clips get the preprocessing the `ge2e` model applies: resemblyzer's normalize_volume (-30 dBFS, increase only),
then this project's trim_long_silences (an energy vote in place of webrtcvad, whose C code has no numpy twin), then
resemblyzer's VoiceEncoder.embed_utterance (rate 1.3, min_coverage 0.75) for mel, partials, LSTM and averaging.
"""

import importlib.metadata
import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audiosearch.tools import synth  # noqa: E402
from embedding_service.models.ge2e import trim_long_silences  # noqa: E402

OUTPUT = ROOT / "tests" / "embedding" / "data" / "ge2e_reference.json"
# Durations cover one padded partial, several partials, and a dropped under-covered last partial; the 0.01 gain
# makes normalize_volume raise the level; the gap of silence is trimmed.
CLIPS = (
    {"sound_class": "vowel", "seed": 11, "duration_seconds": 1.0, "gain": 1.0},
    {"sound_class": "vowel", "seed": 12, "duration_seconds": 2.5, "gain": 1.0},
    {"sound_class": "vowel", "seed": 13, "duration_seconds": 4.0, "gain": 0.01},
    {"sound_class": "vowel", "seed": 14, "duration_seconds": 6.3, "gain": 1.0},
    {"sound_class": "chirp", "seed": 15, "duration_seconds": 3.0, "gain": 1.0},
    {"sound_class": "vowel", "seed": 16, "duration_seconds": 3.0, "gain": 1.0, "gap_seconds": 1.5},
)


def clip_samples(recipe: dict) -> np.ndarray:
    """The 16-kHz clip a recipe describes (the tests rebuild it the same way)."""
    samples = synth.generate(recipe["sound_class"], recipe["seed"], recipe["duration_seconds"], 16000)
    samples = (samples * np.float32(recipe["gain"])).astype(np.float32)
    # An optional stretch of digital silence in the middle, which trimming removes.
    gap = np.zeros(int(round(recipe.get("gap_seconds", 0.0) * 16000)), dtype=np.float32)
    return np.concatenate([samples[: samples.size // 2], gap, samples[samples.size // 2 :]])


def main() -> None:
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume
    from resemblyzer.hparams import audio_norm_target_dBFS

    encoder = VoiceEncoder("cpu", verbose=False)
    clips = []
    for recipe in CLIPS:
        wav = normalize_volume(clip_samples(recipe), audio_norm_target_dBFS, increase_only=True)
        wav = trim_long_silences(wav.astype(np.float32))
        vector = encoder.embed_utterance(wav.astype(np.float32))
        clips.append({**recipe, "vector": [float(value) for value in vector]})
    versions = {name: importlib.metadata.version(name) for name in ("resemblyzer", "torch", "librosa", "numpy")}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(
        json.dumps(
            {
                "about": "resemblyzer VoiceEncoder.embed_utterance(trim_long_silences(normalize_volume(clip, -30, "
                "increase_only=True))), clip = audiosearch.tools.synth.generate(sound_class, seed, duration_seconds, "
                "16000) * gain with gap_seconds of silence in the middle; "
                "made by scripts/make_ge2e_reference.py",
                "versions": versions,
                "clips": clips,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {len(clips)} reference vectors to {OUTPUT.relative_to(ROOT)} ({versions})")


if __name__ == "__main__":
    main()
