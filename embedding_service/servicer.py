"""EmbeddingService over gRPC: proto <-> domain, nothing else (errors are mapped by the shared interceptor)."""

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert, domain
from audiosearch.runtime.upload import assemble_upload
from embedding_service.core import EmbeddingCore, EmbedOptions


def _options(message: pb2.EmbedOptions) -> EmbedOptions:
    return EmbedOptions(model=message.model, segments=convert.segments_from_proto(message.segments))


def _response(model: str, audio: domain.AudioInfo, segments: list[domain.Segment]) -> pb2.EmbedAudioResponse:
    embeddings = [
        pb2.Embedding(vector=segment.vector, start_seconds=segment.start_seconds, end_seconds=segment.end_seconds)
        for segment in segments
    ]
    return pb2.EmbedAudioResponse(model=model, audio=convert.audio_to_proto(audio), embeddings=embeddings)


class EmbeddingServicer(pb2_grpc.EmbeddingServiceServicer):
    def __init__(self, core: EmbeddingCore) -> None:
        self.core = core

    def ListModels(self, request, context):
        models = [convert.model_to_proto(model) for model in self.core.list_models()]
        return pb2.ListModelsResponse(models=models)

    def EmbedAudio(self, request, context):
        options = _options(request.options)
        source = request.WhichOneof("source")
        content = request.content if source == "content" else None
        uri = request.uri if source == "uri" else None
        return _response(options.model, *self.core.embed(options, content=content, uri=uri))

    def StreamEmbedAudio(self, request_iterator, context):
        message, content = assemble_upload(request_iterator, "options", self.core.max_audio_bytes)
        options = _options(message)
        return _response(options.model, *self.core.embed(options, content=content))
