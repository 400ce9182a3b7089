"""docs/events.md, the published event contract, generated from protos/ and the topic specs.

`python -m parley.events_doc` rewrites it; `--check` exits 1 when it is stale (a unit test does
the same).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2 as d

from infra.local.topics import load_spec
from parley.config import Settings
from parley.domain.log_streams import Stream
from parley.proto_descriptors import comments, compile_protos

DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"
F = d.FieldDescriptorProto


@dataclass(frozen=True)
class TopicContract:
    key: str
    value: str  # fully qualified message name
    carries: str  # which events travel on the topic
    dedupe: str


CONTRACTS: dict[Stream, TopicContract] = {
    Stream.CONVERSATION_EVENTS: TopicContract(
        "`Event.conversation_key`: `p:<low user id>:<high user id>`, `g:<group id>`, "
        "`r:<room id>`, or `u:<user id>` for a user's own state (blocks, uploads)",
        "parley.v1.Event",
        "every `Event.payload` but `broadcast_sent`; `message_sent` only for stored types "
        "(never `MESSAGE_TYPE_COMMAND` or `MESSAGE_TYPE_BARRAGE`)",
        "`Event.event_id` (for `message_sent` it is the message id, the same on a retried send)",
    ),
    Stream.SIGNALS: TopicContract(
        "`Event.conversation_key`, as on the conversation events",
        "parley.v1.Event",
        "`message_sent` of `MESSAGE_TYPE_COMMAND` and `MESSAGE_TYPE_BARRAGE` only: never stored, "
        "never replayed into read models; barrage may be dropped under load",
        "`Event.event_id`",
    ),
    Stream.USER_UPDATES: TopicContract(
        "`UserUpdate.user_id`",
        "parley.v1.UserUpdate",
        "`UserUpdate.update`: a user's view of a conversation or one of their receipts changed "
        "(written by the projector)",
        "(`conversation_key`, `event_offset`, `user_id`): one change per event and user",
    ),
    Stream.BROADCASTS: TopicContract(
        "`Event.conversation_key` (one partition: one global order)",
        "parley.v1.Event",
        "`broadcast_sent` only",
        "`Event.event_id`",
    ),
}

GUARANTEES = """\
## Guarantees

- **Ordering per key.** Every record of one key lands in one partition, in the order the
  ingress appended it: a recall never overtakes its message, a read never overtakes what it
  reads. There is no order across keys (nor across topics).
- **At least once.** A record may be delivered twice: the producer retries after a lost
  acknowledgement, a consumer restarts from its last committed offset, and a client's retried
  send may be appended again. Deduplicate by the id named per topic below; a consumer that
  commits offsets only after handling a record (as `parley.integration` does) loses nothing.
- **Position.** A record's (topic, partition, offset) is its position; the offset of a
  conversation event is the "order key" a send is answered with, and grows with the log.
- **Sequence numbers** of stored messages (contiguous from 1 per conversation) are assigned by
  the projector and live in the read models, not on the log.
- **Time.** `server_time_ms` is the ingress clock when it accepted the request; use it to read
  from a moment (`StartAt.time` in `parley.integration`), not to order events.
"""

COMPATIBILITY = """\
## Compatibility rules

The contract is `protos/parley/v1/`, versioned by its package (`parley.v1`) and by releases
`protos-v<N>` (compiled descriptors kept in `protos/released/`: no git tag needed). `make lint`
runs `python -m parley.proto_breaking`, which compares `protos/` with the newest release and
fails on any change that breaks a reader of the log or a client:

- Within `v1` changes are additive only: new messages, new fields with new numbers, new `oneof`
  members (new event types), new enum values, new services and RPCs.
- Never removed or renamed: a message, enum, service or RPC, a field or enum value (unless its
  number and name are `reserved`), a field's number, type, label (`repeated`) or `oneof`.
- A number once used is never reused for another field or value.
- Consumers must ignore unknown fields and treat an unknown `oneof` member (a newer event type)
  as one to skip, never as an error: new event types appear without a version change.
- A breaking change is a new package (`parley.v2`) on new topics, with both published while
  integrators move.
"""


def _retention(ms: str) -> str:
    if ms == "-1":
        return "forever (`retention.ms` -1): the log is the source of truth"
    hours = int(ms) / 3_600_000
    return f"{hours:g} h (`retention.ms` {ms})"


def _topic_section(settings: Settings) -> Iterator[str]:
    specs = {spec.name: spec for spec in load_spec()}
    yield "## Topics\n"
    yield "Names are the defaults; each is a setting (`PARLEY_TOPIC_*`: docs/configuration.md).\n"
    for stream, name in settings.topics().items():
        contract, spec = CONTRACTS[stream], specs[stream.value]
        yield f"### `{name}`\n"
        yield f"- **Key:** {contract.key}"
        yield f"- **Value:** `{contract.value}` (protobuf, binary)"
        yield f"- **Events:** {contract.carries}"
        yield f"- **Partitions:** {spec.partitions}"
        yield f"- **Retention:** {_retention(spec.config['retention.ms'])}"
        yield f"- **Deduplicate by:** {contract.dedupe}\n"


def _type_name(field: d.FieldDescriptorProto) -> str:
    if field.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
        name = field.type_name.removeprefix(".").removeprefix("parley.v1.")
        return f"[`{name}`](#{name.lower().replace('.', '')})"
    return F.Type.Name(field.type).removeprefix("TYPE_").lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


class _Schema:
    """The messages and enums reachable from the topics' values, with their comments."""

    def __init__(self, files: d.FileDescriptorSet) -> None:
        self.messages: dict[str, tuple[d.DescriptorProto, str, dict[tuple[int, ...], str]]] = {}
        self.enums: dict[str, tuple[d.EnumDescriptorProto, str, dict[tuple[int, ...], str]]] = {}
        for file in files.file:
            if not file.package.startswith("parley."):
                continue
            notes = comments(file)
            for i, message in enumerate(file.message_type):
                self._add_message(f"{file.package}.{message.name}", message, (4, i), notes)
            for i, enum in enumerate(file.enum_type):
                self._add_enum(f"{file.package}.{enum.name}", enum, (5, i), notes)

    def _add_message(
        self, name: str, message: d.DescriptorProto, path: tuple[int, ...], notes: dict[Any, str]
    ) -> None:
        self.messages[name] = (message, ".".join(map(str, path)), notes)
        for i, nested in enumerate(message.nested_type):
            if not nested.options.map_entry:
                self._add_message(f"{name}.{nested.name}", nested, (*path, 3, i), notes)
        for i, enum in enumerate(message.enum_type):
            self._add_enum(f"{name}.{enum.name}", enum, (*path, 4, i), notes)

    def _add_enum(
        self, name: str, enum: d.EnumDescriptorProto, path: tuple[int, ...], notes: dict[Any, str]
    ) -> None:
        self.enums[name] = (enum, ".".join(map(str, path)), notes)

    def reachable(self, roots: list[str]) -> list[str]:
        seen: list[str] = []
        todo = list(roots)
        while todo:
            name = todo.pop(0)
            if name in seen:
                continue
            seen.append(name)
            if name in self.messages:
                message = self.messages[name][0]
                nested = {f"{name}.{n.name}": n for n in message.nested_type}
                for field in message.field:
                    target = field.type_name.removeprefix(".")
                    entry = nested.get(target)
                    if entry is not None and entry.options.map_entry:
                        todo += [v.type_name.removeprefix(".") for v in entry.field if v.type_name]
                    elif target:
                        todo.append(target)
        return seen


def _path(dotted: str) -> tuple[int, ...]:
    return tuple(int(part) for part in dotted.split("."))


def _message_section(schema: _Schema, name: str) -> Iterator[str]:
    message, dotted, notes = schema.messages[name]
    path = _path(dotted)
    short = name.removeprefix("parley.v1.")
    yield f"### {short}\n"
    if note := notes.get(path):
        yield f"{note}\n"
    if not message.field:
        yield "No fields.\n"
        return
    yield "| # | field | type | notes |"
    yield "|---|---|---|---|"
    for i, field in enumerate(message.field):
        kind = _type_name(field)
        entry = next(
            (n for n in message.nested_type if field.type_name.endswith(f".{n.name}")), None
        )
        if entry is not None and entry.options.map_entry:
            key, value = entry.field
            kind = f"map<{_type_name(key)}, {_type_name(value)}>"
        elif field.label == F.LABEL_REPEATED:
            kind = f"repeated {kind}"
        oneof = ""
        if field.HasField("oneof_index") and not field.proto3_optional:
            oneof = f"oneof `{message.oneof_decl[field.oneof_index].name}`. "
        note = _cell(oneof + notes.get((*path, 2, i), "")).strip()
        yield f"| {field.number} | `{field.name}` | {kind} | {note} |"
    yield ""


def _enum_section(schema: _Schema, name: str) -> Iterator[str]:
    enum, dotted, notes = schema.enums[name]
    path = _path(dotted)
    yield f"### {name.removeprefix('parley.v1.')}\n"
    if note := notes.get(path):
        yield f"{note}\n"
    yield "| value | name | notes |"
    yield "|---|---|---|"
    for i, value in enumerate(enum.value):
        yield f"| {value.number} | `{value.name}` | {_cell(notes.get((*path, 2, i), ''))} |"
    yield ""


def render(settings: Settings | None = None) -> str:
    settings = settings or Settings.model_construct()
    schema = _Schema(compile_protos())
    roots = sorted({contract.value for contract in CONTRACTS.values()})
    names = schema.reachable(roots)
    lines = [
        "# Parley event contract",
        "",
        "<!-- Generated by `python -m parley.events_doc` from protos/ and infra/kafka/topics.yaml:"
        " never edit by hand. -->",
        "",
        "Other services read Parley's Kafka topics under this contract"
        " (DESIGN decision 12, docs/design.md).",
        "`parley.integration` reads them for you (see docs/integration.md); signed webhooks POST "
        "the same events as JSON.",
        "",
        GUARANTEES,
        *_topic_section(settings),
        "## Messages\n",
        *(
            line
            for name in names
            if name in schema.messages
            for line in _message_section(schema, name)
        ),
        "## Enums\n",
        *(line for name in names if name in schema.enums for line in _enum_section(schema, name)),
        COMPATIBILITY,
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if DOC.read_text() != text:
            print(f"{DOC} is stale: run python -m parley.events_doc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
