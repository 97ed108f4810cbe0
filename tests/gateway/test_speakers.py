"""SpeakerService over the real wire and real stores (Milvus Lite, SQLite, the logmel model): enroll, identify,
verify, calibrate and delete flows, and bad input refused with a precise code, leaving nothing behind.

Synthetic voices: a speaker is a formant voice (synth's vowel class) of one seed; its utterances are that voice at
different lengths (distinct files, the same voice)."""

from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.gateway.v1 import speaker_service_pb2 as spb2
from audiosearch.gateway.v1 import speaker_service_pb2_grpc as spb2_grpc
from audiosearch.tools import synth
from audiosearch.tools.cli.main import main as cli
from gateway import server as gateway_server
from gateway import speaker_scoring as scoring

from gateway_support import MIB, TIMEOUT, close_core, footprint, gateway_settings, ingest, rpc_error, start

SPEAKERS = 12
# Three seconds of faint noise (about -70 dBFS): audible samples, no frame at a voice's level.
HISS = synth.encode((np.random.default_rng(0).standard_normal(48000) * 3e-4).astype(np.float32), 16000)
Purpose = pb2.CreateCollectionRequest.Purpose


def voice(seed: int, seconds: float) -> bytes:
    return synth.encode(synth.generate("vowel", seed, seconds), 16000)


@pytest.fixture(scope="module")
def speakers_api(stack, tmp_path_factory):
    """A gateway of its own on the session's stores, and the SpeakerService stub on it."""
    settings = gateway_settings(stack.addresses, tmp_path_factory.mktemp("speaker_imports"))
    core = gateway_server.build_core(settings)
    running = start(gateway_server.build_server(settings, core))
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    stub = spb2_grpc.SpeakerServiceStub(channel)
    stub.address = f"127.0.0.1:{running.port}"  # for the CLI test
    yield stub
    channel.close()
    running.stop(0)
    close_core(core)


def enroll(api, collection: str, speaker_id: str, content: bytes, **options) -> spb2.EnrollSpeakerResponse:
    def stream():
        yield spb2.EnrollSpeakerRequest(
            options=spb2.EnrollOptions(collection=collection, speaker_id=speaker_id, **options)
        )
        for offset in range(0, len(content), MIB):
            yield spb2.EnrollSpeakerRequest(chunk=content[offset : offset + MIB])

    return api.EnrollSpeaker(stream(), timeout=TIMEOUT)


@pytest.fixture(scope="module")
def voices(stack, speakers_api):
    """A speakers collection of SPEAKERS voices, two utterances each."""
    stack.gateway.CreateCollection(pb2.CreateCollectionRequest(name="voices", purpose=Purpose.PURPOSE_SPEAKERS))
    for seed in range(SPEAKERS):
        for seconds in (3.0, 3.5):
            enroll(speakers_api, "voices", f"s{seed}", voice(seed, seconds))
    return "voices"


def test_enroll_get_and_list(stack, speakers_api, voices):
    speaker = speakers_api.GetSpeaker(spb2.GetSpeakerRequest(collection=voices, speaker_id="s3"), timeout=TIMEOUT)
    assert len(speaker.utterances) == 2 and {u.labels.speaker for u in speaker.utterances} == {"s3"}
    assert 6.0 < speaker.speech_seconds <= 6.5 and speaker.HasField("create_time")

    again = enroll(speakers_api, voices, "s3", voice(3, 3.0))
    assert again.duplicate and len(again.speaker.utterances) == 2

    listed, token = [], ""
    while True:
        page = speakers_api.ListSpeakers(
            spb2.ListSpeakersRequest(collection=voices, page_size=5, page_token=token), timeout=TIMEOUT
        )
        listed += [s.speaker_id for s in page.speakers]
        token = page.next_page_token
        if not token:
            break
    assert listed == sorted(f"s{seed}" for seed in range(SPEAKERS))


def test_identify_verify_and_calibrate(speakers_api, voices):
    query = voice(5, 4.0)
    found = speakers_api.IdentifySpeaker(spb2.IdentifySpeakerRequest(collection=voices, audio=query), timeout=TIMEOUT)
    assert found.candidates[0].speaker_id == "s5" and len(found.candidates) == 5
    assert found.threshold.source == spb2.DecisionThreshold.SOURCE_MODEL_DEFAULT
    assert found.threshold.scoring == spb2.SCORING_AS_NORM and found.threshold.open_set
    identified = found.candidates[0].score >= found.threshold.value
    assert (found.decision == found.DECISION_IDENTIFIED) == identified
    assert found.speaker_id == ("s5" if identified else "")

    def verify(claim: str, **fields) -> spb2.VerifySpeakerResponse:
        request = spb2.VerifySpeakerRequest(collection=voices, speaker_id=claim, audio=query, **fields)
        return speakers_api.VerifySpeaker(request, timeout=TIMEOUT)

    genuine, impostor = verify("s5"), verify("s6")
    assert genuine.score == pytest.approx(found.candidates[0].score, abs=1e-4)  # one scoring for both RPCs
    assert genuine.score > impostor.score and impostor.decision == impostor.DECISION_REJECT
    assert verify("s5", scoring=spb2.SCORING_MAX).threshold.scoring == spb2.SCORING_MAX

    calibrated = speakers_api.CalibrateSpeakers(spb2.CalibrateSpeakersRequest(collection=voices), timeout=TIMEOUT)
    calibration = calibrated.calibration
    assert calibrated.speakers == SPEAKERS and calibration.scoring == "AS_NORM"
    assert (calibration.positive_trials, calibration.negative_trials) == (2 * SPEAKERS, 2 * SPEAKERS * (SPEAKERS - 1))
    assert calibration.target_false_positive_rate == pytest.approx(0.01)
    assert calibration.false_positive_rate <= 0.01
    assert calibration.open_set_trials == 2 * SPEAKERS and calibration.open_set_false_positive_rate <= 0.01
    after = verify("s5")
    assert after.threshold.source == spb2.DecisionThreshold.SOURCE_CALIBRATED
    assert after.threshold.value == pytest.approx(calibration.threshold) and not after.threshold.open_set
    identified = speakers_api.IdentifySpeaker(spb2.IdentifySpeakerRequest(collection=voices, audio=query), timeout=60)
    assert identified.threshold.source == spb2.DecisionThreshold.SOURCE_CALIBRATED
    assert identified.threshold.value == pytest.approx(calibration.open_set_threshold)
    assert (after.decision == after.DECISION_ACCEPT) == (after.score >= after.threshold.value)
    # Another scoring than the calibrated one falls back to that scoring's model default.
    assert verify("s5", scoring=spb2.SCORING_CENTROID).threshold.source == spb2.DecisionThreshold.SOURCE_MODEL_DEFAULT


@pytest.mark.parametrize("count", [1, 2, 5, 51, 64])
def test_each_speakers_test_cohort_is_the_best_of_the_others(count):
    """Identification scores every returned speaker against the rest in one pass; it equals doing it one by one."""
    scores = list(np.random.default_rng(count).uniform(-0.2, 0.9, count))
    if count > 7:
        scores[3] = scores[7]  # a tie
    one_by_one = [scoring.cohort_stats(scores[:i] + scores[i + 1 :], 50) for i in range(count)]
    assert np.allclose(scoring.leave_one_out_cohorts(scores, 50), np.reshape(one_by_one, (count, 2)), atol=1e-9)


def test_unknown_voice_and_short_query(speakers_api, voices):
    stranger = speakers_api.IdentifySpeaker(
        spb2.IdentifySpeakerRequest(collection=voices, audio=synth.encode(synth.generate("siren", 1, 4.0), 16000)),
        timeout=TIMEOUT,
    )
    assert stranger.decision == stranger.DECISION_UNKNOWN and not stranger.speaker_id
    assert stranger.unknown_reason == stranger.UNKNOWN_REASON_BELOW_THRESHOLD
    short = speakers_api.IdentifySpeaker(
        spb2.IdentifySpeakerRequest(collection=voices, audio=voice(2, 1.0)), timeout=TIMEOUT
    )
    assert short.low_confidence and 0.9 <= short.speech_seconds <= 1.0


def test_delete_speaker_leaves_no_record_and_no_vector(stack, speakers_api):
    stack.gateway.CreateCollection(pb2.CreateCollectionRequest(name="forget", purpose=Purpose.PURPOSE_SPEAKERS))
    for seed in (20, 21):
        for seconds in (3.0, 3.5, 4.0):
            enroll(speakers_api, "forget", f"p{seed}", voice(seed, seconds))
    assert footprint(stack.gateway, "forget") == (6, 6, 0, 6)
    assert {row.speaker_id for row in stack.search_core.get_speakers("forget", ["p20", "p21"])} == {"p20", "p21"}

    request = spb2.DeleteSpeakerRequest(collection="forget", speaker_id="p20")
    assert speakers_api.DeleteSpeaker(request, timeout=TIMEOUT).deleted_utterances == 3
    assert footprint(stack.gateway, "forget") == (3, 3, 0, 3)
    counted = stack.search_core.count("forget")  # in the index itself
    assert (counted.vectors, counted.clips) == (3, 3)
    assert {c.labels.speaker for c in stack.metadata_core.list_clips("forget")[0]} == {"p21"}
    # The speaker index holds no row of p20 (its centroid), and identification never finds it.
    assert [row.speaker_id for row in stack.search_core.get_speakers("forget", ["p20", "p21"])] == ["p21"]
    found = speakers_api.IdentifySpeaker(
        spb2.IdentifySpeakerRequest(collection="forget", audio=voice(20, 3.0)), timeout=TIMEOUT
    )
    assert [c.speaker_id for c in found.candidates] == ["p21"]
    with rpc_error(grpc.StatusCode.NOT_FOUND, "SPEAKER_NOT_FOUND"):
        speakers_api.GetSpeaker(spb2.GetSpeakerRequest(collection="forget", speaker_id="p20"), timeout=TIMEOUT)
    assert speakers_api.DeleteSpeaker(request, timeout=TIMEOUT).deleted_utterances == 0  # idempotent


@pytest.mark.parametrize(
    "speaker_id, audio, code, reason",
    [
        ("x" * 10_240, voice(30, 3.0), grpc.StatusCode.INVALID_ARGUMENT, "SPEAKER_ID_TOO_LONG"),
        ("bad\x07id", voice(30, 3.0), grpc.StatusCode.INVALID_ARGUMENT, "SPEAKER_ID_CONTROL_CHARACTER"),
        ("", voice(30, 3.0), grpc.StatusCode.INVALID_ARGUMENT, "SPEAKER_ID_REQUIRED"),
        (
            "quiet",
            HISS,
            grpc.StatusCode.INVALID_ARGUMENT,
            "NO_SPEECH",
        ),
        (
            "zeros",
            synth.encode(np.zeros(48000, dtype=np.float32), 16000),
            grpc.StatusCode.INVALID_ARGUMENT,
            "SILENT_AUDIO",
        ),
        ("brief", voice(31, 1.5), grpc.StatusCode.INVALID_ARGUMENT, "TOO_LITTLE_SPEECH"),
        ("s4", voice(0, 3.0), grpc.StatusCode.FAILED_PRECONDITION, "AUDIO_ENROLLED_FOR_ANOTHER_SPEAKER"),
    ],
    ids=["10KB id", "control character", "empty id", "no speech", "silent", "too little speech", "other's audio"],
)
def test_bad_enrollments_are_refused_and_leave_nothing(stack, speakers_api, voices, speaker_id, audio, code, reason):
    before = footprint(stack.gateway, voices)
    with rpc_error(code, reason):
        enroll(speakers_api, voices, speaker_id, audio)
    assert footprint(stack.gateway, voices) == before


def test_speaker_rpcs_need_a_speakers_collection_and_an_enrolled_speaker(stack, speakers_api, voices):
    stack.gateway.CreateCollection(pb2.CreateCollectionRequest(name="sounds", model="logmel"))
    with rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_SPEAKER_COLLECTION"):
        enroll(speakers_api, "sounds", "ann", voice(40, 3.0))
    assert footprint(stack.gateway, "sounds") == (0, 0, 0, 0)
    with rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_SPEAKER_COLLECTION"):
        speakers_api.IdentifySpeaker(spb2.IdentifySpeakerRequest(collection="sounds", audio=voice(40, 3.0)))
    with rpc_error(grpc.StatusCode.NOT_FOUND, "SPEAKER_NOT_FOUND"):
        speakers_api.VerifySpeaker(
            spb2.VerifySpeakerRequest(collection=voices, speaker_id="nobody", audio=voice(1, 3.0)), timeout=TIMEOUT
        )
    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        speakers_api.GetSpeaker(spb2.GetSpeakerRequest(collection="absent", speaker_id="s1"), timeout=TIMEOUT)
    with rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "DIMENSION_MISMATCH"):
        speakers_api.IdentifySpeaker(
            spb2.IdentifySpeakerRequest(collection=voices, vector=pb2.VectorQuery(values=[0.1, 0.2])), timeout=TIMEOUT
        )


def test_cli_enrolls_identifies_verifies_and_deletes(speakers_api, voices, tmp_path, capsys):
    def run(*argv) -> tuple[int, str]:
        with pytest.raises(SystemExit) as ended:
            cli(["--address", speakers_api.address, "speakers", *argv])
        return ended.value.code or 0, capsys.readouterr().out

    files = [
        synth.write_clip(tmp_path / f"cli{n}.wav", synth.generate("vowel", 50, 3.0 + n / 2), 16000) for n in range(2)
    ]
    code, out = run("enroll", voices, "cli", *map(str, files))
    assert code == 0 and "added" in out and "cli has 2 utterance(s)" in out
    query = synth.write_clip(tmp_path / "query.wav", synth.generate("vowel", 50, 4.0), 16000)
    code, out = run("identify", voices, str(query))
    table = [line.split() for line in out.splitlines()]
    assert code == 0 and "threshold" in out and ["1", "cli"] in [row[:2] for row in table]  # the best candidate
    code, out = run("verify", voices, "s1", str(query))
    assert code == 3 and out.startswith("REJECT")
    code, out = run("show", voices, "cli")
    assert code == 0 and "cli0.wav" in out and "cli1.wav" in out
    assert run("delete", voices, "cli") == (0, "cli: 2 utterance(s) deleted\n")
    code, out = run("list", voices)
    assert "cli" not in out.split()


def test_speaker_evaluation_measures_through_the_api(stack, speakers_api, tmp_path):
    """`audiosearch eval --task speakers` on synthetic voices: 16 speakers, 3 held out, split halves."""
    from audiosearch.client import AudioSearchClient
    from audiosearch.tools.evaluation import speakers as speaker_eval
    from audiosearch.tools.evaluation.dataset import load

    for seed in range(60, 76):
        synth.write_clip(tmp_path / f"v{seed}" / "a.wav", synth.generate("vowel", seed, 7.0), 16000)
    items = load(tmp_path, split_halves=True)
    with AudioSearchClient(speakers_api.address) as client:
        report = speaker_eval.evaluate(client, items, "logmel", held_out=3, seed=1)
        assert not any(c.name.startswith("eval_speakers_") for c in client.list_collections())  # dropped
    assert report["dataset"]["enrolled_speakers"] == 13 and report["dataset"]["test_clips"] == 16
    assert report["calibration"]["far"] <= 0.01 and report["calibration"]["scoring"] == "AS_NORM"
    verification = report["verification"]
    assert (verification["genuine_trials"], verification["impostor_trials"]) == (13, 13 * 12 + 3 * 13)
    assert report["identification"]["known_probes"] == 13 and report["identification"]["unknown_probes"] == 3
    assert set(report["scoring_comparison"]) == {"CENTROID", "MAX", "TOP_K_MEAN", "AS_NORM", "COSINE_ALL_PAIRS"}
    assert report["scoring_comparison"]["COSINE_ALL_PAIRS"]["target_trials"] == 16
    chart = speaker_eval.write_det(report, str(tmp_path / "det.png"))
    assert (tmp_path / "det.png").stat().st_size > 1000 and chart.endswith("det.png")


def test_best_too_close_to_the_runner_up_is_unknown(stack, voices, tmp_path):
    """With a margin wider than any gap between two speakers' scores, a confident best is still UNKNOWN, and says so."""
    settings = gateway_settings(stack.addresses, tmp_path, speaker_min_margin=1000.0)
    core = gateway_server.build_core(settings)
    running = start(gateway_server.build_server(settings, core))
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        api = spb2_grpc.SpeakerServiceStub(channel)
        api.CalibrateSpeakers(spb2.CalibrateSpeakersRequest(collection=voices), timeout=TIMEOUT)
        found = api.IdentifySpeaker(
            spb2.IdentifySpeakerRequest(collection=voices, audio=voice(5, 3.0)), timeout=TIMEOUT
        )
        assert found.candidates[0].speaker_id == "s5"
        assert found.candidates[0].score >= found.threshold.value  # above the threshold: only the margin refuses
        assert found.decision == found.DECISION_UNKNOWN and not found.speaker_id
        assert found.unknown_reason == found.UNKNOWN_REASON_TOO_CLOSE_TO_RUNNER_UP
    finally:
        channel.close()
        running.stop(0)
        close_core(core)


def centroid(stack, collection: str, speaker_id: str) -> tuple[int, np.ndarray]:
    """How many utterances the speaker has, and their centroid, from the stores."""
    clips = [c for c in stack.metadata_core.list_clips(collection)[0] if c.labels.speaker == speaker_id]
    vectors = [np.mean([s.vector for s in stack.search_core.get_vectors(collection, c.id)], axis=0) for c in clips]
    return len(clips), scoring.unit(np.sum([scoring.unit(v) for v in vectors], axis=0))


def test_speaker_rows_follow_concurrent_enrollments_and_deletions(stack, speakers_api):
    """Each speaker's row is the centroid of the utterances that stand, however enrollments and deletions of one
    speaker interleave; calibration writes a missing row and leaves every row's cohort statistics as computed over
    all the centroids."""
    stack.gateway.CreateCollection(pb2.CreateCollectionRequest(name="crowd", purpose=Purpose.PURPOSE_SPEAKERS))
    for seed in range(80, 92):
        enroll(speakers_api, "crowd", f"c{seed}", voice(seed, 3.0))
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: enroll(speakers_api, "crowd", "many", voice(95, 3.0 + n / 10)), range(6)))
    [row] = stack.search_core.get_speakers("crowd", ["many"])
    count, expected = centroid(stack, "crowd", "many")
    assert count == 6 and np.allclose(row.vector, expected, atol=1e-5)

    def delete(_):
        return speakers_api.DeleteSpeaker(spb2.DeleteSpeakerRequest(collection="crowd", speaker_id="gone"))

    def enroll_gone(n):
        try:
            enroll(speakers_api, "crowd", "gone", voice(96, 3.0 + n / 10))
        except grpc.RpcError as error:  # deleted between its ingest and its row
            assert error.code() == grpc.StatusCode.NOT_FOUND

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: (delete if n % 2 else enroll_gone)(n), range(8)))
    rows = stack.search_core.get_speakers("crowd", ["gone"])
    count, expected = centroid(stack, "crowd", "gone")
    assert bool(rows) == bool(count)  # a row exactly while utterances remain
    if rows:
        assert np.allclose(rows[0].vector, expected, atol=1e-5)

    stack.search_core.delete_speakers("crowd", ["c80"])  # as a folder import or a failed row write leaves it
    speakers_api.CalibrateSpeakers(spb2.CalibrateSpeakersRequest(collection="crowd"), timeout=TIMEOUT)
    names = sorted({c.labels.speaker for c in stack.metadata_core.list_clips("crowd")[0]})
    rows = {row.speaker_id: row for row in stack.search_core.get_speakers("crowd", names)}
    assert sorted(rows) == names
    means, stds = scoring.enrollment_cohorts(np.stack([rows[name].vector for name in names]), 50)
    assert np.allclose([rows[name].cohort_mean for name in names], means, atol=1e-5)
    assert np.allclose([rows[name].cohort_std for name in names], stds, atol=1e-5)


def test_dropping_a_speakers_collection_drops_its_speaker_rows(stack, speakers_api):
    stack.gateway.CreateCollection(pb2.CreateCollectionRequest(name="brief", purpose=Purpose.PURPOSE_SPEAKERS))
    enroll(speakers_api, "brief", "ann", voice(97, 3.0))
    stack.gateway.DropCollection(pb2.DropCollectionRequest(name="brief"))
    stack.gateway.CreateCollection(pb2.CreateCollectionRequest(name="brief", purpose=Purpose.PURPOSE_SPEAKERS))
    assert stack.search_core.get_speakers("brief", ["ann"]) == []
    found = speakers_api.IdentifySpeaker(
        spb2.IdentifySpeakerRequest(collection="brief", audio=voice(97, 3.0)), timeout=TIMEOUT
    )
    assert found.unknown_reason == found.UNKNOWN_REASON_NO_SPEAKERS


def test_a_collection_dropped_and_made_again_through_the_same_gateway_is_seen_at_once(speakers_api):
    """Identification reuses a recently read collection record; a drop and create here forget it at once."""
    channel = grpc.insecure_channel(speakers_api.address)
    gateway = pb2_grpc.GatewayServiceStub(channel)
    gateway.CreateCollection(pb2.CreateCollectionRequest(name="reused", purpose=Purpose.PURPOSE_SPEAKERS))
    enroll(speakers_api, "reused", "ann", voice(96, 3.0))
    query = spb2.IdentifySpeakerRequest(collection="reused", audio=voice(96, 3.5))
    assert speakers_api.IdentifySpeaker(query, timeout=TIMEOUT).candidates[0].speaker_id == "ann"
    gateway.DropCollection(pb2.DropCollectionRequest(name="reused"), timeout=TIMEOUT)
    gateway.CreateCollection(pb2.CreateCollectionRequest(name="reused", model="logmel"), timeout=TIMEOUT)
    with rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_SPEAKER_COLLECTION"):
        speakers_api.IdentifySpeaker(query, timeout=TIMEOUT)
    channel.close()


def test_clips_added_and_deleted_through_the_gateway_service_keep_the_speaker_rows(stack, speakers_api):
    """An utterance is any clip with the speaker label: IngestAudio adds to the speaker's row, and DeleteClip of
    its last utterance removes the row (no centroid outlives the speaker's audio)."""
    stack.gateway.CreateCollection(pb2.CreateCollectionRequest(name="plain", purpose=Purpose.PURPOSE_SPEAKERS))
    first = ingest(stack.gateway, "plain", voice(98, 3.0), speaker="bea").clip
    second = ingest(stack.gateway, "plain", voice(98, 3.5), speaker="bea").clip
    [row] = stack.search_core.get_speakers("plain", ["bea"])
    assert np.allclose(row.vector, centroid(stack, "plain", "bea")[1], atol=1e-5)
    stack.gateway.DeleteClip(pb2.DeleteClipRequest(id=second.id), timeout=TIMEOUT)
    [row] = stack.search_core.get_speakers("plain", ["bea"])
    assert np.allclose(row.vector, centroid(stack, "plain", "bea")[1], atol=1e-5)  # the first utterance alone
    stack.gateway.DeleteClip(pb2.DeleteClipRequest(id=first.id), timeout=TIMEOUT)
    assert stack.search_core.get_speakers("plain", ["bea"]) == []
