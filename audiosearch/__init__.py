"""audiosearch: audio similarity search as gRPC microservices.

Layers, each importing only those below it (import-linter contracts in pyproject.toml):
    audiosearch.tools     the CLI, the local launcher, the Milvus server manager, evaluation, synthetic audio
    the services          embedding_service, search_service, metadata_service, gateway (independent of each other)
    audiosearch.runtime   what every service runs on: server bootstrap, auth, metrics, logs, settings, domain model
    the SDK               audiosearch.client, audiosearch.sdk and the generated stubs: `pip install audiosearch`
"""

__version__ = "0.1.0"
