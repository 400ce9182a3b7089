"""The delivery gRPC server: session streams plus health and reflection, and graceful shutdown."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import grpc

from services.delivery.connect import (
    SERVICE_NAME,
    DeliveryContext,
    DeliveryServicer,
    method_handlers,
)
from services.shell.bad_input import BadInputInterceptor
from services.shell.server import RunningServer, serve

# Connects one node accepts arriving at once: the sessions a node holds (20,000).
SESSION_STORM = 20_000

SERVER_OPTIONS = (
    # Several delivery processes may share one port on Linux; the kernel spreads connections.
    ("grpc.so_reuseport", 1),
    # Transport keepalive finds dead peers (a phone that lost its network) within ~30 s, so
    # their sessions and presence do not linger; clients may ping as often as every 10 s.
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 1024 * 1024),
    # The gRPC core queues the calls the Python server has not picked up yet and, by default,
    # refuses some past 1000 and all past 3000: the client sees INTERNAL "Internal error from
    # Core". When a node goes away its sessions reconnect at once, so this node must be able to
    # queue a whole node's worth of them (SESSION_STORM); queued calls still expire after 30 s.
    ("grpc.server.max_pending_requests", SESSION_STORM),
    ("grpc.server.max_pending_requests_hard_limit", 2 * SESSION_STORM),
)


async def start_server(context: DeliveryContext, address: str) -> RunningServer:
    """Binds `address` ("host:port", port 0 picks one) and starts serving. Authentication runs
    inside Connect (services.shell.auth.bearer_of + TokenAuthority): the session needs the
    token's expiry, and a coroutine handler (not the interceptor's generator wrapper) can be
    interrupted while blocked on a client that stopped reading. BadInputInterceptor keeps a
    coroutine handler a coroutine: an undecodable frame is BAD_PARAMETER, never UNKNOWN.
    Stopping sends every session GoAway (its stream then ends UNAVAILABLE)."""

    def mount(server: grpc.aio.Server) -> Sequence[str]:
        server.add_generic_rpc_handlers((method_handlers(DeliveryServicer(context)),))
        return (SERVICE_NAME,)

    running = await serve("delivery", address, [mount], [BadInputInterceptor()], SERVER_OPTIONS)
    running.before_stop = partial(
        context.go_away, "the node is shutting down: reconnect to another"
    )
    return running
