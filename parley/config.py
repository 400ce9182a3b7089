"""Settings of every Parley process: environment, an optional file, defaults for the local stack."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from parley.domain.fold_windows import FoldWindows
from parley.domain.log_streams import Stream

ENV_PREFIX = "PARLEY_"
CONFIG_FILE_ENV = "PARLEY_CONFIG_FILE"
DEV_TOKEN_SECRET = "dev-only-token-secret-never-use-in-production"
DEV_ADMIN_SECRET = "dev-only-admin-secret-never-use-in-production"

# A setting's bounds are part of its type (Port, pydantic's PositiveInt, NonNegativeFloat...).
Port = Annotated[int, Field(ge=0, le=65535)]

# Names of the pre-send hook's conversation and message types (ConversationType and
# MessageType members, lower case); tips are the server's own and never a send.
SEND_HOOK_CONVERSATION_TYPES = ("peer", "group", "room")
SEND_HOOK_STORED_TYPES = (
    "text", "multiple", "image", "file", "audio", "video", "combine", "custom"
)  # fmt: skip


def _known_names(names: list[str], known: tuple[str, ...]) -> list[str]:
    lowered = [name.lower() for name in names]
    unknown = sorted(set(lowered) - set(known))
    if unknown:
        raise ValueError(f"unknown {unknown}; expected some of {', '.join(known)}")
    return lowered


@dataclass(frozen=True)
class SettingDoc:
    """One row of the configuration table."""

    name: str
    env: str
    default: str
    description: str


class Settings(BaseSettings):
    """Configuration, highest precedence first: constructor arguments, `PARLEY_*` environment
    variables, the file named by PARLEY_CONFIG_FILE (`.toml` with the field names as keys, any
    other name is read as a dotenv file with `PARLEY_*` keys), then the defaults below, which
    match the local stack started by `make infra-up`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated host:port."
    )
    topic_conversation_events: str = Field(
        default=Stream.CONVERSATION_EVENTS.value, description="Durable conversation event topic."
    )
    topic_signals: str = Field(
        default=Stream.SIGNALS.value,
        description="Short-retention topic for command and barrage messages.",
    )
    topic_user_updates: str = Field(
        default=Stream.USER_UPDATES.value, description="Per-user updates from the projectors."
    )
    topic_broadcasts: str = Field(
        default=Stream.BROADCASTS.value, description="Server broadcasts to every online user."
    )
    cassandra_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Cassandra contact points, comma-separated.",
    )
    cassandra_port: Port = Field(default=9042, description="Cassandra CQL native port.")
    cassandra_keyspace: str = Field(default="parley", description="Keyspace of the read models.")
    cassandra_consistency: Literal["ONE", "LOCAL_ONE", "LOCAL_QUORUM", "QUORUM", "ALL"] = Field(
        default="LOCAL_QUORUM",
        description="Consistency level of every read and write (on one node any level reads "
        "and writes that node; on a cluster LOCAL_QUORUM keeps a node's loss invisible).",
    )
    cassandra_replication_factor: PositiveInt = Field(
        default=1, description="Replication factor of keyspaces that provisioning creates."
    )
    kafka_replication_factor: PositiveInt = Field(
        default=1, description="Replication factor of topics that provisioning creates."
    )
    kafka_min_insync_replicas: PositiveInt = Field(
        default=1,
        description="min.insync.replicas of provisioned topics: with acks=all an append is "
        "acknowledged once this many replicas hold it.",
    )
    minio_endpoint: str = Field(default="127.0.0.1:9000", description="MinIO (S3 API) host:port.")
    minio_access_key: str = Field(default="parley", description="MinIO access key.")
    minio_secret_key: str = Field(default="parley-secret", description="MinIO secret key.")
    minio_bucket: str = Field(
        default="parley-media", description="Bucket holding media and renditions."
    )
    minio_secure: bool = Field(default=False, description="Talk to MinIO over TLS.")
    ingress_host: str = Field(
        default="127.0.0.1", description="Interface the ingress gRPC server binds."
    )
    ingress_port: Port = Field(default=7070, description="Ingress gRPC port.")
    ingress_workers: PositiveInt = Field(default=2, description="Ingress server processes.")
    delivery_host: str = Field(
        default="127.0.0.1", description="Interface the delivery server binds."
    )
    delivery_port: Port = Field(default=7071, description="Delivery gRPC port (session streams).")
    media_port: Port = Field(
        default=7072,
        description="Media server gRPC port (MediaService on the ingress host; uploads and "
        "downloads of bytes).",
    )
    media_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="CPU niceness of the media server's threads (among themselves; across "
        "processes the idle cgroup ranks it).",
    )
    media_sched_idle: bool = Field(
        default=True,
        description="Run the media server under SCHED_IDLE in the idle CPU cgroup "
        "`parley-background` (cpu.idle=1): a woken message-path task preempts it at once.",
    )
    media_cpus: str = Field(
        default="last",
        description='CPUs of the media server: "last" (the highest-numbered, when there are '
        'several), a list such as "2,3", or "all". Keeps one CPU free of bulk byte work.',
    )
    media_scratch_dir: str = Field(
        default="",
        description="Where uploads are staged while they are received and validated. Empty: "
        "/dev/shm when it is a writable tmpfs (staging in RAM keeps the upload's page cache, "
        "journal and writeback work off the disk the log and read models share), else the "
        "system temp directory.",
    )
    media_staging_max_bytes: PositiveInt = Field(
        default=2_000_000_000,
        description="Bytes of uploads one media server stages at once; an upload that would "
        "go past it is refused with MEDIA_SERVER_BUSY (retryable), so RAM staging stays bounded.",
    )
    checkpoint_every_events: PositiveInt = Field(
        default=100_000,
        description="The checkpoint writer seals a checkpoint of each fold (ingress write model, "
        "delivery) once this many events were folded since its last one, so a process that "
        "starts reads at most about this many events of the log.",
    )
    checkpoint_interval_s: PositiveFloat = Field(
        default=300.0,
        description="...and at the latest this many seconds after the last one, when anything "
        "was folded since. The newest 3 checkpoints of each fold are kept.",
    )
    media_cleanup_interval_s: NonNegativeInt = Field(
        default=30,
        description="Every this many seconds the media server deletes garbage from MinIO: the "
        "media of dismissed rooms (every rendition; presigned download URLs handed out before "
        "stop working then), and uploads staged or left incomplete for a day (checked hourly). "
        "Idempotent, so every media server runs it; 0: never (run `python -m "
        "services.media.cleanup` from a scheduler instead).",
    )
    ingress_metrics_port: Port = Field(
        default=9464, description="Prometheus metrics port of the ingress."
    )
    delivery_metrics_port: Port = Field(
        default=9465, description="Prometheus metrics port of delivery."
    )
    projector_metrics_port: Port = Field(
        default=9466, description="Prometheus port of the projectors."
    )
    token_secret: str = Field(
        default=DEV_TOKEN_SECRET,
        min_length=32,
        description="HS256 secret signing user tokens (32+ bytes). Dev default: override it.",
    )
    admin_secret: str = Field(
        default=DEV_ADMIN_SECRET,
        min_length=16,
        description="Bearer secret of the AdminService. Dev default: override it.",
    )
    token_ttl_s: PositiveInt = Field(
        default=86400, description="Default user token lifetime, seconds."
    )
    recall_window_s: NonNegativeInt = Field(
        default=120, description="How long a sender may recall, seconds."
    )
    idempotency_window_s: PositiveInt = Field(
        default=600,
        description="How long the ingress keeps each send in memory to answer a retry or "
        "GetSendStatus, seconds of server time behind the newest send. Processes keep each "
        "message for this or the recall window, whichever is longer; older ones are read from "
        "Cassandra (messages_by_id), so a retry marked `retry` (the SDK marks its resends) "
        "still never makes a second message; keep it far above the projector's lag, which the "
        "archive trails the log by.",
    )
    rate_per_second: PositiveInt = Field(
        default=10, description="Rate-limited sends per user per second."
    )
    kafka_message_timeout_ms: PositiveInt = Field(
        default=8000,
        description="How long the ingress's producer keeps trying to write a record (no leader, "
        "no broker): until then a send answered UNAVAILABLE in an outage may still be written "
        "once Kafka is back, and a retry with the same client message id waits for it.",
    )
    read_your_writes_timeout_s: NonNegativeFloat = Field(
        default=2.0,
        description="How long a read waits for the projection to cover the caller's own writes "
        "(and every event of the conversation it reads that this ingress has seen) before it "
        "answers from what is projected; 0 turns the wait off.",
    )
    sensitive_words_file: Path | None = Field(
        default=None, description="Word list (one per line, '#' comments); unset: no word filter."
    )
    sensitive_word_mode: Literal["reject", "mask"] = Field(
        default="reject",
        description="Reject a message with a listed word, or mask the word with '*'.",
    )
    send_hook_target: str = Field(
        default="",
        description="host:port of the operator's pre-send hook, a gRPC service implementing "
        "parley.v1.SendHook (protos/parley/v1/send_hook.proto), asked to allow, reject or "
        "replace each new send it sees (docs/integration.md); empty: no hook.",
    )
    send_hook_tls: bool = Field(
        default=False, description="Call the pre-send hook over TLS (the system's root CAs)."
    )
    send_hook_timeout_ms: PositiveInt = Field(
        default=200,
        description="Deadline of each pre-send hook call; past it the send follows "
        "send_hook_policy (and counts as a timeout in parley_ingress_send_hook_calls_total).",
    )
    send_hook_policy: Literal["fail-open", "fail-closed"] = Field(
        default="fail-open",
        description="A send the pre-send hook gave no usable verdict on (timeout, hook down, "
        "error status, unusable answer): fail-open stores it as sent, fail-closed rejects it "
        "with SEND_HOOK_UNAVAILABLE (nothing written; a retry asks the hook again).",
    )
    send_hook_conversation_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(SEND_HOOK_CONVERSATION_TYPES),
        description="Conversation types whose sends the pre-send hook sees, comma-separated "
        "(peer, group, room).",
    )
    send_hook_message_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(SEND_HOOK_STORED_TYPES),
        description="Message types the pre-send hook sees, comma-separated: text, multiple, "
        "image, file, audio, video, combine, custom (the stored types, the default), command, "
        "barrage.",
    )
    webhook_topic_endpoints: str = Field(
        default="parley.webhook-endpoints", description="Registered endpoints (compacted)."
    )
    webhook_topic_dead_letters: str = Field(
        default="parley.webhook-dead-letters",
        description="Events not delivered within webhook_max_attempts.",
    )
    webhook_topic_redeliveries: str = Field(
        default="parley.webhook-redeliveries", description="Dead letters an admin sent again."
    )
    webhook_group: str = Field(
        default="parley-webhooks", description="The dispatcher's consumer group."
    )
    webhook_max_attempts: PositiveInt = Field(
        default=10, description="POSTs of one event to one endpoint."
    )
    webhook_backoff_first_s: PositiveFloat = Field(
        default=0.5, description="Wait after the first failure."
    )
    webhook_backoff_max_s: PositiveFloat = Field(
        default=30.0, description="Longest wait between attempts."
    )
    webhook_timeout_s: PositiveFloat = Field(default=5.0, description="Timeout of one POST.")
    webhook_concurrency: PositiveInt = Field(
        default=64, description="POSTs in flight (different conversations or endpoints)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level of every process."
    )

    @field_validator(
        "cassandra_hosts",
        "send_hook_conversation_types",
        "send_hook_message_types",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("send_hook_conversation_types")
    @classmethod
    def _check_conversation_types(cls, value: list[str]) -> list[str]:
        return _known_names(value, SEND_HOOK_CONVERSATION_TYPES)

    @field_validator("send_hook_message_types")
    @classmethod
    def _check_message_types(cls, value: list[str]) -> list[str]:
        return _known_names(value, (*SEND_HOOK_STORED_TYPES, "command", "barrage"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return init_settings, env_settings
        if not Path(path).is_file():
            raise FileNotFoundError(f"{CONFIG_FILE_ENV}={path}: no such file")
        file_source: PydanticBaseSettingsSource
        if path.endswith(".toml"):
            file_source = TomlConfigSettingsSource(settings_cls, toml_file=path)
        else:
            file_source = DotEnvSettingsSource(settings_cls, env_file=path)
        return init_settings, env_settings, file_source

    def topics(self) -> dict[Stream, str]:
        """Topic name of each stream, for the Kafka adapters."""
        return {
            Stream.CONVERSATION_EVENTS: self.topic_conversation_events,
            Stream.SIGNALS: self.topic_signals,
            Stream.USER_UPDATES: self.topic_user_updates,
            Stream.BROADCASTS: self.topic_broadcasts,
        }

    def webhook_topics(self) -> dict[str, str]:
        """Topic name of each webhook topic of infra/kafka/topics.yaml."""
        return {
            "parley.webhook-endpoints": self.webhook_topic_endpoints,
            "parley.webhook-dead-letters": self.webhook_topic_dead_letters,
            "parley.webhook-redeliveries": self.webhook_topic_redeliveries,
        }

    def fold_windows(self) -> FoldWindows:
        """How long folds keep each message and send in memory (DESIGN decision 11)."""
        return FoldWindows(
            recall_ms=self.recall_window_s * 1000,
            idempotency_ms=self.idempotency_window_s * 1000,
        )

    def insecure_defaults(self) -> list[str]:
        """Names of secrets still at their published development value."""
        return [
            name
            for name, dev in (
                ("token_secret", DEV_TOKEN_SECRET),
                ("admin_secret", DEV_ADMIN_SECRET),
            )
            if getattr(self, name) == dev
        ]

    @classmethod
    def describe(cls) -> list[SettingDoc]:
        """Every setting with its environment variable, default and meaning."""
        docs = []
        for name, field in cls.model_fields.items():
            default = field.get_default(call_default_factory=True)
            shown = ",".join(default) if isinstance(default, list) else default
            shown = str(shown).lower() if isinstance(shown, bool) else shown
            docs.append(
                SettingDoc(
                    name=name,
                    env=f"{ENV_PREFIX}{name.upper()}",
                    default="(unset)" if shown is None else str(shown),
                    description=field.description or "",
                )
            )
        return docs

    @classmethod
    def markdown_table(cls) -> str:
        """The configuration table of the README."""
        rows = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
        rows += [
            f"| `{d.name}` | `{d.env}` | {f'`{d.default}`' if d.default else '(empty)'} "
            f"| {d.description} |"
            for d in cls.describe()
        ]
        return "\n".join(rows) + "\n"
