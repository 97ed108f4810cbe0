"""The web console: static pages and an HTTP/JSON mapping of the gateway's public gRPC API (docs/console.md).

A client of the gateway like the CLI: it imports the SDK (stubs, channel options, error details) and the runtime's
settings loader, never a service.
"""
