"""GatewayServicer without sockets: grpc_testing calls it; the real gateway core keeps its records in the real
metadata core (a SQLite file), and its embedder and vector index are small in-memory fakes of their Protocols,
because these tests are about the servicer's translation (the peers over the wire are covered by the other tests).

Errors pass through the servers' ErrorMappingInterceptor (see grpc_testing_support), so a failure is checked as the
caller sees it: status code and ErrorInfo reason.
"""

import hashlib
import math

import grpc
import numpy as np
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.runtime import domain
from audiosearch.sdk import errors
from audiosearch.type.v1 import types_pb2
from gateway.core import RECORDING_SEGMENTS, GatewayCore
from gateway.import_jobs import ImportJobs, JobRunner, new_holder
from gateway.import_pipeline import ImportRun, PipelineSettings
from gateway.reconcile import Reconciler
from gateway.servicer import GatewayServicer
from metadata_service.blobs import FileBlobs
from metadata_service.core import MetadataCore
from metadata_service.import_jobs import ImportJobCore
from metadata_service.job_store import ImportJobStore
from metadata_service.store import open_store

from grpc_testing_support import ServicerCalls

SERVICE = pb2.DESCRIPTOR.services_by_name["GatewayService"]
OK = grpc.StatusCode.OK
Purpose = pb2.CreateCollectionRequest.Purpose
Outcome = pb2.ImportDirectoryProgress.Outcome
MODELS = [
    domain.ModelInfo("tiny", 3, 16000, "COSINE", 0.0, True, "", "three signed bytes"),
    domain.ModelInfo("fingerprint", 4, 8000, "IP", 1.0, True, "", "four signed bytes"),
    domain.ModelInfo("broken", 8, 16000, "COSINE", 0.0, False, "weights missing; import them", ""),
]


class FakeEmbedder:
    """Audio is its own embedding: the first `dimension` bytes as signed integers; content starting "bad" is not
    audio. A clip lasts a hundredth of a second per byte."""

    def list_models(self):
        return list(MODELS)

    def embed(self, model, content, segments):
        if content.startswith(b"bad"):
            raise errors.InvalidArgument(
                "the content is not audio; send a WAV, FLAC, OGG or MP3 file", "UNSUPPORTED_AUDIO"
            )
        dimension = next(info.dimension for info in MODELS if info.name == model)
        vector = np.frombuffer(content[:dimension].ljust(dimension, b"\0"), dtype=np.int8).astype(float).tolist()
        duration = len(content) / 100
        audio = domain.AudioInfo(duration, 16000, 1, "wav")
        if segments.enabled:
            return audio, [domain.Segment(vector, 0.0, segments.window_seconds), domain.Segment(vector, 0.5, duration)]
        return audio, [domain.Segment(vector, 0.0, duration)]


class MemoryIndex:
    """The VectorIndex (and reconcile's) Protocol over dicts; search scores by dot product and records its calls."""

    def __init__(self) -> None:
        self.specs: dict[str, tuple[int, str, str]] = {}
        self.vectors: dict[str, dict[int, list[domain.Segment]]] = {}
        self.searches: list[dict] = []

    def _clips(self, collection):
        if collection not in self.vectors:
            raise errors.NotFound(f"no vector collection {collection!r}", "COLLECTION_NOT_FOUND")
        return self.vectors[collection]

    def ensure_collection(self, name, dimension, metric, index_type):
        self.specs[name] = (dimension, metric, index_type)
        self.vectors.setdefault(name, {})

    def drop_collection(self, name):
        self.vectors.pop(name, None)
        return self.specs.pop(name, None) is not None

    def upsert(self, collection, clip):
        self._clips(collection)[clip.clip_id] = list(clip.segments)

    def upsert_many(self, collection, clips):
        for clip in clips:
            self.upsert(collection, clip)

    def delete(self, collection, clip_ids):
        for clip_id in clip_ids:
            self.vectors.get(collection, {}).pop(clip_id, None)

    def search(self, collection, queries, top_k, search_filter, exclude_clip_ids, search_breadth=0):
        self.searches.append({"filter": search_filter, "exclude": list(exclude_clip_ids), "breadth": search_breadth})
        results = []
        for query in queries:
            hits = [  # each clip once, with its best window, as the search service answers
                max(
                    (
                        domain.Hit(
                            clip_id, float(np.dot(query, segment.vector)), segment.start_seconds, segment.end_seconds
                        )
                        for segment in segments
                    ),
                    key=lambda hit: hit.score,
                )
                for clip_id, segments in self._clips(collection).items()
                if clip_id not in exclude_clip_ids and segments
            ]
            results.append(sorted(hits, key=lambda hit: -hit.score)[:top_k])
        return results

    def count_vectors(self, collection):
        return sum(len(segments) for segments in self._clips(collection).values())

    def get_vectors(self, collection, clip_id):
        return list(self._clips(collection).get(clip_id, []))

    def list_clip_ids(self, collection):
        return sorted(self._clips(collection))


class Catalog(MetadataCore):
    """The metadata core as the gateway's catalog, plus the one call reconcile makes that the metadata client
    spells differently (a state-only ListClips)."""

    def list_clips_in_state(self, collection, state, page_size, page_token):
        return self.list_clips(collection, page_size, page_token, domain.SearchFilter(), state)

    def put_clip_audio(self, clip_id, content):
        return self.audio.put(clip_id, content)[0]

    def put_clips_audio(self, contents):
        return set(self.audio.put_many(contents)[1])

    def read_clip_audio(self, clip_id):
        return self.audio.read(clip_id)

    def remove_orphan_audio(self, min_age_seconds, dry_run):
        return self.audio.remove_orphans(min_age_seconds, dry_run)


@pytest.fixture
def import_root(tmp_path):
    root = tmp_path / "imports"
    root.mkdir()
    return root


@pytest.fixture
def parts(tmp_path, import_root):
    store = open_store(f"sqlite:///{tmp_path}/metadata.db")
    index = MemoryIndex()
    catalog = Catalog(store, FileBlobs(tmp_path / "audio"))
    embedder = FakeEmbedder()
    # Import jobs run in this process, on the metadata service's own job core as their records.
    records = ImportJobCore(ImportJobStore(store), catalog)
    roots = (str(import_root),)
    pipeline = PipelineSettings(concurrency=2, lease_seconds=5.0, import_roots=roots, max_upload_bytes=1024)

    def make_run(job, holder):
        return ImportRun(job, holder, records, embedder, index, catalog, pipeline)

    runner = JobRunner(records, make_run, new_holder(), lease_seconds=5.0, poll_seconds=5.0)
    core = GatewayCore(
        embedder,
        index,
        catalog,
        Reconciler(catalog, index, embedder, min_age_seconds=0.0),
        max_upload_bytes=1024,
        importer=ImportJobs(records, catalog, runner, roots),
    )
    yield core, index
    runner.stop()
    store.close()


@pytest.fixture
def calls(parts) -> ServicerCalls:
    return ServicerCalls(SERVICE, GatewayServicer(parts[0]))


@pytest.fixture
def catalog(parts) -> Catalog:
    return parts[0].catalog


@pytest.fixture
def index(parts) -> MemoryIndex:
    return parts[1]


@pytest.fixture
def tiny(calls) -> str:
    outcome = calls.unary("CreateCollection", pb2.CreateCollectionRequest(name="tiny_sounds", model="tiny"))
    assert outcome.code is OK, outcome.details
    return "tiny_sounds"


def upload(options: pb2.IngestOptions, content: bytes, chunk_bytes: int = 4):
    yield pb2.IngestAudioRequest(options=options)
    for start in range(0, len(content), chunk_bytes):
        yield pb2.IngestAudioRequest(chunk=content[start : start + chunk_bytes])


def ingest(calls, collection, content, **options) -> pb2.IngestAudioResponse:
    outcome = calls.client_stream("IngestAudio", upload(pb2.IngestOptions(collection=collection, **options), content))
    assert outcome.code is OK, outcome.details
    return outcome.response


def signed(*values: int) -> bytes:
    return np.array(values, dtype=np.int8).tobytes()


def test_list_models_maps_every_field(calls):
    models = calls.unary("ListModels", pb2.ListModelsRequest()).response.models
    assert [(m.name, m.dimension, m.sample_rate, m.metric, m.available) for m in models] == [
        ("tiny", 3, 16000, types_pb2.METRIC_COSINE, True),
        ("fingerprint", 4, 8000, types_pb2.METRIC_IP, True),
        ("broken", 8, 16000, types_pb2.METRIC_COSINE, False),
    ]
    assert models[1].min_duration_seconds == 1.0 and models[1].description == "four signed bytes"
    assert models[2].unavailable_reason == "weights missing; import them"


def test_create_collection_maps_model_segments_and_index_type(calls, index):
    request = pb2.CreateCollectionRequest(
        name="voices",
        model="tiny",
        segments=types_pb2.SegmentOptions(window_seconds=2.0, hop_seconds=1.0),
        index_type=types_pb2.INDEX_TYPE_IVF_FLAT,
    )
    outcome = calls.unary("CreateCollection", request)
    assert outcome.code is OK, outcome.details
    collection = outcome.response
    assert (collection.name, collection.model, collection.dimension, collection.metric) == (
        "voices",
        "tiny",
        3,
        types_pb2.METRIC_COSINE,
    )
    assert (collection.segments.window_seconds, collection.segments.hop_seconds) == (2.0, 1.0)
    assert collection.HasField("create_time")
    assert index.specs["voices"] == (3, "COSINE", "IVF_FLAT")


def test_create_collection_by_purpose_enum(calls, index):
    outcome = calls.unary(
        "CreateCollection", pb2.CreateCollectionRequest(name="copies", purpose=Purpose.PURPOSE_RECORDINGS)
    )
    assert outcome.code is OK, outcome.details
    assert (outcome.response.model, outcome.response.metric) == ("fingerprint", types_pb2.METRIC_IP)
    segments = outcome.response.segments
    assert (segments.window_seconds, segments.hop_seconds) == (
        RECORDING_SEGMENTS.window_seconds,
        RECORDING_SEGMENTS.hop_seconds,
    )
    assert index.specs["copies"] == (4, "IP", "HNSW")
    speakers = calls.unary(
        "CreateCollection", pb2.CreateCollectionRequest(name="who", purpose=Purpose.PURPOSE_SPEAKERS)
    )
    assert speakers.failure == (grpc.StatusCode.FAILED_PRECONDITION, "NO_MODEL_FOR_PURPOSE")
    unknown = calls.unary("CreateCollection", pb2.CreateCollectionRequest(name="what", purpose=99))
    assert unknown.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PURPOSE")


@pytest.mark.parametrize(
    "request_, code, reason",
    [
        (pb2.CreateCollectionRequest(name="a", model="nope"), "NOT_FOUND", "UNKNOWN_MODEL"),
        (pb2.CreateCollectionRequest(name="a", model="broken"), "FAILED_PRECONDITION", "MODEL_UNAVAILABLE"),
        (pb2.CreateCollectionRequest(name="a"), "INVALID_ARGUMENT", "MODEL_REQUIRED"),
        (pb2.CreateCollectionRequest(name="tiny_sounds", model="tiny"), "ALREADY_EXISTS", "COLLECTION_EXISTS"),
    ],
)
def test_create_collection_failures_carry_code_and_reason(calls, tiny, request_, code, reason):
    assert calls.unary("CreateCollection", request_).failure == (grpc.StatusCode[code], reason)


def test_list_collections_pages_by_token(calls):
    for name in ("b_coll", "a_coll", "c_coll"):
        calls.unary("CreateCollection", pb2.CreateCollectionRequest(name=name, model="tiny"))
    first = calls.unary("ListCollections", pb2.ListCollectionsRequest(page_size=2)).response
    assert [c.name for c in first.collections] == ["a_coll", "b_coll"] and first.next_page_token
    rest = calls.unary("ListCollections", pb2.ListCollectionsRequest(page_token=first.next_page_token)).response
    assert [c.name for c in rest.collections] == ["c_coll"] and not rest.next_page_token


def test_drop_collection_counts_the_clips_and_drops_the_vectors(calls, tiny, index):
    ingest(calls, tiny, signed(1, 0, 0))
    ingest(calls, tiny, signed(0, 1, 0))
    dropped = calls.unary("DropCollection", pb2.DropCollectionRequest(name=tiny))
    assert dropped.code is OK and dropped.response.deleted_clips == 2
    assert tiny not in index.specs
    again = calls.unary("DropCollection", pb2.DropCollectionRequest(name=tiny))
    assert again.failure == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")


def test_ingest_audio_maps_options_and_returns_the_ready_clip(calls, tiny, index):
    content = signed(3, -4, 0) + b"rest of the file"
    labels = types_pb2.Labels(speaker="alice", sound_class="speech", tags=["studio", "en"])
    response = ingest(calls, tiny, content, source="alice.wav", labels=labels, request_id="upload-1")
    clip = response.clip
    assert response.duplicate is False and clip.id > 0
    assert (clip.collection, clip.source, clip.content_sha256) == (
        tiny,
        "alice.wav",
        hashlib.sha256(content).hexdigest(),
    )
    assert clip.labels == labels
    assert clip.state == types_pb2.CLIP_STATE_READY and clip.segment_count == 1
    assert clip.audio == types_pb2.AudioInfo(
        duration_seconds=len(content) / 100, sample_rate=16000, channels=1, format="wav"
    )
    assert clip.HasField("create_time") and clip.HasField("update_time")
    assert [list(segment.vector) for segment in index.vectors[tiny][clip.id]] == [[3.0, -4.0, 0.0]]
    again = ingest(calls, tiny, content, source="copy.wav")
    assert again.duplicate is True and again.clip.id == clip.id and again.clip.source == "alice.wav"


def test_ingest_audio_failures_carry_code_and_reason(calls, tiny):
    def failure(requests):
        return calls.client_stream("IngestAudio", requests).failure

    options = pb2.IngestOptions(collection=tiny)
    assert failure([pb2.IngestAudioRequest(chunk=b"abc")]) == (grpc.StatusCode.INVALID_ARGUMENT, "OPTIONS_FIRST")
    assert failure(upload(options, b"")) == (grpc.StatusCode.INVALID_ARGUMENT, "EMPTY_AUDIO")
    assert failure(upload(options, b"bad file")) == (grpc.StatusCode.INVALID_ARGUMENT, "UNSUPPORTED_AUDIO")
    assert failure(upload(options, b"x" * 1025)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "AUDIO_TOO_LARGE")
    elsewhere = upload(pb2.IngestOptions(collection="nowhere"), b"abc")
    assert failure(elsewhere) == (grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND")
    listed = calls.unary("ListClips", pb2.ListClipsRequest(collection=tiny)).response
    assert list(listed.clips) == []  # nothing was recorded by a refused upload


def test_import_directory_streams_one_progress_per_file(calls, tiny, import_root):
    (import_root / "cats").mkdir()
    (import_root / "dogs").mkdir()
    (import_root / "cats" / "meow.wav").write_bytes(signed(1, 2, 3))
    (import_root / "dogs" / "bad.wav").write_bytes(b"bad audio")
    (import_root / "dogs" / "bark.wav").write_bytes(signed(1, 2, 3))  # the same audio as meow.wav
    (import_root / "dogs" / "notes.txt").write_bytes(b"not an audio file name")
    request = pb2.ImportDirectoryRequest(
        collection=tiny,
        path=str(import_root),
        recursive=True,
        labels=types_pb2.Labels(speaker="zoo"),
        label_from_parent=True,
    )
    progress, outcome = calls.server_stream("ImportDirectory", request)
    assert outcome.code is OK, outcome.details
    assert [(p.path, p.outcome, p.done, p.total) for p in progress] == [
        (str(import_root / "cats" / "meow.wav"), Outcome.OUTCOME_ADDED, 1, 3),
        (str(import_root / "dogs" / "bad.wav"), Outcome.OUTCOME_FAILED, 2, 3),
        (str(import_root / "dogs" / "bark.wav"), Outcome.OUTCOME_DUPLICATE, 3, 3),
    ]
    added, failed, duplicate = progress
    assert (added.clip.source, added.clip.labels.speaker, added.clip.labels.sound_class) == (
        "cats/meow.wav",
        "zoo",
        "cats",
    )
    assert added.error == "" and duplicate.clip.id == added.clip.id
    assert not failed.HasField("clip") and failed.error.startswith("INVALID_ARGUMENT: the content is not audio")


def test_import_directory_failures_end_the_stream_with_code_and_reason(calls, tiny, import_root, tmp_path):
    (import_root / "one.wav").write_bytes(signed(1, 0, 0))
    outside = calls.server_stream("ImportDirectory", pb2.ImportDirectoryRequest(collection=tiny, path=str(tmp_path)))
    assert outside[0] == [] and outside[1].failure == (grpc.StatusCode.PERMISSION_DENIED, "PATH_OUTSIDE_ROOTS")
    a_file = pb2.ImportDirectoryRequest(collection=tiny, path=str(import_root / "one.wav"))
    assert calls.server_stream("ImportDirectory", a_file)[1].failure == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "NOT_A_FOLDER",
    )
    nowhere = pb2.ImportDirectoryRequest(collection="nowhere", path=str(import_root))
    assert calls.server_stream("ImportDirectory", nowhere)[1].failure == (
        grpc.StatusCode.NOT_FOUND,
        "COLLECTION_NOT_FOUND",
    )


@pytest.fixture
def three_clips(calls, tiny) -> dict[str, pb2.IngestAudioResponse]:
    """Clips whose vectors score 1, 0 and -1 against the query (1, 0, 0)."""
    return {
        "same": ingest(calls, tiny, signed(1, 0, 0), labels=types_pb2.Labels(speaker="alice")).clip,
        "square": ingest(calls, tiny, signed(0, 1, 0), labels=types_pb2.Labels(speaker="bob")).clip,
        "opposite": ingest(calls, tiny, signed(-1, 0, 0), labels=types_pb2.Labels(speaker="alice")).clip,
    }


def hit_ids(response: pb2.SearchAudioResponse) -> list[int]:
    return [hit.clip.id for hit in response.hits]


def test_search_by_vector_maps_hits_filter_and_breadth(calls, tiny, three_clips, index):
    speakers = types_pb2.SearchFilter(speakers=["alice", "bob"], tags_any=["x"], max_duration_seconds=9.5)
    request = pb2.SearchAudioRequest(
        collection=tiny, vector=pb2.VectorQuery(values=[1, 0, 0]), top_k=5, filter=speakers, search_breadth=77
    )
    outcome = calls.unary("SearchAudio", request)
    assert outcome.code is OK, outcome.details
    response = outcome.response
    assert response.model == "tiny"
    assert hit_ids(response) == [three_clips[name].id for name in ("same", "square", "opposite")]
    best = response.hits[0]
    assert best.clip == three_clips["same"]
    assert (best.score, best.start_seconds, best.end_seconds) == (1.0, 0.0, pytest.approx(0.03))
    assert [hit.score for hit in response.hits] == [1.0, 0.0, -1.0]
    [search] = index.searches
    assert search["filter"] == domain.SearchFilter(("alice", "bob"), (), ("x",), 0.0, 9.5)
    assert search["breadth"] == 77 and search["exclude"] == []


def test_min_score_applies_only_when_set(calls, tiny, three_clips):
    query = {"collection": tiny, "vector": pb2.VectorQuery(values=[1, 0, 0]), "top_k": 5}
    unset = calls.unary("SearchAudio", pb2.SearchAudioRequest(**query)).response
    assert len(unset.hits) == 3
    zero = calls.unary("SearchAudio", pb2.SearchAudioRequest(min_score=0.0, **query)).response
    assert hit_ids(zero) == [three_clips["same"].id, three_clips["square"].id]
    nan = calls.unary("SearchAudio", pb2.SearchAudioRequest(min_score=math.nan, **query))
    assert nan.failure == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_MIN_SCORE")


def test_search_by_clip_id_and_by_audio(calls, tiny, three_clips, index):
    by_clip = calls.unary(
        "SearchAudio", pb2.SearchAudioRequest(collection=tiny, clip_id=three_clips["opposite"].id, top_k=5)
    ).response
    assert hit_ids(by_clip) == [three_clips["square"].id, three_clips["same"].id]  # the clip itself is excluded
    assert index.searches[-1]["exclude"] == [three_clips["opposite"].id]
    by_audio = calls.unary(
        "SearchAudio", pb2.SearchAudioRequest(collection=tiny, audio=signed(0, 2, 0), top_k=1)
    ).response
    assert hit_ids(by_audio) == [three_clips["square"].id] and by_audio.hits[0].score == 2.0


@pytest.mark.parametrize(
    "fields, code, reason",
    [
        ({"top_k": 1}, "INVALID_ARGUMENT", "QUERY_REQUIRED"),
        ({"top_k": 1, "vector": pb2.VectorQuery(values=[1, 0])}, "INVALID_ARGUMENT", "DIMENSION_MISMATCH"),
        ({"top_k": 1, "audio": b""}, "INVALID_ARGUMENT", "EMPTY_AUDIO"),
        ({"top_k": 1, "clip_id": 12345}, "NOT_FOUND", "CLIP_NOT_FOUND"),
    ],
)
def test_search_failures_carry_code_and_reason(calls, tiny, fields, code, reason):
    outcome = calls.unary("SearchAudio", pb2.SearchAudioRequest(collection=tiny, **fields))
    assert outcome.failure == (grpc.StatusCode[code], reason)


def test_search_refuses_a_top_k_of_zero(calls, tiny):
    outcome = calls.unary(
        "SearchAudio", pb2.SearchAudioRequest(collection=tiny, vector=pb2.VectorQuery(values=[1, 0, 0]))
    )
    assert outcome.failure[0] is grpc.StatusCode.INVALID_ARGUMENT and "top_k" in outcome.details


def test_get_list_and_delete_clips(calls, tiny, three_clips, index):
    same = three_clips["same"]
    got = calls.unary("GetClip", pb2.GetClipRequest(id=same.id))
    assert got.code is OK and got.response == same
    alice = calls.unary(
        "ListClips", pb2.ListClipsRequest(collection=tiny, filter=types_pb2.SearchFilter(speakers=["alice"]))
    ).response
    assert [clip.id for clip in alice.clips] == [same.id, three_clips["opposite"].id]
    page = calls.unary("ListClips", pb2.ListClipsRequest(collection=tiny, page_size=2)).response
    assert len(page.clips) == 2 and page.next_page_token
    assert calls.unary("DeleteClip", pb2.DeleteClipRequest(id=same.id)).response.deleted is True
    assert same.id not in index.vectors[tiny]
    again = calls.unary("DeleteClip", pb2.DeleteClipRequest(id=same.id))
    assert again.code is OK and again.response.deleted is False
    gone = calls.unary("GetClip", pb2.GetClipRequest(id=same.id))
    assert gone.failure == (grpc.StatusCode.NOT_FOUND, "CLIP_NOT_FOUND")


def pending_clip(catalog, collection, seed: str) -> domain.Clip:
    """A clip record whose ingest stopped before READY (no vectors), as a crash leaves it."""
    draft = domain.Clip(0, collection, hashlib.sha256(seed.encode()).hexdigest())
    return catalog.create_clip(draft)[0]


def test_get_stats_counts_every_collection(calls, tiny, catalog, index):
    ingest(calls, tiny, signed(1, 0, 0))
    pending_clip(catalog, tiny, "half done")
    calls.unary("CreateCollection", pb2.CreateCollectionRequest(name="lost", model="tiny"))
    index.drop_collection("lost")  # its vectors are gone, as after a drop cut short
    outcome = calls.unary("GetStats", pb2.GetStatsRequest())
    assert outcome.code is OK, outcome.details
    lost, sounds = outcome.response.collections
    assert (
        sounds.name,
        sounds.model,
        sounds.ready_clips,
        sounds.pending_clips,
        sounds.failed_clips,
        sounds.vectors,
    ) == (tiny, "tiny", 1, 1, 0, 1)
    assert sounds.problem == ""
    assert lost.name == "lost" and lost.problem.startswith("COLLECTION_NOT_FOUND")


def test_reconcile_reports_per_collection_and_honours_dry_run(calls, tiny, catalog, index):
    pending = pending_clip(catalog, tiny, "crashed ingest")
    ready = catalog.update_clip_state(pending_clip(catalog, tiny, "vectors lost").id, domain.ClipState.READY)
    dry = calls.unary("Reconcile", pb2.ReconcileRequest(collection=tiny, dry_run=True))
    assert dry.code is OK, dry.details
    [report] = dry.response.collections
    assert (report.name, report.pending_rolled_back, list(report.ready_without_vectors)) == (tiny, 1, [ready.id])
    assert not report.vectors_recreated
    assert catalog.get_clip(pending.id)  # a dry run changes nothing
    young = calls.unary("Reconcile", pb2.ReconcileRequest(collection=tiny, min_age_seconds=3600)).response
    assert young.collections[0].pending_rolled_back == 0  # nothing is an hour old
    done = calls.unary("Reconcile", pb2.ReconcileRequest()).response
    assert [(r.name, r.pending_rolled_back) for r in done.collections] == [(tiny, 1)]
    assert calls.unary("GetClip", pb2.GetClipRequest(id=pending.id)).failure[0] is grpc.StatusCode.NOT_FOUND
    bad_age = calls.unary("Reconcile", pb2.ReconcileRequest(min_age_seconds=-1))
    assert bad_age.failure == (grpc.StatusCode.INVALID_ARGUMENT, "BAD_MIN_AGE")
