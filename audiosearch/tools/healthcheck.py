"""`python -m audiosearch.tools.healthcheck [ADDRESS] [SERVICE]`: exit 0 when the server's grpc.health.v1 says SERVING.

The container health check of docker-compose (grpc_health_probe is not on PyPI). ADDRESS defaults to the
service's own listen address, read from AUDIOSEARCH_<SERVICE>_LISTEN when AUDIOSEARCH_SERVICE names it, with a
wildcard host ([::], 0.0.0.0) dialled as localhost. SERVICE is the health service name ('' = the whole server).
"""

import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT_SECONDS = 3.0


def local_address(listen: str) -> str:
    """Where to dial a server listening on `listen` from the same host."""
    host, _, port = listen.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::", "*"):
        host = "localhost"
    return f"{host}:{port}"


def default_address(environ=os.environ) -> str:
    service = environ.get("AUDIOSEARCH_SERVICE", "")
    listen = environ.get(f"AUDIOSEARCH_{service.upper()}_LISTEN", "") if service else ""
    return local_address(listen) if listen else "localhost:50051"


def check(address: str, service: str = "", timeout: float = TIMEOUT_SECONDS) -> str:
    """The serving status name (SERVING, NOT_SERVING, ...); raises grpc.RpcError when the server does not answer."""
    with grpc.insecure_channel(address) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    address = args[0] if args else default_address()
    service = args[1] if len(args) > 1 else ""
    try:
        status = check(address, service)
    except grpc.RpcError as error:
        print(f"{address}: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    print(f"{address}: {status}")
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
