"""The media server of `parley run`: MediaService on its own port, in the background CPU class, and
the ingress accepts a message about an upload the moment the media server registered it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import grpc
import pytest

from infra.local.settings import Settings as InfraSettings
from parley.config import Settings
from parley.cpu import cpu_cgroup, in_idle_cgroup
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc, media_pb2_grpc
from parley.sdk import AdminClient
from parley.sdk.media import download, upload
from tests import media_samples
from tests.e2e.stack import Stack, descendants

pytestmark = pytest.mark.integration


def child_running(stack: Stack, module: str) -> int:
    """The pid of the child of `parley run` that runs `python -m <module>`."""
    for pid in descendants(stack.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if module.encode() in cmdline:
            return pid
    raise AssertionError(f"no child runs {module}")


def cpu_class(pid: int) -> tuple[int, int, set[int]]:
    """nice, scheduling policy and CPU affinity of every thread of `pid` (all must agree)."""
    classes = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        tid = int(task.name)
        nice = int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])  # stat field 19
        classes.add((nice, os.sched_getscheduler(tid), frozenset(os.sched_getaffinity(tid))))
    assert len(classes) == 1, classes
    nice, policy, cpus = classes.pop()
    return nice, policy, set(cpus)


async def test_media_server__own_port_lower_priority_and_no_lag_for_the_ingress(
    shared_stack: Stack, tmp_path: Path, minio_client: Any
) -> None:
    stack = shared_stack
    everywhere = os.sched_getaffinity(0)
    last = {max(everywhere)} if len(everywhere) > 1 else everywhere
    media_class = cpu_class(child_running(stack, "services.media"))
    assert media_class == (Settings().media_nice, os.SCHED_IDLE, last) and media_class[0] > 0
    ingress = child_running(stack, "services.ingress")
    assert cpu_class(ingress) == (0, os.SCHED_OTHER, everywhere)
    # MinIO, started by infra/local, is in the same class (at its own nice).
    minio = int(InfraSettings.from_env().pid_file("minio").read_text())
    assert cpu_class(minio)[1:] == (os.SCHED_IDLE, last)
    # Each leads a session, and the kernel ranks sessions before their tasks: the bulk two
    # are in an idle CPU cgroup, which a woken message-path task preempts at once.
    media_server = child_running(stack, "services.media")
    idle = os.geteuid() == 0 and cpu_cgroup("self") is not None  # root can make the cgroup
    assert [in_idle_cgroup(pid) for pid in (ingress, media_server, minio)] == [False, idle, idle]
    async with AdminClient(stack.ingress, stack.admin_secret) as admin:
        auth = {u: (("authorization", f"Bearer {(await admin.issue_token(u)).token}"),)
                for u in ("mia", "noah")}  # fmt: skip
    path = media_samples.image(tmp_path, "png", 300, 200)
    async with (
        grpc.aio.insecure_channel(stack.media) as media_channel,
        grpc.aio.insecure_channel(stack.ingress) as ingress_channel,
    ):
        media = media_pb2_grpc.MediaServiceStub(media_channel)
        uploaded = await upload(media, auth["mia"], "image", path)
        try:
            assert uploaded.progress[-1] == (path.stat().st_size, path.stat().st_size)
            # The ingress, another process, takes a message about it at once.
            body = common_pb2.MessageBody()
            body.image.media.object_id = uploaded.object_id
            request = ingress_pb2.SendMessageRequest(
                conversation=common_pb2.ConversationRef(
                    type=common_pb2.CONVERSATION_TYPE_PEER, id="noah"
                ),
                client_message_id="media-1",
                body=body,
            )
            messaging = ingress_pb2_grpc.MessagingServiceStub(ingress_channel)
            reply = await messaging.SendMessage(request, metadata=auth["mia"])
            # And the media server lets the recipient download it at once.
            data, _ = await download(media, auth["noah"], message_id=reply.message_id)
            assert data == path.read_bytes()
        finally:
            bucket = Settings().minio_bucket
            for item in minio_client.list_objects(
                bucket, prefix=f"media/{uploaded.object_id}/", recursive=True
            ):
                minio_client.remove_object(bucket, item.object_name)
