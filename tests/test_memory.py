"""The services' allocator thresholds: the big short-lived blocks of their work reuse freed memory."""

import subprocess
import sys

# Run in a fresh process: a test process's heap, grown and fragmented by earlier tests, hides fresh-page faults.
_MEASURE = """
import os, resource, sys
from audiosearch.metadata.v1 import metadata_service_pb2 as metadata_pb2
from audiosearch.runtime import memory
from audiosearch.sdk.upload import MAX_BATCH_BYTES

assert memory.set_allocator_thresholds(getattr(memory, sys.argv[1]))  # glibc, as in the services' image
contents = [os.urandom(160_044) for _ in range(MAX_BATCH_BYTES // 160_044)]  # 5-s 16-kHz 16-bit WAVs


def round_trip():
    clips = [metadata_pb2.ClipContent(clip_id=index, content=content) for index, content in enumerate(contents)]
    sent = metadata_pb2.BatchPutClipAudioRequest(clips=clips).SerializeToString()
    return [clip.content for clip in metadata_pb2.BatchPutClipAudioRequest.FromString(sent).clips]


for _ in range(3):
    round_trip()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    round_trip()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / (5 * len(contents)))
"""


def _fresh_pages_per_clip(thresholds: str) -> float:
    """Page faults per clip of a full batch of kept audio built, serialized and parsed (the gateway's and the metadata
    service's work on an import job's batch), after the first batches."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, thresholds], capture_output=True, text=True, check=True)
    return float(done.stdout)


def test_a_batch_of_kept_audio_reuses_freed_memory_instead_of_fresh_pages():
    """With the embedding service's thresholds (trim at 8 MiB) the batch's ~16 MB of freed blocks go back to the OS
    each time and come back as fresh pages: ~190 faults per clip, 0.67 ms of CPU against 0.17."""
    assert _fresh_pages_per_clip("DECODING") > 50
    assert _fresh_pages_per_clip("MESSAGES") < 5
