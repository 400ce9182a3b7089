"""A rejection's gRPC status details as a client reads them: ErrorInfo, RetryInfo, the SDK."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2, status_pb2

from parley.adapters.wire import grpc_status_of
from parley.domain.errors import Reason, Rejected
from parley.sdk.errors import ParleyError
from services.shell.errors import trailing_metadata_of


@dataclass
class FakeRpcError:
    """What ParleyError.from_rpc reads of a grpc.aio.AioRpcError."""

    status: grpc.StatusCode
    trailers: tuple[tuple[str, str | bytes], ...]
    message: str

    def code(self) -> grpc.StatusCode:
        return self.status

    def details(self) -> str:
        return self.message

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self.trailers


def status_of(rejected: Rejected) -> status_pb2.Status:
    details = dict(trailing_metadata_of(rejected))["grpc-status-details-bin"]
    assert isinstance(details, bytes)
    return status_pb2.Status.FromString(details)


def details_of(rejected: Rejected) -> list[str]:
    return [detail.TypeName() for detail in status_of(rejected).details]


def test_rejection_status__retry_info_only_when_waiting_helps() -> None:
    assert details_of(Rejected(Reason.MUTED, "muted")) == ["google.rpc.ErrorInfo"]
    limited = Rejected(Reason.RATE_LIMITED, "slow down", retry_after_ms=250)
    assert details_of(limited) == ["google.rpc.ErrorInfo", "google.rpc.RetryInfo"]
    retry = error_details_pb2.RetryInfo()
    assert status_of(limited).details[1].Unpack(retry) and retry.retry_delay.ToMilliseconds() == 250


def test_rejection_status__the_sdk_error_exposes_the_retry_delay_and_is_retryable() -> None:
    limited = Rejected(Reason.RATE_LIMITED, "slow down", retry_after_ms=250)
    error = ParleyError.from_rpc(
        FakeRpcError(grpc_status_of(limited.reason), trailing_metadata_of(limited), limited.message)
    )
    assert (error.status, error.reason, error.retry_delay_s) == ("RESOURCE_EXHAUSTED", 2007, 0.25)
    assert error.is_retryable
    muted = Rejected(Reason.MUTED, "muted")
    plain = ParleyError.from_rpc(
        FakeRpcError(grpc_status_of(muted.reason), trailing_metadata_of(muted), muted.message)
    )
    assert plain.retry_delay_s is None and not plain.is_retryable
