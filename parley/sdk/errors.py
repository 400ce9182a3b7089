"""The SDK's one exception: a rejected or failed call with its gRPC status and reason code."""

from __future__ import annotations

from typing import Any

import grpc

from parley.gen.parley.v1 import common_pb2

REASON_TRAILER = "parley-reason-code"
# Statuses after which the same call may succeed when retried unchanged.
RETRYABLE = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})


class ParleyError(Exception):
    """`reason` is the stable ReasonCode number (0 when the server gave none), `reason_name`
    its name (e.g. "SEND_TO_SELF"), `status` the gRPC status name (e.g. "INVALID_ARGUMENT")."""

    def __init__(self, status: str, reason: int, message: str) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        super().__init__(f"{status} {self.reason_name} ({reason}): {message}")

    @property
    def reason_name(self) -> str:
        try:
            return common_pb2.ReasonCode.Name(self.reason)  # type: ignore[arg-type]
        except ValueError:
            return "REASON_CODE_UNSPECIFIED"

    @property
    def is_retryable(self) -> bool:
        return self.status in RETRYABLE

    @classmethod
    def from_rpc(cls, error: Any) -> ParleyError:
        reason = 0
        for key, value in error.trailing_metadata() or ():
            if key == REASON_TRAILER:
                reason = int(value)
        return cls(error.code().name, reason, error.details() or "")


def is_rpc_error(error: BaseException) -> bool:
    return isinstance(error, grpc.aio.AioRpcError)
