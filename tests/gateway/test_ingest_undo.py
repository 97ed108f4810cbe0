"""An ingest whose last step (mark READY) fails after all, while the metadata store stays down for the cleanup, must
not leave a READY clip without vectors: the retry returns that clip as acknowledged, so its vectors must be there.

Found by reasoning over the crash test (a metadata service or MariaDB killed between committing READY and replying);
the fakes make the moment deterministic. The cleanup removes the record first and the vectors only after it.
"""

import dataclasses

import pytest

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from gateway.core import GatewayCore, IngestRequest
from gateway.reconcile import Reconciler

COLLECTION = domain.Collection("c", "m", 2)


class Embedder:
    def embed(self, model, content, segments):
        return domain.AudioInfo(1.0, 16000, 1, "wav"), [domain.Segment([1.0, 0.0], 0.0, 1.0)]


class Index:
    def __init__(self) -> None:
        self.vectors: dict[int, list] = {}

    def upsert(self, collection, clip):
        self.vectors[clip.clip_id] = clip.segments

    def delete(self, collection, clip_ids):
        for clip_id in clip_ids:
            self.vectors.pop(clip_id, None)


class Catalog:
    """A store that can commit READY and then lose the reply, and can be down."""

    def __init__(self) -> None:
        self.clips: dict[int, domain.Clip] = {}
        self.requests: dict[str, int] = {}
        self.down = False
        self.lose_ready_reply = False

    def _check(self):
        if self.down:
            raise errors.Unavailable("metadata is down", "PEER_UNAVAILABLE")

    def get_collection(self, name):
        self._check()
        return COLLECTION

    def find_by_content_hash(self, collection, digest):
        self._check()
        for clip in self.clips.values():
            if clip.content_sha256 == digest:
                return clip
        raise errors.NotFound("no such clip")

    def create_clip(self, clip, request_id):
        self._check()
        if request_id in self.requests:
            return self.clips[self.requests[request_id]], False
        created = dataclasses.replace(clip, id=len(self.requests) + 1)
        self.clips[created.id] = created
        self.requests[request_id] = created.id
        return created, True

    def update_clip_state(self, clip_id, state, segment_count=0):
        self._check()
        self.clips[clip_id] = dataclasses.replace(self.clips[clip_id], state=state)
        if self.lose_ready_reply and state is domain.ClipState.READY:
            self.lose_ready_reply = False
            self.down = True  # committed, then the service died before replying, and stays down for a while
            raise errors.Unavailable("metadata died before replying", "PEER_UNAVAILABLE")
        return self.clips[clip_id]

    def delete_clip(self, clip_id):
        self._check()
        return self.clips.pop(clip_id, None) is not None


def test_a_lost_ready_reply_then_a_retry_leaves_the_acknowledged_clip_with_its_vectors():
    catalog, index = Catalog(), Index()
    core = GatewayCore(Embedder(), index, catalog, Reconciler(catalog, index, Embedder()))
    request = IngestRequest("c", b"audio", request_id="r1")
    catalog.lose_ready_reply = True
    with pytest.raises(errors.Unavailable):
        core.ingest(request)
    catalog.down = False  # back; the client retries with the same request id
    result = core.ingest(request)
    assert result.clip.state is domain.ClipState.READY
    assert result.clip.id in index.vectors, "acknowledged READY clip without vectors"


def test_a_failed_ingest_with_the_catalog_up_removes_the_record_and_the_vectors():
    catalog, index = Catalog(), Index()
    core = GatewayCore(Embedder(), index, catalog, Reconciler(catalog, index, Embedder()))

    def fail_ready(*args, **kwargs):
        raise errors.Unavailable("metadata refused", "PEER_UNAVAILABLE")

    catalog.update_clip_state = fail_ready
    with pytest.raises(errors.Unavailable):
        core.ingest(IngestRequest("c", b"audio", request_id="r1"))
    assert catalog.clips == {} and index.vectors == {}
