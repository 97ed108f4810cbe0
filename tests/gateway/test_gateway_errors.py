"""Bad input through the public API: the right status code with an ErrorInfo reason, and nothing left behind."""

import os

import grpc
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from gateway import server as gateway_server

from gateway_support import (
    MIB,
    TIMEOUT,
    audio_file,
    close_core,
    footprint,
    gateway_settings,
    ingest,
    rpc_error,
    start,
    upload,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def collection(gateway, new_collection):
    """A collection holding two clips, whose footprint every refused call must leave as it was."""
    name = new_collection("guarded")
    ingest(gateway, name, audio_file("tone", 1))
    ingest(gateway, name, audio_file("siren", 1))
    return name


@pytest.fixture
def unchanged(gateway, collection):
    """Checks, after the test, that the collection holds the same records and vectors as before it."""
    before = footprint(gateway, collection)
    assert before == (2, 2, 0, 2)
    yield
    assert footprint(gateway, collection) == before


def wav_cut_in_half() -> bytes:
    content = audio_file("vowel", 2)
    return content[: len(content) // 2]


def flac_cut_short() -> bytes:
    content = audio_file("vowel", 2, ".flac")
    return content[: len(content) * 2 // 3]


BAD_AUDIO = {
    "empty": (b"", "EMPTY_AUDIO"),
    "not_audio": (b"this is a text file, not audio\n" * 100, "UNSUPPORTED_AUDIO"),
    "truncated_wav": (wav_cut_in_half(), "TRUNCATED_AUDIO"),
    "truncated_flac": (flac_cut_short(), "TRUNCATED_AUDIO"),
    "shorter_than_the_model_minimum": (audio_file("tone", 3, duration_seconds=0.05), "AUDIO_TOO_SHORT"),
    "silent": (audio_file("tone", 3)[:44] + bytes(32000 * 2), "SILENT_AUDIO"),
}


@pytest.mark.parametrize("name", BAD_AUDIO)
def test_bad_audio_is_refused_and_leaves_nothing(gateway, collection, unchanged, name):
    content, reason = BAD_AUDIO[name]
    with rpc_error(INVALID, reason):
        ingest(gateway, collection, content, source=f"{name}.wav")


@pytest.mark.parametrize("name", ["empty", "not_audio", "truncated_wav", "shorter_than_the_model_minimum"])
def test_bad_audio_as_a_search_query_is_refused(gateway, collection, unchanged, name):
    content, reason = BAD_AUDIO[name]
    with rpc_error(INVALID, reason):
        gateway.SearchAudio(pb2.SearchAudioRequest(collection=collection, audio=content, top_k=5), timeout=TIMEOUT)


def test_ingest_into_an_unknown_collection_is_not_found(gateway, unchanged):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        ingest(gateway, "no_such_collection", audio_file("tone", 1))


def test_an_upload_must_start_with_its_options(gateway, unchanged):
    def chunks_only():
        yield pb2.IngestAudioRequest(chunk=audio_file("tone", 9))

    with rpc_error(INVALID, "OPTIONS_FIRST"):
        gateway.IngestAudio(chunks_only(), timeout=TIMEOUT)
    with rpc_error(INVALID, "OPTIONS_FIRST"):
        gateway.IngestAudio(iter(()), timeout=TIMEOUT)


def test_options_sent_twice_are_refused(gateway, collection, unchanged):
    options = pb2.IngestOptions(collection=collection)
    messages = [*upload(options, audio_file("tone", 9)), pb2.IngestAudioRequest(options=options)]
    with rpc_error(INVALID, "OPTIONS_TWICE"):
        gateway.IngestAudio(iter(messages), timeout=TIMEOUT)


def test_a_chunk_over_one_mib_is_refused(gateway, collection, unchanged):
    content = audio_file("brown_noise", 9, duration_seconds=40.0)
    assert len(content) > MIB
    options = pb2.IngestOptions(collection=collection)
    with rpc_error(INVALID, "CHUNK_TOO_LARGE"):
        gateway.IngestAudio(upload(options, content, chunk_bytes=MIB + 1), timeout=TIMEOUT)


def test_an_upload_over_the_limit_is_refused(stack, gateway, collection, unchanged):
    settings = gateway_settings(stack.addresses, stack.import_root, max_upload_bytes=100_000)
    core = gateway_server.build_core(settings)
    small = start(gateway_server.build_server(settings, core))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{small.port}") as channel:
            stub = pb2_grpc.GatewayServiceStub(channel)
            with rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "AUDIO_TOO_LARGE"):
                ingest(stub, collection, audio_file("tone", 9, duration_seconds=4.0))
            query = pb2.SearchAudioRequest(collection=collection, audio=audio_file("tone", 9, duration_seconds=4.0))
            query.top_k = 1
            with rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "AUDIO_TOO_LARGE"):
                stub.SearchAudio(query, timeout=TIMEOUT)
            assert ingest(stub, collection, audio_file("tone", 1)).duplicate  # small files still pass
    finally:
        small.stop(0)
        close_core(core)


def test_search_in_an_unknown_collection_is_not_found(gateway, unchanged):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        gateway.SearchAudio(
            pb2.SearchAudioRequest(collection="no_such_collection", audio=audio_file("tone", 1), top_k=5),
            timeout=TIMEOUT,
        )


@pytest.mark.parametrize("top_k", [0, -1, 1001])
def test_top_k_outside_1_to_1000_is_invalid(gateway, collection, top_k, unchanged):
    request = pb2.SearchAudioRequest(collection=collection, audio=audio_file("tone", 1), top_k=top_k)
    with rpc_error(INVALID, "INVALID_TOP_K") as raised:
        gateway.SearchAudio(request, timeout=TIMEOUT)
    assert "1000" in raised.value.details()


def test_top_k_1000_is_allowed(gateway, collection):
    request = pb2.SearchAudioRequest(collection=collection, audio=audio_file("tone", 1), top_k=1000)
    assert len(gateway.SearchAudio(request, timeout=TIMEOUT).hits) == 2


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([0.1] * 191, "DIMENSION_MISMATCH"),
        ([0.1] * 193, "DIMENSION_MISMATCH"),
        ([], "DIMENSION_MISMATCH"),
        ([0.0] * 192, "ZERO_VECTOR"),
        ([float("nan")] * 192, "NON_FINITE_VECTOR"),
    ],
    ids=["191", "193", "empty", "zeros", "nan"],
)
def test_a_bad_query_vector_is_invalid(gateway, collection, values, reason, unchanged):
    request = pb2.SearchAudioRequest(collection=collection, vector=pb2.VectorQuery(values=values), top_k=5)
    with rpc_error(INVALID, reason):
        gateway.SearchAudio(request, timeout=TIMEOUT)


def test_a_search_without_a_query_is_invalid(gateway, collection, unchanged):
    with rpc_error(INVALID, "QUERY_REQUIRED"):
        gateway.SearchAudio(pb2.SearchAudioRequest(collection=collection, top_k=5), timeout=TIMEOUT)


def import_all(gateway, collection: str, path: str) -> list[pb2.ImportDirectoryProgress]:
    request = pb2.ImportDirectoryRequest(collection=collection, path=path, recursive=True)
    return list(gateway.ImportDirectory(request, timeout=TIMEOUT))


@pytest.fixture
def outside_audio(stack):
    """Audio in a folder outside the import root: readable by the gateway's process, but not allowed."""
    folder = stack.outside / "secrets"
    folder.mkdir(exist_ok=True)
    (folder / "private.wav").write_bytes(audio_file("vowel", 11))
    return folder


def test_import_outside_the_roots_is_permission_denied(gateway, collection, unchanged, outside_audio):
    with rpc_error(grpc.StatusCode.PERMISSION_DENIED, "PATH_OUTSIDE_ROOTS"):
        import_all(gateway, collection, str(outside_audio))


def test_import_escaping_with_dot_dot_is_permission_denied(stack, gateway, collection, unchanged, outside_audio):
    escape = os.path.relpath(outside_audio, stack.import_root)
    assert escape.startswith("..")
    with rpc_error(grpc.StatusCode.PERMISSION_DENIED, "PATH_OUTSIDE_ROOTS"):
        import_all(gateway, collection, escape)
    with rpc_error(grpc.StatusCode.PERMISSION_DENIED, "PATH_OUTSIDE_ROOTS"):
        import_all(gateway, collection, str(stack.import_root / escape))


def test_import_through_a_symlink_that_escapes_is_permission_denied(
    stack, gateway, collection, unchanged, outside_audio
):
    link = stack.import_root / "innocent_link"
    if not link.exists():
        link.symlink_to(outside_audio, target_is_directory=True)
    with rpc_error(grpc.StatusCode.PERMISSION_DENIED, "PATH_OUTSIDE_ROOTS"):
        import_all(gateway, collection, str(link))
    with rpc_error(grpc.StatusCode.PERMISSION_DENIED, "PATH_OUTSIDE_ROOTS"):
        import_all(gateway, collection, "innocent_link")


def test_a_file_symlink_that_escapes_fails_alone(stack, gateway, collection, unchanged, outside_audio):
    folder = stack.import_root / "mixed_links"
    folder.mkdir()
    (folder / "private.wav").symlink_to(outside_audio / "private.wav")
    (folder / "public.wav").write_bytes(audio_file("tone", 1))  # the collection has it already

    progress = {os.path.basename(item.path): item for item in import_all(gateway, collection, str(folder))}

    assert progress["private.wav"].outcome == pb2.ImportDirectoryProgress.OUTCOME_FAILED
    assert "PERMISSION_DENIED" in progress["private.wav"].error
    assert progress["public.wav"].outcome == pb2.ImportDirectoryProgress.OUTCOME_DUPLICATE


def test_import_of_a_missing_folder_is_not_found(gateway, collection, unchanged):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "PATH_NOT_FOUND"):
        import_all(gateway, collection, "no/such/folder")


def test_import_of_a_file_is_invalid(stack, gateway, collection, unchanged):
    (stack.import_root / "single.wav").write_bytes(audio_file("tone", 21))
    with rpc_error(INVALID, "NOT_A_FOLDER"):
        import_all(gateway, collection, "single.wav")


def test_import_into_an_unknown_collection_is_not_found(stack, gateway, unchanged):
    with rpc_error(grpc.StatusCode.NOT_FOUND, "COLLECTION_NOT_FOUND"):
        import_all(gateway, "no_such_collection", str(stack.import_root))
