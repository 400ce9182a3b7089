"""infra/versions.toml is the one place versions live; the compose file must agree with it."""

from __future__ import annotations

from typing import Any

import yaml

from infra.local.settings import INFRA_DIR, load_versions

COMPOSE = INFRA_DIR / "compose" / "docker-compose.yml"


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_compose__kafka_and_cassandra_images_match_the_pins() -> None:
    versions, services = load_versions(), _services()
    assert services["kafka"]["image"] == versions["kafka"]["image"]
    assert versions["kafka"]["image"].endswith(":" + versions["kafka"]["version"])
    assert services["cassandra"]["image"] == versions["cassandra"]["image"]
    assert versions["cassandra"]["image"].endswith(":" + versions["cassandra"]["version"])


def test_compose__minio_is_built_from_the_pinned_module_version() -> None:
    versions, minio = load_versions(), _services()["minio"]
    assert minio["build"]["args"]["MINIO_VERSION"] == versions["minio"]["version"]
    assert minio["build"]["args"]["GO_IMAGE"] == versions["minio"]["go_builder_image"]
    assert minio["image"].endswith(":" + versions["minio"]["version"])


def test_compose__every_service_has_a_healthcheck_and_loopback_ports() -> None:
    for name, service in _services().items():
        assert "healthcheck" in service, name
        assert all(port.startswith("127.0.0.1:") for port in service["ports"]), name
