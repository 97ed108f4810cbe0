"""AudioSearchClient: the typed Python client of the public API (what other backends import; the CLI uses it).

    from audiosearch.client import AudioSearchClient
    with AudioSearchClient("localhost:50051") as client:
        client.create_collection("sounds", model="logmel")
        clip = client.ingest("dog.wav", collection="sounds", sound_class="dog").clip
        for hit in client.search("sounds", audio=open("query.wav", "rb").read(), top_k=5).hits:
            print(hit.clip.source, hit.score)

Calls raise audiosearch.sdk.errors.AudioSearchError subclasses (NotFound, InvalidArgument, ...), carrying the
server's reason. UNAVAILABLE is retried by the channel; every call has a deadline.
"""

import dataclasses
import pathlib
import uuid
from collections.abc import Iterator

import grpc

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.gateway.v1 import import_job_service_pb2 as jobs_pb2
from audiosearch.gateway.v1 import import_job_service_pb2_grpc as jobs_grpc
from audiosearch.gateway.v1 import speaker_service_pb2 as speakers_pb2
from audiosearch.gateway.v1 import speaker_service_pb2_grpc as speakers_grpc
from audiosearch.sdk import rpc_errors, services
from audiosearch.sdk.channel import dial
from audiosearch.sdk.security import ChannelSecurity
from audiosearch.sdk.upload import chunked
from audiosearch.type.v1 import import_job_pb2, types_pb2


class AudioSearchClient:
    def __init__(
        self,
        address: str = "localhost:50051",
        timeout_seconds: float = 60.0,
        token: str = "",
        security: ChannelSecurity | None = None,
    ) -> None:
        """`token` is sent as `authorization: Bearer`; `security` adds TLS (and a client certificate for mTLS)."""
        self.address = address
        self.timeout_seconds = timeout_seconds
        if token:
            security = dataclasses.replace(security or ChannelSecurity(), token=token)
        self.channel = dial(address, [service.full_name for service in services.PUBLIC], security=security)
        self.stub = pb2_grpc.GatewayServiceStub(self.channel)
        self.speakers = speakers_grpc.SpeakerServiceStub(self.channel)
        self.jobs = jobs_grpc.ImportJobServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "AudioSearchClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, timeout: float | None = None):
        try:
            return method(request, timeout=timeout or self.timeout_seconds)
        except grpc.RpcError as error:
            raise rpc_errors.from_rpc_error(error, self.address) from None

    def _stream(self, method, request, timeout: float):
        """A server stream's messages, its errors mapped like _call's."""
        try:
            yield from method(request, timeout=timeout)
        except grpc.RpcError as error:
            raise rpc_errors.from_rpc_error(error, self.address) from None

    def _pages(self, method, make_request, items: str):
        """Every item of a paginated List call: make_request(page_token) builds each page's request; `items` names
        the response's repeated field."""
        token = ""
        while True:
            response = self._call(method, make_request(token))
            yield from getattr(response, items)
            token = response.next_page_token
            if not token:
                return

    def list_models(self) -> list[types_pb2.ModelInfo]:
        """The models collections can be bound to, with their dimension and availability."""
        return list(self._call(self.stub.ListModels, pb2.ListModelsRequest()).models)

    def create_collection(
        self,
        name: str,
        model: str = "",
        window_seconds: float = 0.0,
        hop_seconds: float = 0.0,
        index_type: str = "",
        purpose: str = "",
        keep_audio: bool | None = None,
    ) -> types_pb2.Collection:
        """Create a collection bound to `model`; a window makes one vector per window (long recordings).

        Instead of a model, a purpose ("speakers", "sound_events", "recordings") picks the best available one.
        keep_audio keeps the clips' uploaded bytes (None: kept, except for speakers; docs/kept-audio.md).
        """
        request = pb2.CreateCollectionRequest(
            name=name,
            model=model,
            segments=types_pb2.SegmentOptions(window_seconds=window_seconds, hop_seconds=hop_seconds),
            index_type=f"INDEX_TYPE_{index_type.upper()}" if index_type else "INDEX_TYPE_UNSPECIFIED",
            purpose=f"PURPOSE_{purpose.upper()}" if purpose else "PURPOSE_UNSPECIFIED",
            keep_audio=keep_audio,
        )
        return self._call(self.stub.CreateCollection, request)

    def list_collections(self) -> Iterator[types_pb2.Collection]:
        """Every collection (pages are fetched as you iterate)."""
        return self._pages(
            self.stub.ListCollections,
            lambda token: pb2.ListCollectionsRequest(page_size=100, page_token=token),
            "collections",
        )

    def drop_collection(self, name: str) -> int:
        """Delete a collection, its clips and vectors; returns the number of clips deleted."""
        return self._call(self.stub.DropCollection, pb2.DropCollectionRequest(name=name)).deleted_clips

    def ingest(
        self,
        audio: bytes | str | pathlib.Path,
        collection: str,
        source: str = "",
        speaker: str = "",
        sound_class: str = "",
        tags: tuple[str, ...] = (),
        request_id: str = "",
    ) -> pb2.IngestAudioResponse:
        """Add a clip (bytes, or a path read here and streamed); returns it, or the earlier clip if a duplicate.

        A retry with the same request_id is safe; one is generated when not given.
        """
        if isinstance(audio, (str, pathlib.Path)):
            source = source or pathlib.Path(audio).name
            audio = pathlib.Path(audio).read_bytes()
        options = pb2.IngestOptions(
            collection=collection,
            source=source,
            labels=types_pb2.Labels(speaker=speaker, sound_class=sound_class, tags=list(tags)),
            request_id=request_id or uuid.uuid4().hex,
        )

        def stream() -> Iterator[pb2.IngestAudioRequest]:
            yield pb2.IngestAudioRequest(options=options)
            for chunk in chunked(audio):
                yield pb2.IngestAudioRequest(chunk=chunk)

        return self._call(self.stub.IngestAudio, stream())

    def import_directory(
        self, collection: str, path: str, recursive: bool = True, label_from_parent: bool = False
    ) -> Iterator[pb2.ImportDirectoryProgress]:
        """Ingest a folder the gateway can read (below its import roots); yields one progress item per file."""
        request = pb2.ImportDirectoryRequest(
            collection=collection, path=path, recursive=recursive, label_from_parent=label_from_parent
        )
        return self._stream(self.stub.ImportDirectory, request, max(self.timeout_seconds, 3600))

    def search(
        self,
        collection: str,
        audio: bytes | str | pathlib.Path | None = None,
        clip_id: int | None = None,
        vector: list[float] | None = None,
        top_k: int = 10,
        min_score: float | None = None,
        speakers: tuple[str, ...] = (),
        sound_classes: tuple[str, ...] = (),
        tags_any: tuple[str, ...] = (),
        search_breadth: int = 0,
    ) -> pb2.SearchAudioResponse:
        """The top_k most similar READY clips to one query: audio (bytes or a path), a stored clip id, or a vector.
        search_breadth: HNSW ef / IVF nprobe (0: the service's default); wider is more exact and slower."""
        request = pb2.SearchAudioRequest(
            collection=collection,
            top_k=top_k,
            search_breadth=search_breadth,
            filter=types_pb2.SearchFilter(speakers=speakers, sound_classes=sound_classes, tags_any=tags_any),
        )
        if isinstance(audio, (str, pathlib.Path)):
            audio = pathlib.Path(audio).read_bytes()
        if audio is not None:
            request.audio = audio
        elif clip_id is not None:
            request.clip_id = clip_id
        elif vector is not None:
            request.vector.values.extend(vector)
        if min_score is not None:
            request.min_score = min_score
        return self._call(self.stub.SearchAudio, request)

    def calibrate_recordings(
        self, collection: str, target_false_positive_rate: float = 0.0, snippet_seconds: float = 0.0
    ) -> types_pb2.Calibration:
        """Measure and store a recordings collection's MATCH threshold on its own recordings (needs admin)."""
        request = pb2.CalibrateRecordingsRequest(
            collection=collection,
            target_false_positive_rate=target_false_positive_rate,
            snippet_seconds=snippet_seconds,
        )
        return self._call(self.stub.CalibrateRecordings, request, timeout=max(self.timeout_seconds, 600)).calibration

    def get_clip(self, clip_id: int) -> types_pb2.Clip:
        return self._call(self.stub.GetClip, pb2.GetClipRequest(id=clip_id))

    def list_clips(self, collection: str, sound_classes: tuple[str, ...] = (), speakers: tuple[str, ...] = ()):
        """Every clip of a collection, optionally filtered (pages are fetched as you iterate)."""
        search_filter = types_pb2.SearchFilter(sound_classes=sound_classes, speakers=speakers)
        return self._pages(
            self.stub.ListClips,
            lambda token: pb2.ListClipsRequest(
                collection=collection, page_size=500, page_token=token, filter=search_filter
            ),
            "clips",
        )

    def get_clip_audio(
        self, collection: str, clip_id: int, start_seconds: float | None = None, end_seconds: float | None = None
    ) -> tuple[types_pb2.AudioBlob, Iterator[bytes]]:
        """A clip's kept audio: its facts (content_type, format, size_bytes, sha256, time range) and its bytes in
        chunks, e.g. `b"".join(chunks)`. Without a time range the exact uploaded file; with one a WAV of that range.
        A refusal (no such clip, audio not kept, bad range) is raised here, before any chunk."""
        request = pb2.GetClipAudioRequest(
            collection=collection, clip_id=clip_id, start_seconds=start_seconds, end_seconds=end_seconds
        )
        messages = self._stream(self.stub.GetClipAudio, request, max(self.timeout_seconds, 600))
        first = next(messages)
        return first.blob, (message.chunk for message in messages)

    def delete_clip(self, clip_id: int) -> bool:
        """Delete a clip's record and vectors; False when there was no such clip."""
        return self._call(self.stub.DeleteClip, pb2.DeleteClipRequest(id=clip_id)).deleted

    def reconcile(
        self, collection: str = "", min_age_seconds: float = 0.0, dry_run: bool = False
    ) -> list[pb2.CollectionReconcile]:
        """Heal crash leftovers (stale PENDING/DELETING/FAILED clips, vectors without a READY clip); needs admin."""
        request = pb2.ReconcileRequest(collection=collection, min_age_seconds=min_age_seconds, dry_run=dry_run)
        return list(self._call(self.stub.Reconcile, request).collections)

    def stats(self) -> list[pb2.CollectionStats]:
        return list(self._call(self.stub.GetStats, pb2.GetStatsRequest()).collections)

    # Speakers of a speakers-purpose collection (docs/speakers.md)

    def enroll_speaker(
        self,
        collection: str,
        speaker_id: str,
        audio: bytes | str | pathlib.Path,
        source: str = "",
        request_id: str = "",
    ) -> speakers_pb2.EnrollSpeakerResponse:
        """Add one enrollment utterance (bytes, or a path read here and streamed) to a speaker, created by its
        first. A retry with the same request_id is safe; one is generated when not given."""
        if isinstance(audio, (str, pathlib.Path)):
            source = source or pathlib.Path(audio).name
            audio = pathlib.Path(audio).read_bytes()
        options = speakers_pb2.EnrollOptions(
            collection=collection, speaker_id=speaker_id, source=source, request_id=request_id or uuid.uuid4().hex
        )

        def stream() -> Iterator[speakers_pb2.EnrollSpeakerRequest]:
            yield speakers_pb2.EnrollSpeakerRequest(options=options)
            for chunk in chunked(audio):
                yield speakers_pb2.EnrollSpeakerRequest(chunk=chunk)

        return self._call(self.speakers.EnrollSpeaker, stream())

    def get_speaker(self, collection: str, speaker_id: str) -> speakers_pb2.Speaker:
        request = speakers_pb2.GetSpeakerRequest(collection=collection, speaker_id=speaker_id)
        return self._call(self.speakers.GetSpeaker, request)

    def list_speakers(self, collection: str) -> Iterator[speakers_pb2.Speaker]:
        """Every speaker of a collection, by id (pages are fetched as you iterate)."""
        return self._pages(
            self.speakers.ListSpeakers,
            lambda token: speakers_pb2.ListSpeakersRequest(collection=collection, page_size=100, page_token=token),
            "speakers",
        )

    def delete_speaker(self, collection: str, speaker_id: str) -> int:
        """Delete every utterance, record and vector of a speaker; returns how many utterances were removed."""
        request = speakers_pb2.DeleteSpeakerRequest(collection=collection, speaker_id=speaker_id)
        return self._call(self.speakers.DeleteSpeaker, request).deleted_utterances

    def identify_speaker(
        self,
        collection: str,
        audio: bytes | str | pathlib.Path | None = None,
        vector: list[float] | None = None,
        top_k: int = 0,
        scoring: str = "",
    ) -> speakers_pb2.IdentifySpeakerResponse:
        """Who is speaking (1:N): the best speakers and the decision, a speaker or UNKNOWN (with the reason)."""
        request = speakers_pb2.IdentifySpeakerRequest(collection=collection, top_k=top_k, scoring=_scoring(scoring))
        _set_query(request, audio, vector)
        return self._call(self.speakers.IdentifySpeaker, request)

    def verify_speaker(
        self,
        collection: str,
        speaker_id: str,
        audio: bytes | str | pathlib.Path | None = None,
        vector: list[float] | None = None,
        scoring: str = "",
    ) -> speakers_pb2.VerifySpeakerResponse:
        """Is this the claimed speaker (1:1): ACCEPT or REJECT, the score, and the threshold used."""
        request = speakers_pb2.VerifySpeakerRequest(
            collection=collection, speaker_id=speaker_id, scoring=_scoring(scoring)
        )
        _set_query(request, audio, vector)
        return self._call(self.speakers.VerifySpeaker, request)

    def calibrate_speakers(
        self, collection: str, target_false_accept_rate: float = 0.0, scoring: str = ""
    ) -> speakers_pb2.CalibrateSpeakersResponse:
        """Measure and store the collection's thresholds from its own enrollments (needs admin)."""
        request = speakers_pb2.CalibrateSpeakersRequest(
            collection=collection, target_false_accept_rate=target_false_accept_rate, scoring=_scoring(scoring)
        )
        return self._call(self.speakers.CalibrateSpeakers, request, timeout=max(self.timeout_seconds, 600))

    # Import jobs: a folder the gateway can read, imported by the gateways in the background

    def create_import_job(
        self,
        collection: str,
        path: str,
        recursive: bool = True,
        label_from_parent: bool = False,
        speaker: str = "",
        sound_class: str = "",
        tags: tuple[str, ...] = (),
        request_id: str = "",
    ) -> import_job_pb2.ImportJob:
        """Start importing a folder below the gateway's import roots; returns the QUEUED job at once. A retry with
        the same request_id (one is generated when not given) returns the same job."""
        request = jobs_pb2.CreateImportJobRequest(
            collection=collection,
            path=path,
            recursive=recursive,
            labels=types_pb2.Labels(speaker=speaker, sound_class=sound_class, tags=list(tags)),
            label_from_parent=label_from_parent,
            request_id=request_id or uuid.uuid4().hex,
        )
        return self._call(self.jobs.CreateImportJob, request)

    def rebuild_collection(
        self,
        collection: str,
        model: str,
        window_seconds: float | None = None,
        hop_seconds: float = 0.0,
        request_id: str = "",
    ) -> import_job_pb2.ImportJob:
        """Re-embed the collection's clips from their kept audio with `model` (and new windows, when
        window_seconds is given; 0 for one vector per clip), as an import job; returns the QUEUED job at once. The
        collection keeps its model until the job succeeds. Watch it with watch_import_job."""
        request = jobs_pb2.RebuildCollectionRequest(
            collection=collection, model=model, request_id=request_id or uuid.uuid4().hex
        )
        if window_seconds is not None:
            request.segments.CopyFrom(types_pb2.SegmentOptions(window_seconds=window_seconds, hop_seconds=hop_seconds))
        return self._call(self.jobs.RebuildCollection, request)

    def get_import_job(self, job_id: int) -> import_job_pb2.ImportJob:
        return self._call(self.jobs.GetImportJob, jobs_pb2.GetImportJobRequest(id=job_id))

    def list_import_jobs(self) -> Iterator[import_job_pb2.ImportJob]:
        """Every import job, newest first (pages are fetched as you iterate)."""
        return self._pages(
            self.jobs.ListImportJobs,
            lambda token: jobs_pb2.ListImportJobsRequest(page_size=100, page_token=token),
            "import_jobs",
        )

    def cancel_import_job(self, job_id: int) -> import_job_pb2.ImportJob:
        """Stop a job: files in flight finish, no new file starts (CANCELLING, then CANCELLED)."""
        return self._call(self.jobs.CancelImportJob, jobs_pb2.CancelImportJobRequest(id=job_id))

    def watch_import_job(self, job_id: int, timeout_seconds: float | None = None) -> Iterator[import_job_pb2.ImportJob]:
        """The job now and at each change, until it ends; leaving the loop early leaves the job running."""
        request = jobs_pb2.WatchImportJobRequest(id=job_id)
        return self._stream(self.jobs.WatchImportJob, request, timeout_seconds or max(self.timeout_seconds, 7 * 86400))

    def import_job_failures(self, job_id: int) -> Iterator[import_job_pb2.ImportJobFile]:
        """The files of a job that failed, with why, in listing order."""
        return self._pages(
            self.jobs.ListImportJobFailures,
            lambda token: jobs_pb2.ListImportJobFailuresRequest(id=job_id, page_size=500, page_token=token),
            "failures",
        )


def _scoring(name: str) -> str:
    return f"SCORING_{name.upper()}" if name else "SCORING_UNSPECIFIED"


def _set_query(request, audio: bytes | str | pathlib.Path | None, vector: list[float] | None) -> None:
    if isinstance(audio, (str, pathlib.Path)):
        audio = pathlib.Path(audio).read_bytes()
    if audio is not None:
        request.audio = audio
    elif vector is not None:
        request.vector.values.extend(vector)
