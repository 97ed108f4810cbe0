"""The one mapping between domain errors and gRPC status (google.rpc.Status with an ErrorInfo detail)."""

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from audiosearch.sdk import errors

DOMAIN = "audiosearch"


def to_status(error: errors.AudioSearchError) -> grpc.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata))
    status = status_pb2.Status(code=getattr(code_pb2, error.code_name), message=error.message, details=[detail])
    return rpc_status.to_status(status)


def error_info(rpc_error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo detail of a failed call, if the server sent one."""
    status = rpc_status.from_call(rpc_error) if hasattr(rpc_error, "trailing_metadata") else None
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None


def from_rpc_error(rpc_error: grpc.RpcError, peer: str) -> errors.AudioSearchError:
    """Turn a peer's failure into the domain error with the same code, keeping its reason and message."""
    code = rpc_error.code() if hasattr(rpc_error, "code") else grpc.StatusCode.UNKNOWN
    cls = errors.ERRORS_BY_CODE_NAME.get(code.name, errors.Internal)
    info = error_info(rpc_error)
    message = rpc_error.details() if hasattr(rpc_error, "details") else str(rpc_error)
    if info is None:
        # No ErrorInfo: the peer itself could not be reached or crashed; say which one.
        return cls(f"{peer}: {message}", f"PEER_{code.name}", peer=peer)
    return cls(message, info.reason, **dict(info.metadata))
