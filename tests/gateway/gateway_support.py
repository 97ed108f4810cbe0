"""Helpers shared by the gateway tests: synthetic audio files, uploads, and error assertions."""

import contextlib
import pathlib

import grpc
import numpy as np
import pytest

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.runtime.server import RunningServer
from audiosearch.sdk.rpc_errors import error_info
from audiosearch.tools import synth
from audiosearch.type.v1 import types_pb2
from gateway.config import GatewaySettings
from gateway.core import GatewayCore

MIB = 1024 * 1024
TIMEOUT = 60
LOCAL = "127.0.0.1:0"


def start(running: RunningServer) -> RunningServer:
    """What serve() does in a process, minus the signals: start, then report SERVING."""
    running.server.start()
    running.set_serving(True)
    return running


def gateway_settings(addresses: dict[str, str], import_root: pathlib.Path, **overrides) -> GatewaySettings:
    return GatewaySettings(
        embedding_address=addresses["embedding"],
        search_address=addresses["search"],
        metadata_address=addresses["metadata"],
        listen=LOCAL,
        import_roots=(str(import_root),),
        **overrides,
    )


def close_core(core: GatewayCore) -> None:
    if core.importer is not None:
        core.importer.runner.stop()  # no more claims against services that are going away
    for client in (core.embedder, core.index, core.catalog):
        client.channel.close()


@contextlib.contextmanager
def own_gateway(addresses: dict[str, str], import_root: pathlib.Path, **overrides):
    """A gateway of the caller's own on the three services (its settings the caller's): an SDK client of it."""
    from audiosearch.client import AudioSearchClient
    from gateway import server as gateway_server

    settings = gateway_settings(addresses, import_root, **overrides)
    core = gateway_server.build_core(settings)
    running = start(gateway_server.build_server(settings, core))
    if core.importer is not None:
        core.importer.runner.start()  # as main() does: it resumes jobs that a dead gateway left
    client = AudioSearchClient(f"127.0.0.1:{running.port}", timeout_seconds=TIMEOUT)
    try:
        yield client
    finally:
        client.close()
        running.stop(0)
        close_core(core)


def audio_file(
    sound_class: str,
    seed: int,
    suffix: str = ".wav",
    duration_seconds: float = 2.0,
    sample_rate: int = 16000,
    channels: int = 1,
) -> bytes:
    """The bytes of a synthetic clip, as an audio file of the format named by suffix."""
    samples = synth.generate(sound_class, seed, duration_seconds, sample_rate)
    if channels > 1:
        samples = np.stack([samples] * channels, axis=1)
    return synth.encode(samples, sample_rate, suffix)


def upload(options: pb2.IngestOptions, content: bytes, chunk_bytes: int = MIB):
    """IngestAudio's client stream: the options, then the content in chunks."""
    yield pb2.IngestAudioRequest(options=options)
    for offset in range(0, len(content), chunk_bytes):
        yield pb2.IngestAudioRequest(chunk=content[offset : offset + chunk_bytes])


def ingest(
    gateway, collection: str, content: bytes, source: str = "", speaker: str = "", sound_class: str = "", **options
) -> pb2.IngestAudioResponse:
    labels = types_pb2.Labels(speaker=speaker, sound_class=sound_class)
    request = pb2.IngestOptions(collection=collection, source=source, labels=labels, **options)
    return gateway.IngestAudio(upload(request, content), timeout=TIMEOUT)


@contextlib.contextmanager
def rpc_error(code: grpc.StatusCode, reason: str | None = None):
    """Expect the block to fail with `code` and an ErrorInfo detail (with `reason`, when given)."""
    with pytest.raises(grpc.RpcError) as raised:
        yield raised
    error = raised.value
    assert error.code() == code, f"expected {code.name}, got {error.code().name}: {error.details()}"
    info = error_info(error)
    assert info is not None, f"{code.name} came without an ErrorInfo detail: {error.details()}"
    assert info.reason, "the ErrorInfo detail has no reason"
    if reason is not None:
        assert info.reason == reason, f"expected reason {reason}, got {info.reason}: {error.details()}"
    assert error.details(), "the status has no message"


def stats_of(gateway, collection: str) -> pb2.CollectionStats:
    for row in gateway.GetStats(pb2.GetStatsRequest(), timeout=TIMEOUT).collections:
        if row.name == collection:
            return row
    raise AssertionError(f"GetStats does not list collection {collection}")


def all_clips(gateway, collection: str, page_size: int = 100, **filter_fields) -> list[types_pb2.Clip]:
    clips, token = [], ""
    while True:
        response = gateway.ListClips(
            pb2.ListClipsRequest(
                collection=collection,
                page_size=page_size,
                page_token=token,
                filter=types_pb2.SearchFilter(**filter_fields),
            ),
            timeout=TIMEOUT,
        )
        clips.extend(response.clips)
        token = response.next_page_token
        if not token:
            return clips


def footprint(gateway, collection: str) -> tuple[int, int, int, int]:
    """(clip records, ready, pending + failed, vectors): what a failed call must leave unchanged."""
    row = stats_of(gateway, collection)
    return len(all_clips(gateway, collection)), row.ready_clips, row.pending_clips + row.failed_clips, row.vectors
