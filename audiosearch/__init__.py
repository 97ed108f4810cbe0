"""audiosearch: audio similarity search as gRPC microservices (SDK, shared runtime and CLI)."""

__version__ = "0.1.0"
