"""GatewayService: translates the public proto to the gateway core and back, nothing else."""

import dataclasses

from audiosearch.gateway.v1 import gateway_service_pb2 as pb2
from audiosearch.gateway.v1 import gateway_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert, domain
from audiosearch.runtime.upload import assemble_upload
from gateway.core import GatewayCore, IngestRequest, SearchQuery

_OUTCOMES = {
    "ADDED": pb2.ImportDirectoryProgress.OUTCOME_ADDED,
    "DUPLICATE": pb2.ImportDirectoryProgress.OUTCOME_DUPLICATE,
    "FAILED": pb2.ImportDirectoryProgress.OUTCOME_FAILED,
}


class GatewayServicer(pb2_grpc.GatewayServiceServicer):
    def __init__(self, core: GatewayCore) -> None:
        self.core = core

    def ListModels(self, request, context):
        return pb2.ListModelsResponse(models=[convert.model_to_proto(model) for model in self.core.list_models()])

    def CreateCollection(self, request, context):
        collection = self.core.create_collection(
            request.name,
            request.model,
            convert.segments_from_proto(request.segments),
            convert.index_type_from_proto(request.index_type),
            convert.enum_name(pb2.CreateCollectionRequest.Purpose, request.purpose, "PURPOSE_"),
            request.keep_audio if request.HasField("keep_audio") else None,
        )
        return convert.collection_to_proto(collection)

    def ListCollections(self, request, context):
        collections, token = self.core.list_collections(request.page_size, request.page_token)
        return pb2.ListCollectionsResponse(
            collections=[convert.collection_to_proto(item) for item in collections], next_page_token=token
        )

    def DropCollection(self, request, context):
        return pb2.DropCollectionResponse(deleted_clips=self.core.drop_collection(request.name))

    def IngestAudio(self, request_iterator, context):
        options, content = assemble_upload(request_iterator, "options", self.core.max_upload_bytes)
        result = self.core.ingest(
            IngestRequest(
                collection=options.collection,
                content=content,
                source=options.source,
                labels=convert.labels_from_proto(options.labels),
                request_id=options.request_id,
            )
        )
        return pb2.IngestAudioResponse(clip=convert.clip_to_proto(result.clip), duplicate=result.duplicate)

    def ImportDirectory(self, request, context):
        progress = self.core.import_directory(
            request.collection,
            request.path,
            request.recursive,
            convert.labels_from_proto(request.labels),
            request.label_from_parent,
        )
        for item in progress:
            yield pb2.ImportDirectoryProgress(
                path=item.path,
                outcome=_OUTCOMES[item.outcome],
                clip=convert.clip_to_proto(item.clip) if item.clip else None,
                error=item.error,
                done=item.done,
                total=item.total,
            )

    def SearchAudio(self, request, context):
        which = request.WhichOneof("query")
        query = SearchQuery(
            collection=request.collection,
            top_k=request.top_k,
            audio=request.audio if which == "audio" else None,
            clip_id=request.clip_id if which == "clip_id" else None,
            vector=request.vector.values if which == "vector" else None,
            min_score=request.min_score if request.HasField("min_score") else None,
            search_filter=convert.filter_from_proto(request.filter),
            search_breadth=request.search_breadth,
        )
        result = self.core.search(query)
        return pb2.SearchAudioResponse(
            model=result.model,
            hits=[
                pb2.SearchHit(
                    clip=convert.clip_to_proto(hit.clip),
                    score=hit.score,
                    start_seconds=hit.start_seconds,
                    end_seconds=hit.end_seconds,
                    alignment=pb2.Alignment(**dataclasses.asdict(hit.alignment)) if hit.alignment else None,
                    decision=pb2.Decision.Value(f"DECISION_{hit.decision}") if hit.decision else None,
                )
                for hit in result.hits
            ],
            threshold=_threshold_to_proto(result.threshold) if result.threshold else None,
        )

    def CalibrateRecordings(self, request, context):
        calibration = self.core.calibrate_recordings(
            request.collection, request.target_false_positive_rate, request.snippet_seconds
        )
        return pb2.CalibrateRecordingsResponse(calibration=convert.calibration_to_proto(calibration))

    def GetClip(self, request, context):
        return convert.clip_to_proto(self.core.get_clip(request.id))

    def ListClips(self, request, context):
        clips, token = self.core.list_clips(
            request.collection, request.page_size, request.page_token, convert.filter_from_proto(request.filter)
        )
        return pb2.ListClipsResponse(clips=[convert.clip_to_proto(clip) for clip in clips], next_page_token=token)

    def GetClipAudio(self, request, context):
        blob, chunks = self.core.get_clip_audio(
            request.collection,
            request.clip_id,
            request.start_seconds if request.HasField("start_seconds") else None,
            request.end_seconds if request.HasField("end_seconds") else None,
        )
        yield pb2.GetClipAudioResponse(blob=convert.audio_blob_to_proto(blob))
        for chunk in chunks:
            yield pb2.GetClipAudioResponse(chunk=chunk)

    def DeleteClip(self, request, context):
        return pb2.DeleteClipResponse(deleted=self.core.delete_clip(request.id))

    def Reconcile(self, request, context):
        result = self.core.reconcile(request.collection, request.min_age_seconds, request.dry_run)
        return pb2.ReconcileResponse(
            orphan_audio_removed=result.orphan_audio_removed,
            collections=[
                pb2.CollectionReconcile(
                    name=report.name,
                    pending_rolled_back=report.pending_rolled_back,
                    deleting_finished=report.deleting_finished,
                    failed_removed=report.failed_removed,
                    orphan_vectors_removed=report.orphan_vectors_removed,
                    ready_without_vectors=report.ready_without_vectors,
                    vectors_recreated=report.vectors_recreated,
                    vectors_restored=report.vectors_restored,
                )
                for report in result.collections
            ],
        )

    def GetStats(self, request, context):
        return pb2.GetStatsResponse(
            collections=[
                pb2.CollectionStats(
                    name=row.name,
                    model=row.model,
                    ready_clips=row.ready_clips,
                    pending_clips=row.pending_clips,
                    failed_clips=row.failed_clips,
                    vectors=row.vectors,
                    problem=row.problem,
                )
                for row in self.core.stats()
            ]
        )


def _threshold_to_proto(threshold: domain.MatchThreshold) -> pb2.MatchThreshold:
    return pb2.MatchThreshold(
        score=threshold.score,
        source=pb2.MatchThreshold.Source.Value(f"SOURCE_{threshold.source}"),
        false_positive_rate=threshold.false_positive_rate,
    )
