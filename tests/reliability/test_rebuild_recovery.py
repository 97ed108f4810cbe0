"""A rebuild survives its gateway (issue #16 done-when 3): the four services as processes, a collection of 200 clips
ingested with logmel rebuilt with ge2e, the gateway SIGKILLed in the middle of the job and started again. The job
finishes by itself with 200 clips done, once each; the collection's name then serves ge2e vectors for the same clip
ids, labels and sources, and the metadata and vector stores agree.
"""

import grpc
import pytest
from test_import_job_recovery import ENV, TIMEOUT, State, watch_until

from audiosearch.client import AudioSearchClient
from audiosearch.search.v1 import search_service_pb2 as search_pb2
from audiosearch.search.v1 import search_service_pb2_grpc as search_grpc
from audiosearch.tools import synth
from audiosearch.tools.launcher import SERVICES, Stack

COLLECTION = "rebuilds"
CLIPS = 200


def clip_audio(seed: int) -> bytes:
    """Short clips (1 s), so that ge2e under load keeps the test quick."""
    sound_class = synth.CLASSES[seed % len(synth.CLASSES)]
    return synth.encode(synth.generate(sound_class, 50_000 + seed, 1.0, 16000), 16000, ".wav")


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_rebuild_resumes_after_its_gateway_is_killed_and_switches_once_every_clip_is_done(tmp_path):
    ports = {name: 0 for name in SERVICES}
    with Stack(tmp_path / "data", ports=ports, extra_env=ENV) as stack:
        with AudioSearchClient(stack.gateway_address, timeout_seconds=TIMEOUT) as client:
            client.create_collection(COLLECTION, "logmel")
            audio = {}
            for seed in range(CLIPS):
                clip = client.ingest(
                    clip_audio(seed), COLLECTION, source=f"clip_{seed:03}.wav", sound_class=f"c{seed % 7}"
                )
                audio[clip.clip.id] = clip_audio(seed)
            before = {clip.id: (clip.source, clip.labels.sound_class) for clip in client.list_clips(COLLECTION)}
            assert len(before) == CLIPS

            job = client.rebuild_collection(COLLECTION, "ge2e")
            running = watch_until(client, job.id, 40)
            assert running.state == State.IMPORT_JOB_STATE_RUNNING and running.files_done < CLIPS
            # Until the switch the collection serves with its old model.
            assert client.search(COLLECTION, audio=audio[min(audio)], top_k=1).model == "logmel"

            stack.kill("gateway")
        stack.restart("gateway")

        with AudioSearchClient(stack.gateway_address, timeout_seconds=TIMEOUT) as client:
            final = list(client.watch_import_job(job.id, timeout_seconds=TIMEOUT * 4))[-1]
            assert final.state == State.IMPORT_JOB_STATE_SUCCEEDED, final.error
            assert (final.files_found, final.files_done, final.files_added, final.files_failed) == (CLIPS,) * 3 + (0,)

            (collection,) = [item for item in client.list_collections() if item.name == COLLECTION]
            assert collection.model == "ge2e"
            after = {clip.id: (clip.source, clip.labels.sound_class) for clip in client.list_clips(COLLECTION)}
            assert after == before  # same ids, labels and sources
            with grpc.insecure_channel(stack.services["search"].address) as channel:
                batches = search_grpc.SearchServiceStub(channel).ListClipIds(
                    search_pb2.ListClipIdsRequest(collection=COLLECTION), timeout=TIMEOUT
                )
                vector_ids = [clip_id for batch in batches for clip_id in batch.clip_ids]
            assert sorted(vector_ids) == sorted(before)  # each clip once, and the stores agree
            (row,) = [row for row in client.stats() if row.name == COLLECTION]
            assert (row.ready_clips, row.pending_clips, row.vectors) == (CLIPS, 0, CLIPS)
            for clip_id in list(audio)[:: CLIPS // 5]:
                result = client.search(COLLECTION, audio=audio[clip_id], top_k=1)
                assert result.model == "ge2e" and result.hits[0].clip.id == clip_id
