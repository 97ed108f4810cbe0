"""SearchService: translates the proto to the search core and back, nothing else."""

from audiosearch.runtime import convert, domain
from audiosearch.search.v1 import search_service_pb2 as pb2
from audiosearch.search.v1 import search_service_pb2_grpc as pb2_grpc
from search_service.core import SearchCore
from search_service.vectors import ClipVectors

# 10,000 int64s: about 100 KB per message.
CLIP_IDS_PER_MESSAGE = 10_000


class SearchServicer(pb2_grpc.SearchServiceServicer):
    def __init__(self, core: SearchCore) -> None:
        self.core = core

    def EnsureCollection(self, request, context):
        created = self.core.ensure_collection(request.collection, request.dimension, request.metric, request.index_type)
        return pb2.EnsureCollectionResponse(created=created)

    def DropCollection(self, request, context):
        return pb2.DropCollectionResponse(dropped=self.core.drop_collection(request.collection))

    def Upsert(self, request, context):
        clips = [
            ClipVectors(
                clip.clip_id,
                convert.labels_from_proto(clip.labels),
                clip.duration_seconds,
                [_segment_from_proto(segment) for segment in clip.segments],
            )
            for clip in request.clips
        ]
        return pb2.UpsertResponse(upserted_vectors=self.core.upsert(request.collection, clips))

    def Delete(self, request, context):
        self.core.delete(request.collection, list(request.clip_ids))
        return pb2.DeleteResponse()

    def Search(self, request, context):
        results = self.core.search(
            request.collection,
            [query.values for query in request.queries],
            request.top_k,
            convert.filter_from_proto(request.filter),
            request.search_breadth,
            list(request.exclude_clip_ids),
        )
        return pb2.SearchResponse(
            results=[pb2.QueryResult(hits=[_hit_to_proto(hit) for hit in hits]) for hits in results]
        )

    def Count(self, request, context):
        count = self.core.count(request.collection)
        return pb2.CountResponse(vectors=count.vectors, clips=count.clips)

    def GetVectors(self, request, context):
        segments = self.core.get_vectors(request.collection, request.clip_id)
        return pb2.GetVectorsResponse(segments=[_segment_to_proto(segment) for segment in segments])

    def ListClipIds(self, request, context):
        clip_ids = self.core.list_clip_ids(request.collection)
        for start in range(0, len(clip_ids), CLIP_IDS_PER_MESSAGE):
            yield pb2.ListClipIdsResponse(clip_ids=clip_ids[start : start + CLIP_IDS_PER_MESSAGE])


def _segment_from_proto(message: pb2.Segment) -> domain.Segment:
    return domain.Segment(list(message.vector.values), message.start_seconds, message.end_seconds)


def _segment_to_proto(segment: domain.Segment) -> pb2.Segment:
    return pb2.Segment(
        vector=pb2.Vector(values=segment.vector), start_seconds=segment.start_seconds, end_seconds=segment.end_seconds
    )


def _hit_to_proto(hit: domain.Hit) -> pb2.Hit:
    return pb2.Hit(clip_id=hit.clip_id, score=hit.score, start_seconds=hit.start_seconds, end_seconds=hit.end_seconds)
