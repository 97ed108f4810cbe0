"""Clients of the three internal services: proto <-> domain, deadlines from the caller, peer errors as domain errors."""

from collections.abc import Iterable, Iterator, Sequence

import grpc

from audiosearch.embedding.v1 import embedding_service_pb2 as embedding_pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as embedding_grpc
from audiosearch.metadata.v1 import metadata_service_pb2 as metadata_pb2
from audiosearch.metadata.v1 import metadata_service_pb2_grpc as metadata_grpc
from audiosearch.runtime import context, convert, domain
from audiosearch.sdk import errors, rpc_errors, services
from audiosearch.sdk.channel import REQUEST_ID_HEADER, dial
from audiosearch.sdk.security import ChannelSecurity
from audiosearch.sdk.upload import MAX_CHUNK_BYTES, batched, chunked
from audiosearch.search.v1 import search_service_pb2 as search_pb2
from audiosearch.search.v1 import search_service_pb2_grpc as search_grpc


class _Peer:
    """Calls one peer with the caller's request id and what remains of the caller's deadline."""

    service_name = ""

    def __init__(self, channel: grpc.Channel, timeout_seconds: float) -> None:
        self.channel = channel
        self.timeout_seconds = timeout_seconds

    def _call(self, method, request):
        try:
            return method(
                request,
                timeout=context.timeout_for(self.timeout_seconds),
                metadata=[(REQUEST_ID_HEADER, context.request_id.get() or context.new_request_id())],
            )
        except grpc.RpcError as error:
            raise rpc_errors.from_rpc_error(error, self.service_name) from None

    def _stream(self, method, request) -> Iterator:
        """A server stream's messages; a failure, at the call or mid-stream, as the domain error."""
        try:
            yield from self._call(method, request)
        except grpc.RpcError as error:
            raise rpc_errors.from_rpc_error(error, self.service_name) from None


class EmbeddingClient(_Peer):
    service_name = services.EMBEDDING.full_name

    def __init__(self, channel: grpc.Channel, timeout_seconds: float) -> None:
        super().__init__(channel, timeout_seconds)
        self.stub = embedding_grpc.EmbeddingServiceStub(channel)

    def list_models(self) -> list[domain.ModelInfo]:
        response = self._call(self.stub.ListModels, embedding_pb2.ListModelsRequest())
        return [convert.model_from_proto(model) for model in response.models]

    def embed(
        self, model: str, content: bytes, segments: domain.SegmentOptions
    ) -> tuple[domain.AudioInfo, list[domain.Segment]]:
        """Embed audio bytes (in one message up to 1 MiB, else streamed in 1 MiB chunks); one segment, or one per
        window. A stream costs both ends a thread and a message per chunk: most clips fit in one message."""
        options = convert.embed_options_to_proto(model, segments)
        if len(content) <= MAX_CHUNK_BYTES:
            request = embedding_pb2.EmbedAudioRequest(options=options, content=content)
            return convert.embed_response_from_proto(self._call(self.stub.EmbedAudio, request))

        def stream() -> Iterable[embedding_pb2.StreamEmbedAudioRequest]:
            yield embedding_pb2.StreamEmbedAudioRequest(options=options)
            for chunk in chunked(content):
                yield embedding_pb2.StreamEmbedAudioRequest(chunk=chunk)

        return convert.embed_response_from_proto(self._call(self.stub.StreamEmbedAudio, stream()))

    def cut(self, content: bytes, start_seconds: float, end_seconds: float | None) -> tuple[bytes, float, float]:
        """A time range of the audio as a WAV (end None: to the clip's end), and the range it holds."""
        request = embedding_pb2.CutAudioRequest(content=content, start_seconds=start_seconds, end_seconds=end_seconds)
        response = self._call(self.stub.CutAudio, request)
        return response.wav, response.start_seconds, response.end_seconds


class SearchClient(_Peer):
    service_name = services.SEARCH.full_name

    def __init__(self, channel: grpc.Channel, timeout_seconds: float) -> None:
        super().__init__(channel, timeout_seconds)
        self.stub = search_grpc.SearchServiceStub(channel)

    def ensure_collection(self, name: str, dimension: int, metric: str, index_type: str) -> None:
        request = search_pb2.EnsureCollectionRequest(
            collection=name,
            dimension=dimension,
            metric=convert.metric_to_proto(metric),
            index_type=convert.index_type_to_proto(index_type),
        )
        self._call(self.stub.EnsureCollection, request)

    def drop_collection(self, name: str) -> bool:
        """False when there was no such vector collection."""
        return self._call(self.stub.DropCollection, search_pb2.DropCollectionRequest(collection=name)).dropped

    def switch_collection(self, collection: str, target: str) -> bool:
        """Point the collection's name at `target`'s vectors (a rebuild's); False when it did already."""
        request = search_pb2.SwitchCollectionRequest(collection=collection, target=target)
        return self._call(self.stub.SwitchCollection, request).switched

    def upsert(self, collection: str, clip: domain.ClipVectors) -> None:
        clips = [convert.clip_vectors_to_proto(clip)]
        self._call(self.stub.Upsert, search_pb2.UpsertRequest(collection=collection, clips=clips))

    def upsert_many(self, collection: str, clips: Sequence[domain.ClipVectors]) -> None:
        """Several clips' vectors in one call (an import job's batch)."""
        request = search_pb2.UpsertRequest(collection=collection, clips=map(convert.clip_vectors_to_proto, clips))
        self._call(self.stub.Upsert, request)

    def delete(self, collection: str, clip_ids: list[int]) -> None:
        self._call(self.stub.Delete, search_pb2.DeleteRequest(collection=collection, clip_ids=clip_ids))

    def search(
        self,
        collection: str,
        queries: Sequence[domain.Vector],
        top_k: int,
        search_filter: domain.SearchFilter,
        exclude_clip_ids: Sequence[int],
        search_breadth: int = 0,
    ) -> list[list[domain.Hit]]:
        """For each query vector, its top_k clips (each once, with its best window), best first."""
        request = convert.search_request_to_proto(
            collection, queries, top_k, search_filter, exclude_clip_ids, search_breadth
        )
        return convert.search_response_from_proto(self._call(self.stub.Search, request))

    def count_vectors(self, collection: str) -> int:
        return self._call(self.stub.Count, search_pb2.CountRequest(collection=collection)).vectors

    def list_clip_ids(self, collection: str) -> list[int]:
        """Every clip id with vectors in the collection (a server stream of batches)."""
        request = search_pb2.ListClipIdsRequest(collection=collection)
        try:
            responses = self.stub.ListClipIds(
                request,
                timeout=context.timeout_for(self.timeout_seconds * 6),
                metadata=[(REQUEST_ID_HEADER, context.request_id.get() or context.new_request_id())],
            )
            return [clip_id for response in responses for clip_id in response.clip_ids]
        except grpc.RpcError as error:
            raise rpc_errors.from_rpc_error(error, self.service_name) from None

    def get_vectors(self, collection: str, clip_id: int) -> list[domain.Segment]:
        """The clip's stored segments in time order."""
        request = search_pb2.GetVectorsRequest(collection=collection, clip_id=clip_id)
        return [convert.segment_from_proto(segment) for segment in self._call(self.stub.GetVectors, request).segments]

    def upsert_speakers(self, collection: str, rows: Sequence[domain.SpeakerRow]) -> None:
        speakers = [convert.speaker_row_to_proto(row) for row in rows]
        self._call(self.stub.UpsertSpeakers, search_pb2.UpsertSpeakersRequest(collection=collection, speakers=speakers))

    def delete_speakers(self, collection: str, speaker_ids: Sequence[str]) -> None:
        request = search_pb2.DeleteSpeakersRequest(collection=collection, speaker_ids=speaker_ids)
        self._call(self.stub.DeleteSpeakers, request)

    def search_speakers(
        self, collection: str, queries: Sequence[domain.Vector], top_k: int
    ) -> list[list[domain.SpeakerHit]]:
        """For each query vector, its top_k speakers (their rows' centroids), best first."""
        request = search_pb2.SearchSpeakersRequest(
            collection=collection, queries=[convert.vector_to_proto(query) for query in queries], top_k=top_k
        )
        return convert.speaker_hits_from_proto(self._call(self.stub.SearchSpeakers, request))

    def get_speakers(self, collection: str, speaker_ids: Sequence[str]) -> list[domain.SpeakerRow]:
        request = search_pb2.GetSpeakersRequest(collection=collection, speaker_ids=speaker_ids)
        return [convert.speaker_row_from_proto(row) for row in self._call(self.stub.GetSpeakers, request).speakers]


class MetadataClient(_Peer):
    service_name = services.METADATA.full_name

    def __init__(self, channel: grpc.Channel, timeout_seconds: float) -> None:
        super().__init__(channel, timeout_seconds)
        self.stub = metadata_grpc.MetadataServiceStub(channel)

    def create_collection(self, collection: domain.Collection) -> domain.Collection:
        request = metadata_pb2.CreateCollectionRequest(collection=convert.collection_to_proto(collection))
        return convert.collection_from_proto(self._call(self.stub.CreateCollection, request))

    def get_collection(self, name: str) -> domain.Collection:
        request = metadata_pb2.GetCollectionRequest(name=name)
        return convert.collection_from_proto(self._call(self.stub.GetCollection, request))

    def list_collections(self, page_size: int, page_token: str) -> tuple[list[domain.Collection], str]:
        request = metadata_pb2.ListCollectionsRequest(page_size=page_size, page_token=page_token)
        response = self._call(self.stub.ListCollections, request)
        return [convert.collection_from_proto(item) for item in response.collections], response.next_page_token

    def delete_collection(self, name: str) -> int:
        request = metadata_pb2.DeleteCollectionRequest(name=name)
        return self._call(self.stub.DeleteCollection, request).deleted_clips

    def set_calibration(self, name: str, calibration: domain.Calibration | None) -> domain.Collection:
        request = metadata_pb2.SetCalibrationRequest(
            collection=name, calibration=convert.calibration_to_proto(calibration) if calibration else None
        )
        return convert.collection_from_proto(self._call(self.stub.SetCalibration, request))

    def create_clip(self, clip: domain.Clip, request_id: str) -> tuple[domain.Clip, bool]:
        request = metadata_pb2.CreateClipRequest(clip=convert.clip_to_proto(clip), request_id=request_id)
        response = self._call(self.stub.CreateClip, request)
        return convert.clip_from_proto(response.clip), response.created

    def get_clip(self, clip_id: int) -> domain.Clip:
        return convert.clip_from_proto(self._call(self.stub.GetClip, metadata_pb2.GetClipRequest(id=clip_id)))

    def batch_get_clips(self, clip_ids: list[int]) -> list[domain.Clip]:
        response = self._call(self.stub.BatchGetClips, metadata_pb2.BatchGetClipsRequest(ids=clip_ids))
        return [convert.clip_from_proto(item) for item in response.clips]

    def list_clips(
        self, collection: str, page_size: int, page_token: str, search_filter: domain.SearchFilter
    ) -> tuple[list[domain.Clip], str]:
        request = metadata_pb2.ListClipsRequest(
            collection=collection,
            page_size=page_size,
            page_token=page_token,
            filter=convert.filter_to_proto(search_filter),
        )
        response = self._call(self.stub.ListClips, request)
        return [convert.clip_from_proto(item) for item in response.clips], response.next_page_token

    def list_clips_in_state(
        self, collection: str, state: domain.ClipState, page_size: int, page_token: str
    ) -> tuple[list[domain.Clip], str]:
        request = metadata_pb2.ListClipsRequest(
            collection=collection, page_size=page_size, page_token=page_token, state=convert.state_to_proto(state)
        )
        response = self._call(self.stub.ListClips, request)
        return [convert.clip_from_proto(item) for item in response.clips], response.next_page_token

    def find_by_content_hash(self, collection: str, content_sha256: str) -> domain.Clip:
        request = metadata_pb2.FindByContentHashRequest(collection=collection, content_sha256=content_sha256)
        return convert.clip_from_proto(self._call(self.stub.FindByContentHash, request))

    def update_clip_state(self, clip_id: int, state: domain.ClipState, segment_count: int = 0) -> domain.Clip:
        """Move the clip to `state` (and store its segment count when not 0). The audio facts are not sent: they
        were written once, when the record was created after the embed."""
        request = metadata_pb2.UpdateClipStateRequest(
            id=clip_id, state=convert.state_to_proto(state), segment_count=segment_count
        )
        return convert.clip_from_proto(self._call(self.stub.UpdateClipState, request))

    def delete_clip(self, clip_id: int) -> bool:
        return self._call(self.stub.DeleteClip, metadata_pb2.DeleteClipRequest(id=clip_id)).deleted

    def count_clips(self, collection: str) -> dict[str, int]:
        return dict(self._call(self.stub.CountClips, metadata_pb2.CountClipsRequest(collection=collection)).by_state)

    def put_clip_audio(self, clip_id: int, content: bytes) -> domain.Clip:
        """Keep the clip's uploaded bytes (streamed in 1 MiB chunks); the clip, now audio_kept."""

        def stream() -> Iterable[metadata_pb2.PutClipAudioRequest]:
            yield metadata_pb2.PutClipAudioRequest(clip_id=clip_id)
            for chunk in chunked(content):
                yield metadata_pb2.PutClipAudioRequest(chunk=chunk)

        return convert.clip_from_proto(self._call(self.stub.PutClipAudio, stream()).clip)

    def put_clips_audio(self, contents: Sequence[tuple[int, bytes]]) -> set[int]:
        """Keep several clips' uploaded bytes (an import job's batch): clips of up to 1 MiB in BatchPutClipAudio calls
        of at most MAX_BATCH_BYTES, larger ones streamed one by one. The ids of the clips that no longer exist
        (deleted meanwhile), whose bytes were not kept."""
        small = [(clip_id, content) for clip_id, content in contents if len(content) <= MAX_CHUNK_BYTES]
        missing: set[int] = set()
        for batch in batched(small):
            request = metadata_pb2.BatchPutClipAudioRequest()
            for clip_id, content in batch:  # added in place: ClipContent messages passed in are copied again
                request.clips.add(clip_id=clip_id, content=content)
            missing.update(self._call(self.stub.BatchPutClipAudio, request).missing_clip_ids)
        for clip_id, content in contents:
            if len(content) > MAX_CHUNK_BYTES:
                try:
                    self.put_clip_audio(clip_id, content)
                except errors.NotFound as error:
                    if error.reason != "CLIP_NOT_FOUND":
                        raise
                    missing.add(clip_id)
        return missing

    def read_clip_audio(self, clip_id: int) -> tuple[domain.AudioBlob, Iterator[bytes]]:
        """The clip's kept audio: its facts, read before this returns (so a refusal is raised here), and its chunks."""
        messages = self._stream(self.stub.ReadClipAudio, metadata_pb2.ReadClipAudioRequest(clip_id=clip_id))
        first = next(messages, None)
        if first is None or first.WhichOneof("payload") != "blob":
            raise errors.Internal(f"the metadata service sent no audio facts for clip {clip_id}", "BAD_PEER_STREAM")
        return convert.audio_blob_from_proto(first.blob), (message.chunk for message in messages)

    def remove_orphan_audio(self, min_age_seconds: float, dry_run: bool) -> int:
        request = metadata_pb2.RemoveOrphanAudioRequest(min_age_seconds=min_age_seconds, dry_run=dry_run)
        return self._call(self.stub.RemoveOrphanAudio, request).removed


def connect(address: str, client_class, timeout_seconds: float, security: ChannelSecurity | None = None):
    """A client of `client_class` over a retrying channel to `address` (TLS and token per `security`)."""
    return client_class(dial(address, [client_class.service_name], security=security), timeout_seconds)
