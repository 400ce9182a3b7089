"""bench/cpu_use.py: which part of the system a process is charged to."""

from __future__ import annotations

from bench.cpu_use import part_of


def test_part_of__python_services_by_module() -> None:
    assert part_of(["/repo/.venv/bin/python", "-m", "services.ingress"]) == "ingress"
    assert part_of(["python", "-m", "streams", "--app-id", "bench-e2e-1"]) == "projector"
    assert part_of(["python", "-u", "-m", "services.media"]) == "media"
    assert part_of(["python", "-m", "pytest"]) is None


def test_part_of__engines_by_main_class_or_executable() -> None:
    assert part_of(["/jvm/bin/java", "-Xmx512m", "-cp", "x.jar", "kafka.Kafka", "a"]) == "kafka"
    cassandra = ["java", "-ea", "org.apache.cassandra.service.CassandraDaemon"]
    assert part_of(cassandra) == "cassandra"
    assert part_of(["/root/.cache/parley/minio/v1/minio", "server", "/data"]) == "minio"


def test_part_of__anything_else_is_left_to_its_ancestors() -> None:
    assert part_of([]) is None
    spawned = ["python", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()"]
    assert part_of(spawned) is None
