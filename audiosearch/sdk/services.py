"""The four services as their descriptors say: full names and methods are read from here, never typed as strings."""

from audiosearch.embedding.v1 import embedding_service_pb2
from audiosearch.gateway.v1 import gateway_service_pb2, speaker_service_pb2
from audiosearch.gateway.v1 import import_job_service_pb2 as gateway_import_job_pb2
from audiosearch.metadata.v1 import import_job_service_pb2 as metadata_import_job_pb2
from audiosearch.metadata.v1 import metadata_service_pb2
from audiosearch.search.v1 import search_service_pb2

GATEWAY = gateway_service_pb2.DESCRIPTOR.services_by_name["GatewayService"]
EMBEDDING = embedding_service_pb2.DESCRIPTOR.services_by_name["EmbeddingService"]
SEARCH = search_service_pb2.DESCRIPTOR.services_by_name["SearchService"]
METADATA = metadata_service_pb2.DESCRIPTOR.services_by_name["MetadataService"]
# Import jobs (issue #14): the public resource on the gateway, and their records in the metadata service.
IMPORT_JOBS = gateway_import_job_pb2.DESCRIPTOR.services_by_name["ImportJobService"]
IMPORT_JOB_RECORDS = metadata_import_job_pb2.DESCRIPTOR.services_by_name["ImportJobService"]
# Speakers of speakers-purpose collections (issue #12), served by the gateway.
SPEAKERS = speaker_service_pb2.DESCRIPTOR.services_by_name["SpeakerService"]
# The public API: what the gateway serves to clients (the SDK client, the web console's HTTP mapping).
PUBLIC = (GATEWAY, IMPORT_JOBS, SPEAKERS)
