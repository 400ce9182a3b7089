"""BlobStore contract, run against the in-memory fake and against real MinIO."""

from __future__ import annotations

import os
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from parley.adapters.memory import InMemoryBlobStore
from parley.adapters.minio import MinioBlobStore
from parley.ports import BlobStore

BUCKET = "parley-media"


@dataclass
class Backend:
    store: BlobStore
    put_via_url: Callable[[str, bytes], None]
    get_via_url: Callable[[str], bytes]
    start_multipart: Callable[[str], None]


def _http_put(url: str, data: bytes) -> None:
    request = urllib.request.Request(url, data=data, method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def _memory() -> Backend:
    store = InMemoryBlobStore()
    return Backend(store, store.put_via_url, store.get_via_url, store.start_multipart)


def _minio(client: Any) -> Backend:
    prefix = f"contract-{uuid.uuid4().hex[:8]}/"
    store = MinioBlobStore(client, BUCKET, prefix)

    def start_multipart(key: str) -> None:
        client._create_multipart_upload(BUCKET, prefix + key, {})

    return Backend(store, _http_put, _http_get, start_multipart)


@pytest.fixture(params=["memory", "minio"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield _memory()
        return
    client = request.getfixturevalue("minio_client")
    chosen = _minio(client)
    yield chosen
    await chosen.store.abort_incomplete_uploads("", 2**62)
    await chosen.store.delete([info.key for info in await chosen.store.list("")])


async def _read(store: BlobStore, key: str, offset: int = 0, chunk: int = 1000) -> bytes:
    return b"".join([part async for part in store.get(key, offset, chunk)])


async def test_blob_store__put_bytes_then_stat_and_get(backend: Backend) -> None:
    data = os.urandom(2500)
    info = await backend.store.put_bytes("a/original", data, "image/png")
    assert (info.key, info.size, info.content_type) == ("a/original", 2500, "image/png")
    assert info.modified_ms > 0
    assert await backend.store.stat("a/original") == info
    assert await _read(backend.store, "a/original") == data
    chunks = [c async for c in backend.store.get("a/original", 0, 1000)]
    assert [len(c) for c in chunks] == [1000, 1000, 500]


async def test_blob_store__get_from_an_offset(backend: Backend) -> None:
    data = os.urandom(3000)
    await backend.store.put_bytes("k", data, "application/octet-stream")
    assert await _read(backend.store, "k", offset=1234) == data[1234:]


async def test_blob_store__missing_key(backend: Backend, tmp_path: Path) -> None:
    assert await backend.store.stat("nope") is None
    with pytest.raises(KeyError):
        await _read(backend.store, "nope")
    with pytest.raises(KeyError):
        await backend.store.download_to("nope", str(tmp_path / "x"))


async def test_blob_store__put_file_and_download_to(backend: Backend, tmp_path: Path) -> None:
    source, target = tmp_path / "in.bin", tmp_path / "out.bin"
    source.write_bytes(os.urandom(70_000))
    info = await backend.store.put_file("f/original", str(source), "video/mp4")
    assert info.size == 70_000
    assert (await backend.store.download_to("f/original", str(target))).size == 70_000
    assert target.read_bytes() == source.read_bytes()


async def test_blob_store__put_replaces(backend: Backend) -> None:
    await backend.store.put_bytes("k", b"one", "text/plain")
    await backend.store.put_bytes("k", b"second", "text/plain")
    assert await _read(backend.store, "k") == b"second"


async def test_blob_store__delete_is_idempotent(backend: Backend) -> None:
    await backend.store.put_bytes("d/1", b"x", "text/plain")
    await backend.store.put_bytes("d/2", b"y", "text/plain")
    await backend.store.delete(["d/1", "d/2", "d/missing"])
    await backend.store.delete(["d/1"])
    assert await backend.store.list("d/") == []


async def test_blob_store__list_by_prefix_sorted(backend: Backend) -> None:
    for key in ("p/b", "p/a/x", "q/c"):
        await backend.store.put_bytes(key, b"1", "text/plain")
    assert [info.key for info in await backend.store.list("p/")] == ["p/a/x", "p/b"]


async def test_blob_store__presigned_put_then_get(backend: Backend) -> None:
    put_url = await backend.store.presign_put("staged/u1", 60)
    backend.put_via_url(put_url, b"uploaded straight to the store")
    info = await backend.store.stat("staged/u1")
    assert info is not None and info.size == len(b"uploaded straight to the store")
    get_url = await backend.store.presign_get("staged/u1", 60, download_name="note ü.txt")
    assert backend.get_via_url(get_url) == b"uploaded straight to the store"


async def test_blob_store__abort_incomplete_uploads(backend: Backend) -> None:
    backend.start_multipart("big/one")
    backend.start_multipart("other/two")
    assert await backend.store.abort_incomplete_uploads("big/", older_than_ms=0) == 0
    assert await backend.store.abort_incomplete_uploads("big/", older_than_ms=2**62) == 1
    assert await backend.store.abort_incomplete_uploads("big/", older_than_ms=2**62) == 0
    assert await backend.store.stat("big/one") is None
