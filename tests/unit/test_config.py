"""Settings: local-stack defaults, PARLEY_* environment overrides, TOML and dotenv config files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from parley.config import CONFIG_FILE_ENV, Settings
from parley.domain.log_streams import Stream


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("PARLEY_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str, str], None]:
    """Writes a config file of the given name and text and points the environment at it."""

    def write(name: str, text: str) -> None:
        path = tmp_path / name
        path.write_text(text)
        monkeypatch.setenv(CONFIG_FILE_ENV, str(path))

    return write


def test_config__defaults_match_the_local_stack() -> None:
    settings = Settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.cassandra_hosts == ["127.0.0.1"]
    assert (settings.ingress_port, settings.delivery_port) == (7070, 7071)
    assert settings.topics() == {stream: stream.value for stream in Stream}
    assert settings.sensitive_words_file is None
    assert settings.insecure_defaults() == ["token_secret", "admin_secret"]


def test_config__environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("PARLEY_CASSANDRA_HOSTS", "c1, c2,c3")
    monkeypatch.setenv("PARLEY_INGRESS_PORT", "8080")
    monkeypatch.setenv("PARLEY_SENSITIVE_WORD_MODE", "mask")
    monkeypatch.setenv("PARLEY_TOPIC_SIGNALS", "test.signals")
    monkeypatch.setenv("PARLEY_TOKEN_SECRET", "x" * 40)
    settings = Settings()
    assert settings.kafka_bootstrap == "k1:9092,k2:9092"
    assert settings.cassandra_hosts == ["c1", "c2", "c3"]
    assert settings.ingress_port == 8080
    assert settings.sensitive_word_mode == "mask"
    assert settings.topics()[Stream.SIGNALS] == "test.signals"
    assert settings.insecure_defaults() == ["admin_secret"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARLEY_INGRESS_PORT", "70000"),
        ("PARLEY_SENSITIVE_WORD_MODE", "shout"),
        ("PARLEY_TOKEN_SECRET", "too-short"),
        ("PARLEY_RATE_PER_SECOND", "0"),
        ("PARLEY_LOG_LEVEL", "CHATTY"),
    ],
)
def test_config__invalid_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_config__toml_file_sets_values_below_the_environment(
    monkeypatch: pytest.MonkeyPatch, config_file: Callable[[str, str], None]
) -> None:
    toml = 'cassandra_hosts = ["db1", "db2"]\ningress_port = 9000\nlog_level = "DEBUG"\n'
    config_file("parley.toml", toml)
    monkeypatch.setenv("PARLEY_INGRESS_PORT", "9100")
    settings = Settings()
    assert settings.cassandra_hosts == ["db1", "db2"]
    assert settings.log_level == "DEBUG"
    assert settings.ingress_port == 9100  # the environment wins over the file


def test_config__dotenv_file_is_read_with_prefixed_keys(
    config_file: Callable[[str, str], None],
) -> None:
    config_file(
        "parley.env", "PARLEY_RECALL_WINDOW_S=300\nPARLEY_SENSITIVE_WORDS_FILE=/etc/words.txt\n"
    )
    settings = Settings()
    assert settings.recall_window_s == 300
    assert settings.sensitive_words_file == Path("/etc/words.txt")


def test_config__unknown_key_in_file_is_refused(config_file: Callable[[str, str], None]) -> None:
    config_file("parley.toml", "ingres_port = 9000\n")
    with pytest.raises(ValidationError, match="ingres_port"):
        Settings()


def test_config__missing_config_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CONFIG_FILE_ENV, str(tmp_path / "absent.toml"))
    with pytest.raises(FileNotFoundError, match=r"absent\.toml"):
        Settings()


def test_config__describe_lists_every_setting_with_env_default_and_meaning() -> None:
    docs = {doc.name: doc for doc in Settings.describe()}
    assert set(docs) == set(Settings.model_fields)
    assert all(doc.description for doc in docs.values())
    assert docs["ingress_port"].env == "PARLEY_INGRESS_PORT"
    assert docs["ingress_port"].default == "7070"
    assert docs["cassandra_hosts"].default == "127.0.0.1"
    assert docs["sensitive_words_file"].default == "(unset)"
    table = Settings.markdown_table()
    assert table.count("\n") == len(docs) + 2
    assert "| `recall_window_s` | `PARLEY_RECALL_WINDOW_S` | `120` |" in table


def test_config__fold_windows_come_from_the_recall_and_idempotency_settings() -> None:
    windows = Settings(recall_window_s=30, idempotency_window_s=900).fold_windows()
    assert (windows.recall_ms, windows.idempotency_ms) == (30_000, 900_000)
    assert windows.messages_ms == 900_000
    assert Settings().fold_windows().messages_ms == 600_000  # idempotency_window_s=600 wins


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("parley.env", "PARLEY_WEBHOOK_TIMEOUT_S=3\nPARLEY_WEBHOOK_GROUP=hooks-eu\n"),
        ("parley.toml", 'webhook_timeout_s = 3\nwebhook_group = "hooks-eu"\n'),
    ],
)
def test_config__file_carries_webhook_settings(
    config_file: Callable[[str, str], None], name: str, text: str
) -> None:
    config_file(name, text)
    settings = Settings()
    assert settings.webhook_timeout_s == 3.0
    assert settings.webhook_group == "hooks-eu"
    assert settings.webhook_max_attempts == 10  # the rest keep their defaults


def test_config__webhook_environment_names_are_parley_webhook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARLEY_WEBHOOK_TOPIC_ENDPOINTS", "hooks.endpoints")
    monkeypatch.setenv("PARLEY_WEBHOOK_CONCURRENCY", "8")
    settings = Settings()
    assert (settings.webhook_topic_endpoints, settings.webhook_concurrency) == (
        "hooks.endpoints",
        8,
    )
    assert {doc.env for doc in Settings.describe()} >= {
        "PARLEY_WEBHOOK_TOPIC_ENDPOINTS",
        "PARLEY_WEBHOOK_BACKOFF_MAX_S",
    }
