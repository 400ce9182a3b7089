"""Hash-chained exports: an untouched trail verifies; every single mutation is found and located."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from parley.domain.audit_chain import (
    GENESIS,
    BadManifest,
    ChainWriter,
    Manifest,
    _intact,
    verify,
)
from parley.domain.audit_records import trail_record
from tests.unit.domain.projection_script import GROUP, PEER_AB, Script, scripted_history

Mutation = Callable[[random.Random, list[bytes]], bytes]


def export_of(script: Script, key: str) -> tuple[Manifest, bytes]:
    chain, lines = ChainWriter(), []
    events = [logged for logged in script.logged if logged.event.conversation_key == key]
    for logged in events:
        lines.append(chain.line(trail_record(logged, logged.event.server_time_ms)))
    manifest = Manifest(
        conversation=key,
        topic="t",
        partition=0,
        from_offset=0,
        to_offset=len(script.logged) - 1,
        events=chain.count,
        head=chain.head,
    )
    return manifest, b"".join(lines)


def long_history() -> Script:
    script = scripted_history()
    for n in range(40):
        mid = script.send(GROUP, "carol", f"message {n} with ünïcode")
        if n % 7 == 3:
            script.recall(GROUP, "carol", mid, "carol")
    return script


def changed_byte(rng: random.Random, records: list[bytes]) -> bytes:
    data = bytearray(b"".join(records))
    at = rng.randrange(len(data))
    data[at] = rng.choice([b for b in range(256) if b != data[at]])
    return bytes(data)


def dropped(rng: random.Random, records: list[bytes]) -> bytes:
    del records[rng.randrange(len(records))]
    return b"".join(records)


def duplicated(rng: random.Random, records: list[bytes]) -> bytes:
    records.insert(rng.randrange(len(records) + 1), records[rng.randrange(len(records))])
    return b"".join(records)


def swapped(rng: random.Random, records: list[bytes]) -> bytes:
    i, j = rng.sample(range(len(records)), 2)
    records[i], records[j] = records[j], records[i]
    return b"".join(records)


def appended(rng: random.Random, records: list[bytes]) -> bytes:
    if rng.random() < 0.5:
        return b"".join(records) + rng.choice(records)  # a copy of an exported record
    forged = ChainWriter()
    for _ in records:  # a well-chained extra record: only the manifest can tell
        forged.line({"event": "forged"})
    return b"".join(records) + forged.line({"event": "forged"})


def truncated(rng: random.Random, records: list[bytes]) -> bytes:
    data = b"".join(records)
    return data[: rng.randrange(len(data))]


MUTATIONS: dict[str, tuple[Mutation, set[str]]] = {
    "changed_byte": (changed_byte, {"altered", "truncated"}),
    "dropped": (dropped, {"dropped"}),
    "duplicated": (duplicated, {"duplicated", "reordered", "added"}),
    "swapped": (swapped, {"reordered"}),
    "appended": (appended, {"added"}),
    "truncated": (truncated, {"truncated", "dropped"}),
}


def first_changed_record(original: list[bytes], mutated: bytes) -> int:
    """The record (its bytes including the newline) holding the first byte that differs."""
    data = b"".join(original)
    at = next(
        (i for i, (a, b) in enumerate(zip(data, mutated, strict=False)) if a != b),
        min(len(data), len(mutated)),
    )
    end = 0
    for index, record in enumerate(original):
        end += len(record)
        if at < end:
            return index
    return len(original)


def test_verify__an_untouched_export_passes_with_its_head() -> None:
    manifest, data = export_of(long_history(), GROUP)

    verdict = verify(manifest, data)

    assert verdict.ok and verdict.records == manifest.events > 40
    assert verdict.head == manifest.head != GENESIS


def test_verify__an_untouched_export_passes_without_parsing_json() -> None:
    manifest, data = export_of(long_history(), GROUP)

    fast = _intact(manifest, data)

    assert fast is not None and fast.ok and fast.head == manifest.head


def test_verify__an_empty_export_passes_on_genesis() -> None:
    manifest, data = export_of(Script(), GROUP)

    assert data == b"" and manifest.head == GENESIS
    assert verify(manifest, data).ok


def test_verify__1000_random_single_mutations_are_each_detected_and_located() -> None:
    manifest, data = export_of(long_history(), GROUP)
    records = data.splitlines(keepends=True)
    rng = random.Random(18)
    kinds = sorted(MUTATIONS)
    for trial in range(1000):
        name = kinds[trial % len(kinds)]
        mutate, expected_kinds = MUTATIONS[name]
        mutated = mutate(rng, list(records))
        if mutated == data:
            continue  # a swap of two equal records or the like changes nothing
        verdict = verify(manifest, mutated)
        where = first_changed_record(records, mutated)
        assert verdict.finding is not None, f"trial {trial} ({name}) went undetected"
        assert verdict.finding.position == where, f"trial {trial} ({name}): {verdict.finding}"
        assert verdict.finding.kind in expected_kinds, f"trial {trial} ({name}): {verdict.finding}"


@pytest.mark.parametrize(
    ("mutate", "position", "kind"),
    [
        (lambda r: r[:3] + r[4:], 3, "dropped"),
        (lambda r: [*r[:5], r[4], *r[5:]], 5, "duplicated"),
        (lambda r: [*r[:2], r[6], *r[3:6], r[2], *r[7:]], 2, "reordered"),
        (lambda r: [*r, r[0]], None, "added"),
    ],
)
def test_verify__names_the_kind_of_record_mutation(
    mutate: Callable[[list[bytes]], list[bytes]], position: int | None, kind: str
) -> None:
    manifest, data = export_of(long_history(), GROUP)
    records = data.splitlines(keepends=True)

    finding = verify(manifest, b"".join(mutate(records))).finding

    assert finding is not None and finding.kind == kind
    assert finding.position == (manifest.events if position is None else position)


def test_verify__a_content_change_names_the_record_not_its_successor() -> None:
    manifest, data = export_of(long_history(), GROUP)
    records = data.splitlines(keepends=True)
    records[7] = records[7].replace(b'"actor":"', b'"actor":"x', 1)

    finding = verify(manifest, b"".join(records)).finding

    assert finding is not None and (finding.position, finding.kind) == (7, "altered")


def test_verify__a_manifest_for_another_conversation_is_out_of_range() -> None:
    manifest, data = export_of(long_history(), GROUP)
    forged = Manifest(**{**manifest.__dict__, "conversation": PEER_AB})

    finding = verify(forged, data).finding

    assert finding is not None and (finding.position, finding.kind) == (0, "out_of_range")


def test_manifest__round_trips_and_refuses_what_is_not_one() -> None:
    manifest, _ = export_of(long_history(), GROUP)

    assert Manifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(BadManifest):
        Manifest.from_json('{"format": "something else"}')
    with pytest.raises(BadManifest):
        Manifest.from_json(manifest.to_json().replace(manifest.head, "abc"))
