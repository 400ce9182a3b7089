"""The SDK's one exception: a rejected or failed call with its gRPC status and reason code."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

from parley.gen.parley.v1 import common_pb2

REASON_TRAILER = "parley-reason-code"
STATUS_DETAILS_TRAILER = "grpc-status-details-bin"
# Statuses after which the same call may succeed when retried unchanged.
RETRYABLE = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})


class ParleyError(Exception):
    """`reason` is the stable ReasonCode number (0 when the server gave none), `reason_name`
    its name (e.g. "SEND_TO_SELF"), `status` the gRPC status name (e.g. "INVALID_ARGUMENT").
    `retry_delay_s` is the server's google.rpc.RetryInfo hint (RATE_LIMITED): the seconds after
    which the same call passes, or None when the server gave none."""

    def __init__(
        self, status: str, reason: int, message: str, retry_delay_s: float | None = None
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_delay_s = retry_delay_s
        super().__init__(f"{status} {self.reason_name} ({reason}): {message}")

    @property
    def reason_name(self) -> str:
        try:
            return common_pb2.ReasonCode.Name(self.reason)  # type: ignore[arg-type]
        except ValueError:
            return "REASON_CODE_UNSPECIFIED"

    @property
    def is_retryable(self) -> bool:
        """True when the same call may pass later: a transient failure, or a rejection that
        came with a retry delay (wait `retry_delay_s` first)."""
        return self.status in RETRYABLE or self.retry_delay_s is not None

    @classmethod
    def from_rpc(cls, error: Any) -> ParleyError:
        reason, retry_delay_s = 0, None
        for key, value in error.trailing_metadata() or ():
            if key == REASON_TRAILER:
                reason = int(value)
            elif key == STATUS_DETAILS_TRAILER:
                retry_delay_s = retry_delay_of(value)
        return cls(error.code().name, reason, error.details() or "", retry_delay_s)


def retry_delay_of(status_details: bytes) -> float | None:
    """The RetryInfo delay, in seconds, of a serialized google.rpc.Status; None without one."""
    retry = error_details_pb2.RetryInfo()
    try:
        details = status_pb2.Status.FromString(status_details).details
    except DecodeError:
        return None
    for detail in details:
        if detail.Unpack(retry):
            return float(retry.retry_delay.ToNanoseconds()) / 1e9
    return None


def is_rpc_error(error: BaseException) -> bool:
    return isinstance(error, grpc.aio.AioRpcError)
