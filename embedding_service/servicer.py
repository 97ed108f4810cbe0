"""EmbeddingService over gRPC: proto <-> domain, nothing else (errors are mapped by the shared interceptor)."""

from audiosearch.embedding.v1 import embedding_service_pb2 as pb2
from audiosearch.embedding.v1 import embedding_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert
from audiosearch.runtime.upload import assemble_upload
from embedding_service.core import EmbeddingCore, EmbedOptions


def _options(message: pb2.EmbedOptions) -> EmbedOptions:
    model, segments = convert.embed_options_from_proto(message)
    return EmbedOptions(model=model, segments=segments)


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
        return convert.embed_response_to_proto(options.model, *self.core.embed(options, content=content, uri=uri))

    def CutAudio(self, request, context):
        end = request.end_seconds if request.HasField("end_seconds") else None
        wav, start, end = self.core.cut(request.content, request.start_seconds, end)
        return pb2.CutAudioResponse(wav=wav, start_seconds=start, end_seconds=end)

    def StreamEmbedAudio(self, request_iterator, context):
        message, content = assemble_upload(request_iterator, "options", self.core.max_audio_bytes)
        options = _options(message)
        return convert.embed_response_to_proto(options.model, *self.core.embed(options, content=content))
