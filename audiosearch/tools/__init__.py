"""Tools around the services: the CLI, the local launcher, the Milvus server manager, evaluation, synthetic audio."""
