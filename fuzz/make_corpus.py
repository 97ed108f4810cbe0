"""Seed corpus for fuzz_decode.py: short valid clips in every format the decoder reads, and a few broken ones."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audiosearch.tools import synth  # noqa: E402


def main() -> None:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "fuzz" / "corpus")
    folder.mkdir(parents=True, exist_ok=True)
    for index, (suffix, rate) in enumerate(
        [(".wav", 8000), (".wav", 44100), (".flac", 16000), (".ogg", 22050), (".mp3", 32000)]
    ):
        content = synth.encode(synth.generate(synth.CLASSES[index], index, 0.3, rate), rate, suffix)
        (folder / f"seed{index}{suffix}").write_bytes(content)
        (folder / f"cut{index}{suffix}").write_bytes(content[: len(content) // 2])
    print(f"corpus in {folder}")


if __name__ == "__main__":
    main()
