"""SearchService: translates the proto to the search core and back, nothing else."""

from audiosearch.runtime import convert
from audiosearch.search.v1 import search_service_pb2 as pb2
from audiosearch.search.v1 import search_service_pb2_grpc as pb2_grpc
from search_service.core import SearchCore

# 10,000 int64s: about 100 KB per message.
CLIP_IDS_PER_MESSAGE = 10_000


class SearchServicer(pb2_grpc.SearchServiceServicer):
    def __init__(self, core: SearchCore) -> None:
        self.core = core

    def EnsureCollection(self, request, context):
        created = self.core.ensure_collection(
            request.collection,
            request.dimension,
            convert.metric_from_proto(request.metric),
            convert.index_type_from_proto(request.index_type),
        )
        return pb2.EnsureCollectionResponse(created=created)

    def DropCollection(self, request, context):
        return pb2.DropCollectionResponse(dropped=self.core.drop_collection(request.collection))

    def SwitchCollection(self, request, context):
        return pb2.SwitchCollectionResponse(switched=self.core.switch_collection(request.collection, request.target))

    def Upsert(self, request, context):
        clips = [convert.clip_vectors_from_proto(clip) for clip in request.clips]
        return pb2.UpsertResponse(upserted_vectors=self.core.upsert(request.collection, clips))

    def Delete(self, request, context):
        self.core.delete(request.collection, request.clip_ids)
        return pb2.DeleteResponse()

    def Search(self, request, context):
        return convert.search_response_to_proto(self.core.search(*convert.search_request_from_proto(request)))

    def Count(self, request, context):
        count = self.core.count(request.collection)
        return pb2.CountResponse(vectors=count.vectors, clips=count.clips)

    def GetVectors(self, request, context):
        segments = self.core.get_vectors(request.collection, request.clip_id)
        return pb2.GetVectorsResponse(segments=[convert.segment_to_proto(segment) for segment in segments])

    def ListClipIds(self, request, context):
        clip_ids = self.core.list_clip_ids(request.collection)
        for start in range(0, len(clip_ids), CLIP_IDS_PER_MESSAGE):
            yield pb2.ListClipIdsResponse(clip_ids=clip_ids[start : start + CLIP_IDS_PER_MESSAGE])

    def UpsertSpeakers(self, request, context):
        self.core.upsert_speakers(request.collection, [convert.speaker_row_from_proto(row) for row in request.speakers])
        return pb2.UpsertSpeakersResponse()

    def DeleteSpeakers(self, request, context):
        self.core.delete_speakers(request.collection, request.speaker_ids)
        return pb2.DeleteSpeakersResponse()

    def SearchSpeakers(self, request, context):
        queries = [convert.vector_from_proto(query) for query in request.queries]
        return convert.speaker_hits_to_proto(self.core.search_speakers(request.collection, queries, request.top_k))

    def GetSpeakers(self, request, context):
        rows = self.core.get_speakers(request.collection, request.speaker_ids)
        return pb2.GetSpeakersResponse(speakers=[convert.speaker_row_to_proto(row) for row in rows])
