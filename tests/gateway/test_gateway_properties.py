"""Property tests: random input to every public RPC of the gateway gets an expected status code, never UNKNOWN or
INTERNAL, and leaves the service healthy.

Inputs: random bytes, WAV headers that lie (frame counts, data sizes, rates, channels, sample widths), float audio
with NaN, infinity and extreme values at random rates and lengths, and random field values (collection names,
top_k, page tokens, filters, ids, vectors with NaN...).

Example counts come from the hypothesis profile: `ci` (the default, bounded for the test run) or `full`
(HYPOTHESIS_PROFILE=full: over 10,000 inputs across the RPCs). The counts are printed at the end of the module.
"""

import base64
import collections
import io
import math
import os
import re
import struct
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
import soundfile
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import import_job_service_pb2 as jobs_pb2
from audiosearch.gateway.v1 import import_job_service_pb2_grpc as jobs_grpc
from audiosearch.gateway.v1 import speaker_service_pb2 as spb2
from audiosearch.gateway.v1 import speaker_service_pb2_grpc as spb2_grpc
from audiosearch.type.v1 import types_pb2

from gateway_support import TIMEOUT, audio_file, ingest, upload

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    "full", max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
# The full profile leaves hundreds of collections behind, and GetStats counts each: more time than one test gets.
pytestmark = pytest.mark.timeout(3600 if PROFILE == "full" else 300)

# What bad input may get. UNKNOWN, INTERNAL, DATA_LOSS or UNIMPLEMENTED would be a bug.
EXPECTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.OUT_OF_RANGE,
}
COUNTS: collections.Counter = collections.Counter()
# Other tests of the session share this stack: never delete or drop what they own.
_OTHERS = re.compile(r"[a-z]+_\d+")

int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
any_floats = st.floats(allow_nan=True, allow_infinity=True, width=32)
doubles = st.floats(allow_nan=True, allow_infinity=True)
short_text = st.text(max_size=40)
label_text = st.one_of(
    short_text, st.text(min_size=250, max_size=300), st.sampled_from(["", "dog", "a\x00b", '"or 1==1'])
)


@pytest.fixture(scope="module")
def target(gateway, new_collection, request):
    """A collection with a few clips, the names the strategies draw from, and the counts printed at the end."""
    name = new_collection("fz")
    clip_ids = [ingest(gateway, name, audio_file("tone", seed, ".wav")).clip.id for seed in range(3)]
    yield name, clip_ids
    lines = ", ".join(f"{rpc} {count}" for rpc, count in sorted(COUNTS.items()))
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print(f"\nproperty inputs ({PROFILE} profile): {sum(COUNTS.values())} in total: {lines}")


def check(rpc: str, call) -> grpc.StatusCode:
    COUNTS[rpc] += 1
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() in EXPECTED, f"{rpc}: {error.code()} {error.details()}"
        return error.code()
    return grpc.StatusCode.OK


def collection_names(target_name: str):
    return st.one_of(
        st.just(target_name), short_text, st.sampled_from(["", "x" * 65, "1abc", "a-b", "nope_collection"])
    )


def labels():
    return st.builds(
        types_pb2.Labels, speaker=label_text, sound_class=label_text, tags=st.lists(label_text, max_size=40)
    )


def search_filters():
    return st.builds(
        types_pb2.SearchFilter,
        speakers=st.lists(label_text, max_size=5),
        sound_classes=st.lists(label_text, max_size=5),
        tags_any=st.lists(label_text, max_size=5),
        min_duration_seconds=doubles,
        max_duration_seconds=doubles,
    )


@st.composite
def lying_wav(draw) -> bytes:
    """A RIFF/WAVE file whose header fields are random: sizes, format, channels, rate, widths, data length."""
    channels = draw(st.one_of(st.integers(0, 70), st.integers(0, 65535)))
    rate = draw(st.one_of(st.sampled_from([0, 1, 8000, 16000, 44100, 384000, 384001]), st.integers(0, 2**32 - 1)))
    bits = draw(st.one_of(st.sampled_from([0, 8, 16, 24, 32, 64]), st.integers(0, 65535)))
    audio_format = draw(st.sampled_from([1, 3, 0xFFFE, 0, 2, 6, 7, draw(st.integers(0, 65535))]))
    block_align = draw(st.one_of(st.just(max(1, channels * bits // 8) & 0xFFFF), st.integers(0, 65535)))
    payload = draw(st.binary(max_size=4096))
    data_size = draw(st.one_of(st.just(len(payload)), st.integers(0, 2**32 - 1), st.sampled_from([0, 0xFFFFFFFF])))
    fmt = struct.pack("<HHIIHH", audio_format, channels, rate, (rate * block_align) & 0xFFFFFFFF, block_align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if draw(st.booleans()):  # a fact chunk with a lying frame count
        body += b"fact" + struct.pack("<II", 4, draw(st.integers(0, 2**32 - 1)))
    body += b"data" + struct.pack("<I", data_size) + payload
    riff_size = draw(st.one_of(st.just(len(body)), st.integers(0, 2**32 - 1)))
    return b"RIFF" + struct.pack("<I", riff_size) + body


@st.composite
def float_audio(draw) -> bytes:
    """Float WAV/FLAC at a random rate and length whose samples may be NaN, infinite, huge, tiny or silent."""
    rate = draw(st.one_of(st.sampled_from([1, 100, 8000, 16000, 32000, 48000, 192000, 384000]), st.integers(1, 400000)))
    length = draw(st.integers(0, 4000))
    kind = draw(st.sampled_from(["random", "nan", "inf", "huge", "tiny", "zero", "noise"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    samples = rng.standard_normal(length).astype(np.float32)
    if kind == "random":
        values = draw(st.lists(any_floats, min_size=1, max_size=64))
        samples = np.resize(np.asarray(values, dtype=np.float32), length)
    elif kind == "nan" and length:
        samples[rng.integers(0, length)] = np.nan
    elif kind == "inf" and length:
        samples[rng.integers(0, length)] = np.inf
    elif kind == "huge":
        with np.errstate(over="ignore"):
            samples *= np.float32(3e38)
    elif kind == "tiny":
        samples *= np.float32(1e-38)
    elif kind == "zero":
        samples[:] = 0
    channels = draw(st.integers(1, 3))
    data = np.stack([samples] * channels, axis=1) if channels > 1 else samples
    buffer = io.BytesIO()
    subtype, fmt = draw(st.sampled_from([("FLOAT", "WAV"), ("DOUBLE", "WAV"), ("PCM_16", "WAV"), ("PCM_16", "FLAC")]))
    try:
        soundfile.write(buffer, data, rate, format=fmt, subtype=subtype)
    except (soundfile.LibsndfileError, ValueError, RuntimeError, AssertionError):
        return b""  # a rate or length the format cannot hold: libsndfile refuses to write it
    content = buffer.getvalue()
    cut = draw(st.one_of(st.none(), st.integers(0, max(0, len(content)))))
    return content if cut is None else content[:cut]


def audio_bytes():
    return st.one_of(
        st.binary(max_size=2048), lying_wav(), float_audio(), st.sampled_from([b"", b"RIFF", b"fLaC", b"OggS", b"ID3"])
    )


@st.composite
def upload_stream(draw, target_name: str):
    content = draw(audio_bytes())
    options = pb2.IngestOptions(
        collection=draw(collection_names(target_name)),
        source=draw(short_text),
        labels=draw(labels()),
        request_id=draw(st.one_of(st.just(""), short_text)),
    )
    shape = draw(st.sampled_from(["normal", "normal", "normal", "no_options", "options_twice", "empty"]))
    messages = list(upload(options, content, draw(st.integers(1, 1 << 20))))
    if shape == "no_options":
        messages = messages[1:]
    elif shape == "options_twice":
        messages.append(pb2.IngestAudioRequest(options=options))
    elif shape == "empty":
        messages = []
    return messages


def test_ingest_audio_random_uploads(gateway, target):
    name, _ = target

    @given(messages=upload_stream(name))
    def run(messages):
        check("IngestAudio", lambda: gateway.IngestAudio(iter(messages), timeout=TIMEOUT))

    run()


def test_search_audio_random_queries(gateway, target):
    name, clip_ids = target

    @given(
        collection=collection_names(name),
        which=st.sampled_from(["audio", "clip_id", "vector", "vector_dim", "none"]),
        audio=audio_bytes(),
        clip_id=st.one_of(st.sampled_from(clip_ids), int64s),
        vector=st.lists(any_floats, max_size=300),
        dim_vector=st.lists(st.one_of(any_floats, st.floats(-1, 1, width=32)), min_size=1, max_size=8),
        top_k=st.one_of(int32s, st.integers(-2, 1002)),
        min_score=st.one_of(st.none(), any_floats),
        search_filter=search_filters(),
    )
    def run(collection, which, audio, clip_id, vector, dim_vector, top_k, min_score, search_filter):
        request = pb2.SearchAudioRequest(collection=collection, top_k=top_k, filter=search_filter)
        if which == "audio":
            request.audio = audio
        elif which == "clip_id":
            request.clip_id = clip_id
        elif which == "vector":
            request.vector.values.extend(vector)
        elif which == "vector_dim":
            request.vector.values.extend(np.resize(np.asarray(dim_vector, dtype=np.float32), 64).tolist())
        if min_score is not None:
            request.min_score = min_score
        check("SearchAudio", lambda: gateway.SearchAudio(request, timeout=TIMEOUT))

    run()


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode()


def page_tokens():
    """Every shape: free text, random bytes, each kind with keys of every form (ints past int64, negative, float,
    padded, non-ASCII, empty), the wrong kind, and base64 cut or unpadded."""
    keys = st.one_of(
        short_text,
        int64s.map(str),
        st.integers(min_value=2**63).map(str),
        st.sampled_from(["", "-1", "1.5", " 7", "0x10", "1e3", "99999999999999999999999", "٣", "NaN"]),
    )
    return st.one_of(
        short_text,
        st.binary(max_size=64).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
        st.tuples(st.sampled_from(["clip", "collection", "clips", "x", ""]), keys).map(
            lambda parts: _token(":".join(parts))
        ),
        st.tuples(st.sampled_from(["clip", "collection"]), keys).map(lambda parts: _token(":".join(parts)).rstrip("=")),
        st.tuples(st.sampled_from(["clip", "collection"]), keys, st.integers(0, 8)).map(
            lambda parts: _token(f"{parts[0]}:{parts[1]}")[: -parts[2] or None]
        ),
    )


def test_list_clips_random_pages_and_filters(gateway, target):
    name, _ = target

    @given(
        collection=collection_names(name), page_size=int32s, page_token=page_tokens(), search_filter=search_filters()
    )
    def run(collection, page_size, page_token, search_filter):
        request = pb2.ListClipsRequest(
            collection=collection, page_size=page_size, page_token=page_token, filter=search_filter
        )
        check("ListClips", lambda: gateway.ListClips(request, timeout=TIMEOUT))

    run()


def test_list_collections_random_pages(gateway, target):
    @given(page_size=int32s, page_token=page_tokens())
    def run(page_size, page_token):
        request = pb2.ListCollectionsRequest(page_size=page_size, page_token=page_token)
        check("ListCollections", lambda: gateway.ListCollections(request, timeout=TIMEOUT))

    run()


def test_get_and_delete_clip_random_ids(gateway, target):
    _, clip_ids = target

    # Ids far above anything this session creates (and negative ones), so other tests' clips are safe.
    @given(clip_id=st.one_of(st.integers(-(2**63), 0), st.integers(2**40, 2**63 - 1)), delete=st.booleans())
    def run(clip_id, delete):
        if delete:
            check("DeleteClip", lambda: gateway.DeleteClip(pb2.DeleteClipRequest(id=clip_id), timeout=TIMEOUT))
        else:
            check("GetClip", lambda: gateway.GetClip(pb2.GetClipRequest(id=clip_id), timeout=TIMEOUT))

    run()


def test_get_clip_audio_random_fields(gateway, target):
    name, clip_ids = target

    @given(
        collection=collection_names(name),
        clip_id=st.one_of(st.sampled_from(clip_ids), int64s),
        start=st.one_of(st.none(), doubles),
        end=st.one_of(st.none(), doubles),
    )
    def run(collection, clip_id, start, end):
        request = pb2.GetClipAudioRequest(collection=collection, clip_id=clip_id)
        if start is not None:
            request.start_seconds = start
        if end is not None:
            request.end_seconds = end
        check("GetClipAudio", lambda: list(gateway.GetClipAudio(request, timeout=TIMEOUT)))

    run()


def test_create_and_drop_collection_random_fields(gateway, target):
    @given(
        name=st.one_of(short_text, st.from_regex(r"fz[A-Za-z0-9_]{0,8}", fullmatch=True)),
        model=st.one_of(st.just("logmel"), short_text),
        window=doubles,
        hop=doubles,
        index_type=st.one_of(st.sampled_from(list(types_pb2.IndexType.values())), int32s),  # unknown numbers too
        purpose=st.one_of(st.sampled_from(list(pb2.CreateCollectionRequest.Purpose.values())), int32s),
        keep_audio=st.one_of(st.none(), st.booleans()),
        drop=st.booleans(),
    )
    def run(name, model, window, hop, index_type, purpose, keep_audio, drop):
        if drop:
            if _OTHERS.fullmatch(name):
                return
            check(
                "DropCollection", lambda: gateway.DropCollection(pb2.DropCollectionRequest(name=name), timeout=TIMEOUT)
            )
            return
        request = pb2.CreateCollectionRequest(
            name=name,
            model=model,
            segments=types_pb2.SegmentOptions(window_seconds=window, hop_seconds=hop),
            index_type=index_type,
            purpose=purpose,
            keep_audio=keep_audio,
        )
        check("CreateCollection", lambda: gateway.CreateCollection(request, timeout=TIMEOUT))

    run()


def test_import_directory_random_paths(gateway, target, stack):
    name, _ = target

    @given(
        collection=collection_names(name),
        path=st.one_of(
            short_text,
            st.sampled_from(
                ["", "/", "..", "../..", "/etc", "/etc/passwd", "./", "a/../../b", "\x00", str(stack.outside)]
            ),
        ),
        recursive=st.booleans(),
        labels_=labels(),
        label_from_parent=st.booleans(),
    )
    def run(collection, path, recursive, labels_, label_from_parent):
        request = pb2.ImportDirectoryRequest(
            collection=collection, path=path, recursive=recursive, labels=labels_, label_from_parent=label_from_parent
        )
        check("ImportDirectory", lambda: list(gateway.ImportDirectory(request, timeout=TIMEOUT)))

    run()


def test_reconcile_random_fields(gateway, target):
    name, _ = target

    # Only this module's collection or names that cannot exist: a reconcile of the whole library with a tiny age
    # could race another test's ingest.
    @given(
        collection=st.one_of(
            st.just(name), st.text(min_size=1, max_size=20).filter(lambda text: not _OTHERS.fullmatch(text))
        ),
        min_age=st.one_of(doubles, st.floats(0, 1e9)),
        dry_run=st.booleans(),
    )
    def run(collection, min_age, dry_run):
        if collection != name and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", collection):
            return
        request = pb2.ReconcileRequest(collection=collection, min_age_seconds=min_age, dry_run=dry_run)
        check("Reconcile", lambda: gateway.Reconcile(request, timeout=TIMEOUT))

    run()


@pytest.fixture(scope="module")
def voices(gateway, new_collection, stack):
    """A speakers collection of this module's own (deletes and calibrations touch only it), and its stub."""
    name = new_collection("fzv", purpose=pb2.CreateCollectionRequest.Purpose.PURPOSE_SPEAKERS)
    return name, spb2_grpc.SpeakerServiceStub(stack.channel)


def speaker_ids():
    return st.one_of(label_text, st.just("x" * 10_000), st.sampled_from(["", "alice", "a\nb", "\x7f"]))


def vector_queries():
    return st.builds(pb2.VectorQuery, values=st.lists(any_floats, max_size=200))


def scorings():
    return st.one_of(st.sampled_from(list(spb2.Scoring.values())), int32s)  # unknown numbers too


@pytest.mark.parametrize("rpc", ["Enroll", "Get", "List", "Delete", "Identify", "Verify", "Calibrate"])
def test_speaker_rpcs_random_fields(gateway, target, voices, rpc):
    own, api = voices

    @given(
        collection=collection_names(own),
        speaker_id=speaker_ids(),
        content=audio_bytes(),
        vector=st.one_of(st.none(), vector_queries()),
        top_k=int32s,
        scoring=scorings(),
        page_size=int32s,
        page_token=page_tokens(),
        rate=doubles,
    )
    def run(collection, speaker_id, content, vector, top_k, scoring, page_size, page_token, rate):
        query = {"vector": vector} if vector is not None else {"audio": content}
        if rpc == "Enroll":
            messages = [
                spb2.EnrollSpeakerRequest(options=spb2.EnrollOptions(collection=collection, speaker_id=speaker_id))
            ]
            messages.append(spb2.EnrollSpeakerRequest(chunk=content))
            check("EnrollSpeaker", lambda: api.EnrollSpeaker(iter(messages), timeout=TIMEOUT))
        elif rpc == "Get":
            request = spb2.GetSpeakerRequest(collection=collection, speaker_id=speaker_id)
            check("GetSpeaker", lambda: api.GetSpeaker(request, timeout=TIMEOUT))
        elif rpc == "List":
            request = spb2.ListSpeakersRequest(collection=collection, page_size=page_size, page_token=page_token)
            check("ListSpeakers", lambda: api.ListSpeakers(request, timeout=TIMEOUT))
        elif rpc == "Delete":
            if collection != own and _OTHERS.fullmatch(collection):
                return  # another test's collection
            request = spb2.DeleteSpeakerRequest(collection=collection, speaker_id=speaker_id)
            check("DeleteSpeaker", lambda: api.DeleteSpeaker(request, timeout=TIMEOUT))
        elif rpc == "Identify":
            request = spb2.IdentifySpeakerRequest(collection=collection, top_k=top_k, scoring=scoring, **query)
            check("IdentifySpeaker", lambda: api.IdentifySpeaker(request, timeout=TIMEOUT))
        elif rpc == "Verify":
            request = spb2.VerifySpeakerRequest(collection=collection, speaker_id=speaker_id, scoring=scoring, **query)
            check("VerifySpeaker", lambda: api.VerifySpeaker(request, timeout=TIMEOUT))
        elif collection == own or not _OTHERS.fullmatch(collection):
            request = spb2.CalibrateSpeakersRequest(
                collection=collection, target_false_accept_rate=rate, scoring=scoring
            )
            check("CalibrateSpeakers", lambda: api.CalibrateSpeakers(request, timeout=TIMEOUT))

    run()


@pytest.mark.parametrize("rpc", ["Create", "Get", "List", "Cancel", "Watch", "Failures"])
def test_import_job_rpcs_random_fields(gateway, target, stack, rpc):
    name, _ = target
    api = jobs_grpc.ImportJobServiceStub(stack.channel)

    # Ids far above anything this session creates (and negative ones): other tests' jobs are never cancelled.
    @given(
        collection=collection_names(name),
        path=st.one_of(
            short_text, st.sampled_from(["/", "..", "/etc/passwd", "a/../../b", "\x00", str(stack.outside)])
        ),
        job_id=st.one_of(st.integers(-(2**63), 0), st.integers(2**40, 2**63 - 1)),
        labels_=labels(),
        request_id=st.one_of(st.just(""), label_text),
        page_size=int32s,
        page_token=page_tokens(),
    )
    def run(collection, path, job_id, labels_, request_id, page_size, page_token):
        if rpc == "Create":
            request = jobs_pb2.CreateImportJobRequest(
                collection=collection, path=path, labels=labels_, request_id=request_id
            )
            check("CreateImportJob", lambda: api.CreateImportJob(request, timeout=TIMEOUT))
        elif rpc == "Get":
            check("GetImportJob", lambda: api.GetImportJob(jobs_pb2.GetImportJobRequest(id=job_id), timeout=TIMEOUT))
        elif rpc == "List":
            request = jobs_pb2.ListImportJobsRequest(page_size=page_size, page_token=page_token)
            check("ListImportJobs", lambda: api.ListImportJobs(request, timeout=TIMEOUT))
        elif rpc == "Cancel":
            request = jobs_pb2.CancelImportJobRequest(id=job_id)
            check("CancelImportJob", lambda: api.CancelImportJob(request, timeout=TIMEOUT))
        elif rpc == "Watch":
            request = jobs_pb2.WatchImportJobRequest(id=job_id)
            check("WatchImportJob", lambda: list(api.WatchImportJob(request, timeout=TIMEOUT)))
        else:
            request = jobs_pb2.ListImportJobFailuresRequest(id=job_id, page_size=page_size, page_token=page_token)
            check("ListImportJobFailures", lambda: api.ListImportJobFailures(request, timeout=TIMEOUT))

    run()


def test_rebuild_collection_random_fields(gateway, new_collection, stack):
    # A collection of its own: a rebuild that succeeds switches it, and no other test's clips or searches meet that.
    own = new_collection("fzr")
    api = jobs_grpc.ImportJobServiceStub(stack.channel)

    @given(
        collection=collection_names(own),
        model=st.one_of(short_text, st.sampled_from(["", "logmel", "nope"])),
        window=st.one_of(st.none(), doubles),
        hop=doubles,
        request_id=st.one_of(st.just(""), label_text),
    )
    def run(collection, model, window, hop, request_id):
        request = jobs_pb2.RebuildCollectionRequest(collection=collection, model=model, request_id=request_id)
        if window is not None:
            request.segments.CopyFrom(types_pb2.SegmentOptions(window_seconds=window, hop_seconds=hop))
        check("RebuildCollection", lambda: api.RebuildCollection(request, timeout=TIMEOUT))

    run()


def test_calibrate_recordings_random_fields(gateway, target):
    name, _ = target

    @given(collection=collection_names(name), rate=doubles, snippet=doubles)
    def run(collection, rate, snippet):
        if collection != name and _OTHERS.fullmatch(collection):
            return
        request = pb2.CalibrateRecordingsRequest(
            collection=collection, target_false_positive_rate=rate, snippet_seconds=snippet
        )
        check("CalibrateRecordings", lambda: gateway.CalibrateRecordings(request, timeout=TIMEOUT))

    run()


def test_stats_and_models(gateway, target):
    @given(models=st.booleans(), _=st.integers(0, 10**9))  # the integer only keeps hypothesis drawing examples
    def run(models, _):
        if models:
            check("ListModels", lambda: gateway.ListModels(pb2.ListModelsRequest(), timeout=TIMEOUT))
        else:
            check("GetStats", lambda: gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT))

    run()


def test_ingest_request_ids_reused_for_any_content(gateway, new_collection):
    """A request_id names one upload: a retry with the same audio gets its clip, other audio is refused, and audio
    already stored is a duplicate whatever request_id comes with it."""
    collection = new_collection("rid")
    contents = [audio_file(sound_class, 70, ".wav", 0.5) for sound_class in ("tone", "chirp", "siren", "vowel")]
    stored: dict[int, int] = {}  # content index -> clip id
    bound: dict[str, int] = {}  # request_id -> content index of the clip it created

    uploads = st.tuples(st.integers(0, len(contents) - 1), st.sampled_from(["", "r1", "r2", "r3"]))

    @given(sequence=st.lists(uploads, min_size=1, max_size=4))
    @settings(max_examples=min(settings().max_examples, 200))
    def run(sequence):
        for content, request_id in sequence:
            one(content, request_id)

    def one(content, request_id):
        COUNTS["IngestAudio (request_id)"] += 1
        try:
            reply = ingest(gateway, collection, contents[content], request_id=request_id)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
            assert content not in stored and bound.get(request_id, content) != content
            return
        if content in stored:
            assert reply.duplicate and reply.clip.id == stored[content]
            return
        assert not reply.duplicate and (not request_id or request_id not in bound)
        stored[content] = reply.clip.id
        if request_id:
            bound[request_id] = content

    run()


# Concurrent calls on few names and ids may also meet a conflict the caller is told to retry.
RACING = EXPECTED | {grpc.StatusCode.ABORTED}


def test_concurrent_create_drop_ingest_delete_on_the_same_names(gateway, stack):
    """Random batches of calls on two names and four contents, all at once; afterwards (and after a reconcile of
    what a crash would have left) the record and the vectors of every collection and every READY clip agree."""
    names = ("race_a", "race_b")
    contents = [audio_file("clicks", 80 + seed, ".wav", 0.5) for seed in range(4)]
    operations = st.tuples(
        st.sampled_from(["create", "drop", "ingest", "ingest", "delete", "search"]),
        st.sampled_from(names),
        st.integers(0, len(contents) - 1),
    )

    def call(operation):
        kind, name, content = operation
        COUNTS[f"race {kind}"] += 1
        if kind == "create":
            gateway.CreateCollection(pb2.CreateCollectionRequest(name=name, model="logmel"), timeout=TIMEOUT)
        elif kind == "drop":
            gateway.DropCollection(pb2.DropCollectionRequest(name=name), timeout=TIMEOUT)
        elif kind == "ingest":
            ingest(gateway, name, contents[content], request_id=f"content-{content}")
        elif kind == "delete":
            for clip in gateway.ListClips(pb2.ListClipsRequest(collection=name), timeout=TIMEOUT).clips:
                gateway.DeleteClip(pb2.DeleteClipRequest(id=clip.id), timeout=TIMEOUT)
        else:
            gateway.SearchAudio(
                pb2.SearchAudioRequest(collection=name, audio=contents[content], top_k=3), timeout=TIMEOUT
            )

    def outcome(operation):
        try:
            call(operation)
        except grpc.RpcError as error:
            return error.code(), error.details()
        return grpc.StatusCode.OK, ""

    @given(batch=st.lists(operations, min_size=2, max_size=8))
    @settings(max_examples=min(settings().max_examples, 60))
    def run(batch):
        with ThreadPoolExecutor(len(batch)) as pool:
            outcomes = list(pool.map(outcome, batch))
        assert all(code in RACING for code, _ in outcomes), outcomes
        for name in names:
            exists = gateway.ListCollections(pb2.ListCollectionsRequest(page_size=1000), timeout=TIMEOUT).collections
            has_record = name in {collection.name for collection in exists}
            assert has_record == (stack.search_core.store.describe(name) is not None), name
            if not has_record:
                continue
            report = gateway.Reconcile(pb2.ReconcileRequest(collection=name, min_age_seconds=1e-9), timeout=TIMEOUT)
            assert not report.collections[0].ready_without_vectors
            row = [r for r in gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT).collections if r.name == name][0]
            assert row.vectors == row.ready_clips and row.pending_clips == 0 and not row.problem

    run()
    for name in names:
        request = pb2.DropCollectionRequest(name=name)
        check("DropCollection", lambda request=request: gateway.DropCollection(request, timeout=TIMEOUT))


def test_still_healthy_and_working_afterwards(gateway, target, stack):
    name, clip_ids = target
    for address in stack.addresses.values():
        with grpc.insecure_channel(address) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
    fresh = ingest(gateway, name, audio_file("siren", 99, ".wav")).clip
    hits = gateway.SearchAudio(
        pb2.SearchAudioRequest(collection=name, audio=audio_file("siren", 99, ".wav"), top_k=3), timeout=TIMEOUT
    ).hits
    assert hits[0].clip.id == fresh.id and math.isclose(hits[0].score, 1.0, abs_tol=1e-3)
    for clip_id in clip_ids:
        assert gateway.GetClip(pb2.GetClipRequest(id=clip_id), timeout=TIMEOUT).state == types_pb2.CLIP_STATE_READY
