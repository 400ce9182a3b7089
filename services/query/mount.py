"""Mounting the query services on a gRPC server (the ingress server calls this)."""

from __future__ import annotations

from typing import Any

from parley.adapters.cassandra_queries import CassandraReadModelQueries
from parley.domain.read_models import PROJECTOR_NAME
from parley.domain.read_your_writes import WrittenPositions
from parley.gen.parley.v1 import query_pb2, query_pb2_grpc
from services.query.access import QueryDeps
from services.query.conversations import ConversationServicer
from services.query.fence import ReadFence
from services.query.history import HistoryServicer
from services.query.receipts import ReceiptServicer

QUERY_SERVICE_NAMES = tuple(
    service.full_name for service in query_pb2.DESCRIPTOR.services_by_name.values()
)


def add_query_services(server: Any, deps: QueryDeps) -> tuple[str, ...]:
    """Adds HistoryService, ConversationService and ReceiptService to a grpc.aio server whose
    interceptors authenticate callers (services.shell.auth); returns their full names (for
    reflection and health)."""
    query_pb2_grpc.add_HistoryServiceServicer_to_server(HistoryServicer(deps), server)
    query_pb2_grpc.add_ConversationServiceServicer_to_server(ConversationServicer(deps), server)
    query_pb2_grpc.add_ReceiptServiceServicer_to_server(ReceiptServicer(deps), server)
    return QUERY_SERVICE_NAMES


def query_deps(
    session: Any, positions: WrittenPositions | None = None, topic: str = "", timeout_s: float = 2.0
) -> QueryDeps:
    """Dependencies over a Cassandra session already bound to the read-model keyspace; with
    `positions` (what this process wrote and followed of `topic`), reads see the caller's
    own writes."""
    queries = CassandraReadModelQueries(session)
    if positions is None:
        return QueryDeps(queries)

    async def applied() -> dict[int, int]:
        return await queries.applied_offsets(PROJECTOR_NAME, topic)

    return QueryDeps(queries, ReadFence(positions, applied, timeout_s))
