"""MetadataService over gRPC: proto -> domain -> core -> proto, nothing else (errors are mapped by the server)."""

from audiosearch.metadata.v1 import metadata_service_pb2 as pb2
from audiosearch.metadata.v1 import metadata_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert
from audiosearch.runtime.upload import assemble_upload
from metadata_service.core import MetadataCore


class MetadataServicer(pb2_grpc.MetadataServiceServicer):
    def __init__(self, core: MetadataCore, max_audio_bytes: int) -> None:
        self.core = core
        self.max_audio_bytes = max_audio_bytes

    def CreateCollection(self, request, context):
        created = self.core.create_collection(convert.collection_from_proto(request.collection))
        return convert.collection_to_proto(created)

    def GetCollection(self, request, context):
        return convert.collection_to_proto(self.core.get_collection(request.name))

    def ListCollections(self, request, context):
        collections, next_page_token = self.core.list_collections(request.page_size, request.page_token)
        return pb2.ListCollectionsResponse(
            collections=[convert.collection_to_proto(collection) for collection in collections],
            next_page_token=next_page_token,
        )

    def DeleteCollection(self, request, context):
        return pb2.DeleteCollectionResponse(deleted_clips=self.core.delete_collection(request.name))

    def CreateClip(self, request, context):
        clip, created = self.core.create_clip(convert.clip_from_proto(request.clip), request.request_id)
        return pb2.CreateClipResponse(clip=convert.clip_to_proto(clip), created=created)

    def GetClip(self, request, context):
        return convert.clip_to_proto(self.core.get_clip(request.id))

    def BatchGetClips(self, request, context):
        clips = self.core.batch_get_clips(list(request.ids))
        return pb2.BatchGetClipsResponse(clips=[convert.clip_to_proto(clip) for clip in clips])

    def ListClips(self, request, context):
        clips, next_page_token = self.core.list_clips(
            request.collection,
            request.page_size,
            request.page_token,
            convert.filter_from_proto(request.filter),
            convert.state_from_proto(request.state),
        )
        return pb2.ListClipsResponse(
            clips=[convert.clip_to_proto(clip) for clip in clips], next_page_token=next_page_token
        )

    def FindByContentHash(self, request, context):
        return convert.clip_to_proto(self.core.find_by_content_hash(request.collection, request.content_sha256))

    def UpdateClipState(self, request, context):
        clip = self.core.update_clip_state(
            request.id,
            convert.state_from_proto(request.state),
            convert.audio_from_proto(request.audio) if request.HasField("audio") else None,
            request.segment_count or None,  # proto3 int32: 0 is "not given"
        )
        return convert.clip_to_proto(clip)

    def DeleteClip(self, request, context):
        return pb2.DeleteClipResponse(deleted=self.core.delete_clip(request.id))

    def CountClips(self, request, context):
        return pb2.CountClipsResponse(by_state=self.core.count_clips(request.collection))

    def SetCalibration(self, request, context):
        calibration = convert.calibration_from_proto(request.calibration) if request.HasField("calibration") else None
        return convert.collection_to_proto(self.core.set_calibration(request.collection, calibration))

    def PutClipAudio(self, request_iterator, context):
        clip_id, content = assemble_upload(request_iterator, "clip_id", self.max_audio_bytes)
        clip, stored = self.core.audio.put(clip_id, content)
        return pb2.PutClipAudioResponse(clip=convert.clip_to_proto(clip), stored=stored)

    def BatchPutClipAudio(self, request, context):
        _, missing = self.core.audio.put_many([(item.clip_id, item.content) for item in request.clips])
        return pb2.BatchPutClipAudioResponse(missing_clip_ids=missing)

    def ReadClipAudio(self, request, context):
        blob, chunks = self.core.audio.read(request.clip_id)
        yield pb2.ReadClipAudioResponse(blob=convert.audio_blob_to_proto(blob))
        for chunk in chunks:
            yield pb2.ReadClipAudioResponse(chunk=chunk)

    def RemoveOrphanAudio(self, request, context):
        removed = self.core.audio.remove_orphans(request.min_age_seconds, request.dry_run)
        return pb2.RemoveOrphanAudioResponse(removed=removed)
