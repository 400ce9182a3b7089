"""Prometheus metrics of every Parley service, and the HTTP exporter on the Settings ports."""

from __future__ import annotations

import logging
import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

log = logging.getLogger(__name__)

# Set by a parent that runs several worker processes, before it starts them: the workers then
# write their samples to files there and the parent exports the sum (prometheus-client's
# multiprocess mode). Gauges say how the processes' values combine.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- ingress -------------------------------------------------------------------------------
SENDS = Counter(
    "parley_ingress_sends_total",
    "Sends answered with a message id; outcome is accepted (new) or duplicate (a retry).",
    ["outcome"],
)
REJECTIONS = Counter(
    "parley_ingress_rejections_total",
    "Requests rejected with a reason code (docs/reason-codes.md), by reason name.",
    ["reason"],
)
DECIDED_AGAIN = Counter(
    "parley_ingress_decided_again_total",
    "Rejections that may only mean the write model lagged the log, decided once more after "
    "catching up; outcome is accepted (the lag was the cause) or rejected (still refused).",
    ["reason", "outcome"],
)
PRODUCE_LATENCY = Histogram(
    "parley_ingress_kafka_produce_seconds",
    "Time from handing an event to the producer until Kafka acknowledged it (acks=all).",
    ["outcome"],
    buckets=LATENCY_BUCKETS_S,
)
SEND_HOOK_CALLS = Counter(
    "parley_ingress_send_hook_calls_total",
    "Calls of the operator's pre-send hook, by outcome: allow, reject, replace (its verdicts), "
    "timeout (no answer within send_hook_timeout_ms) or error (unreachable, an error status, "
    "an unusable answer); the last two follow send_hook_policy.",
    ["outcome"],
)
SEND_HOOK_LATENCY = Histogram(
    "parley_ingress_send_hook_seconds",
    "Time from calling the pre-send hook until its verdict or failure, by outcome.",
    ["outcome"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5),
)

# --- event log (every process that appends) -------------------------------------------------
UNACKNOWLEDGED_APPENDS = Gauge(
    "parley_kafka_unacknowledged_events",
    "Events handed to the Kafka producer that it has not yet reported written or failed; "
    "during an outage this includes sends already answered UNAVAILABLE (they may still land).",
    multiprocess_mode="livesum",
)

# --- projector -----------------------------------------------------------------------------
EVENTS_APPLIED = Counter(
    "parley_projector_events_applied_total",
    "Conversation events applied to the read models (duplicates included).",
)
BATCH_EVENTS = Histogram(
    "parley_projector_batch_events",
    "Events per batch the projector stored (large while catching up, small when live).",
    buckets=(1, 10, 50, 200, 1000, 5000, 20_000, 40_000),
)
BATCH_SECONDS = Histogram(
    "parley_projector_batch_seconds",
    "Time from taking a batch until its rows, states, positions and notices were stored.",
    buckets=LATENCY_BUCKETS_S,
)
BATCH_RETRIES = Counter(
    "parley_projector_batch_retries_total",
    "Batches that failed to store (log or store unavailable) and were applied again; the "
    "projector stores nothing after a failed batch until it is stored.",
)
PROJECTION_LAG = Gauge(
    "parley_projector_lag_events",
    "Events in the conversation topic not yet applied, per partition this worker owns, as of "
    "its last stored batch from it (log end as its consumer last fetched it).",
    ["partition"],
    multiprocess_mode="max",
)
PROJECTOR_FETCH_BUSY = Gauge(
    "parley_projector_fetch_busy",
    "1 while the projector's consumer fetches in batches (64 KB or 50 ms, the log busy), 0 "
    "while it fetches at the first record (quiet: an empty fetch is held 500 ms).",
    multiprocess_mode="max",
)

# --- delivery ------------------------------------------------------------------------------
SESSIONS = Gauge(
    "parley_delivery_sessions",
    "Open session streams on this node.",
    multiprocess_mode="livesum",
)
PUSHES = Counter(
    "parley_delivery_pushes_total",
    "Live frames handed to the outboxes of this node's sessions, by kind (message, command, "
    "barrage, recall, tip, update, broadcast, presence). An outbox drops a stored message its "
    "gap fill already queued, and barrage while it is half full.",
    ["kind"],
)
EVENTS_FOLDED = Counter(
    "parley_delivery_events_folded_total",
    "Conversation events this node folded (from its checkpoint or offset 0 at start-up, then "
    "live as the log grows).",
)
FILLS = Counter(
    "parley_delivery_fills_total",
    "Gap fills of connecting sessions, by mode: resume (the client resumes from its positions) "
    "or fresh (a new install: conversations announced, history left to paging).",
    ["mode"],
)
FILLED_FRAMES = Counter(
    "parley_delivery_filled_frames_total",
    "Frames queued while filling a connecting session's gap, by kind: message (a row of the "
    "history read model) or gap (a range left to the client: past the fill cap, a new "
    "install's history, or rows the projector had not written in time).",
    ["kind"],
)
FILL_SECONDS = Histogram(
    "parley_delivery_fill_seconds",
    "Time from a session's Hello until its gap was filled and Synced queued.",
    buckets=LATENCY_BUCKETS_S,
)
SLOW_SESSIONS = Counter(
    "parley_delivery_slow_sessions_total",
    "Sessions cut off because their outbox outgrew its bound (a client that does not read "
    "fast enough); the client resumes from its positions.",
)


# --- checkpoints of in-memory folds ---------------------------------------------------------
CHECKPOINT_RESTORES = Counter(
    "parley_checkpoint_restores_total",
    "Start-up restores of a fold, by outcome: restored, none (folded from offset 0), "
    "store_unavailable, or why a stored checkpoint was passed over (checksum_mismatch, "
    "older_format, incomplete, ahead_of_log, undecodable, unreadable...).",
    ["fold", "outcome"],
)
CHECKPOINTS_WRITTEN = Counter(
    "parley_checkpoints_written_total", "Checkpoints sealed and stored, per fold.", ["fold"]
)


def rejected(reason_name: str) -> None:
    REJECTIONS.labels(reason=reason_name).inc()


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Exports on http://host:port/metrics from a daemon thread; port 0 disables it. In the
    parent of multiprocess workers (MULTIPROC_ENV set), exports the workers' summed samples."""
    if port == 0:
        return
    registry = None
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    try:
        if registry is None:
            start_http_server(port, addr=host)
        else:
            start_http_server(port, addr=host, registry=registry)
    except OSError as error:  # a busy port must not take the service down
        log.warning("metrics exporter not started on port %s: %s", port, error)
        return
    log.info("metrics exported", extra={"port": port})


MESSAGE_ARCHIVE_LOOKUPS = Counter(
    "parley_message_archive_lookups_total",
    "Reads of the message archive (Cassandra messages_by_id) for messages older than the "
    "in-memory window, by use (ack, recall, send, status) and outcome (found, absent, failed).",
    ["use", "outcome"],
)
