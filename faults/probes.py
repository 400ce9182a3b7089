"""Looks at local servers from outside: a free port to start one on, and whether one answers
gRPC health as SERVING. The fault suites, the end-to-end tests and the benches share them."""

from __future__ import annotations

import socket

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_serving(target: str, timeout_s: float = 1.0) -> bool:
    """Whether the whole server at `target` answers a grpc.health.v1 check with SERVING."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout_s
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
