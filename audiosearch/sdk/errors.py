"""Domain errors. Raised anywhere; mapped to gRPC status codes in one place (audiosearch.sdk.rpc_errors).

Each error carries a machine-readable reason (google.rpc.ErrorInfo.reason, UPPER_SNAKE) and a message that says
what was wrong and what to do.
"""


class AudioSearchError(Exception):
    """Base of every error a caller should see with its own status code."""

    code_name = "INTERNAL"

    def __init__(self, message: str, reason: str = "", **metadata: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.code_name
        self.metadata = {key: str(value) for key, value in metadata.items()}


class InvalidArgument(AudioSearchError):
    code_name = "INVALID_ARGUMENT"


class NotFound(AudioSearchError):
    code_name = "NOT_FOUND"


class AlreadyExists(AudioSearchError):
    code_name = "ALREADY_EXISTS"


class FailedPrecondition(AudioSearchError):
    code_name = "FAILED_PRECONDITION"


class PermissionDenied(AudioSearchError):
    code_name = "PERMISSION_DENIED"


class Unauthenticated(AudioSearchError):
    code_name = "UNAUTHENTICATED"


class ResourceExhausted(AudioSearchError):
    code_name = "RESOURCE_EXHAUSTED"


class Unavailable(AudioSearchError):
    code_name = "UNAVAILABLE"


class DeadlineExceeded(AudioSearchError):
    code_name = "DEADLINE_EXCEEDED"


class Aborted(AudioSearchError):
    code_name = "ABORTED"


class Internal(AudioSearchError):
    code_name = "INTERNAL"


ERRORS_BY_CODE_NAME = {
    cls.code_name: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        PermissionDenied,
        Unauthenticated,
        ResourceExhausted,
        Unavailable,
        DeadlineExceeded,
        Aborted,
        Internal,
    )
}


class SettingsError(ValueError):
    """A configuration value is missing or malformed (a client's TLS files, a service's env): fixed before start."""


def require(condition: bool, message: str, reason: str = "INVALID_ARGUMENT") -> None:
    """Raise InvalidArgument(message) unless condition holds."""
    if not condition:
        raise InvalidArgument(message, reason)
