"""Compare the numpy `ge2e` model with resemblyzer itself on real speech, with and without resemblyzer's VAD.

Not run in CI; needs the reference environment described in scripts/make_ge2e_reference.py:

    /tmp/refenv/bin/python scripts/compare_ge2e_reference.py /work/shared/data/librispeech-sample

Prints, over the LibriSpeech half-utterances of bench/speaker_eval.py, the cosine between this project's vectors
and resemblyzer's (a) on the same input (normalize_volume only) and (b) after its full preprocess_wav (webrtcvad
silence trimming too), and the precision@1 of each.
"""

import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.speaker_eval import load_halves, precision_at_1  # noqa: E402
from embedding_service.models.ge2e import Ge2eModel  # noqa: E402


def main() -> None:
    from resemblyzer import VoiceEncoder, preprocess_wav
    from resemblyzer.audio import normalize_volume
    from resemblyzer.hparams import audio_norm_target_dBFS

    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/librispeech-sample")
    encoder = VoiceEncoder("cpu", verbose=False)
    model = Ge2eModel()
    halves, owners = load_halves(folder, 16000)
    ours = np.concatenate([model.embed_batch(halves[i : i + 32]) for i in range(0, len(halves), 32)])
    plain = np.stack(
        [encoder.embed_utterance(normalize_volume(h, audio_norm_target_dBFS, increase_only=True)) for h in halves]
    )
    vad = np.stack([encoder.embed_utterance(preprocess_wav(h)) for h in halves])
    for label, reference in (("same preprocessing (no VAD)", plain), ("resemblyzer preprocess_wav (VAD)", vad)):
        cosines = np.sum(ours * reference, axis=1)
        print(
            f"{label}: cosine to ours min {cosines.min():.5f} median {np.median(cosines):.5f} "
            f"mean {cosines.mean():.5f}; resemblyzer precision@1 {precision_at_1(reference, owners):.4f}"
        )
    print(f"ours: precision@1 {precision_at_1(ours, owners):.4f} over {len(halves)} halves")


if __name__ == "__main__":
    main()
