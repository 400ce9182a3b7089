"""Kafka 3.9 as one KRaft node (broker+controller) on 127.0.0.1, jars from Maven Central."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from infra.local import topics
from infra.local.engine import JarEngine
from infra.local.errors import InfraError
from infra.local.settings import HOST, KAFKA_CONTROLLER_PORT, KAFKA_PORT

BOOTSTRAP = f"{HOST}:{KAFKA_PORT}"

# Single-node settings: internal topics get 1 partition/replica (defaults of 50 partitions
# cost seconds on 2 cores), first consumer-group join is immediate, and topics exist only
# when topics.yaml (or a test) creates them.
BROKER_SETTINGS = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": f"1@{HOST}:{KAFKA_CONTROLLER_PORT}",
    "listeners": f"PLAINTEXT://{HOST}:{KAFKA_PORT},CONTROLLER://{HOST}:{KAFKA_CONTROLLER_PORT}",
    "advertised.listeners": f"PLAINTEXT://{HOST}:{KAFKA_PORT}",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "num.partitions": "1",
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    "auto.create.topics.enable": "false",
    # The active controller appends a no-op record to the metadata log this often when nothing
    # else changes (default 500 ms: a quarter of the idle broker's CPU). Broker liveness rests on
    # heartbeats, not on these records; they only date the metadata log's last change.
    "metadata.max.idle.interval.ms": "5000",
}

LOG4J = """log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.controller=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.raft=WARN
"""


def new_cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding; Kafka rejects a leading '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


class Kafka(JarEngine):
    name = package = "kafka"
    main_jar = "kafka_*.jar"
    ports = (KAFKA_PORT, KAFKA_CONTROLLER_PORT)
    ready_timeout_s = 90.0
    heap = "512m"

    def artifacts(self) -> list[str]:
        pins = self.versions["kafka"]
        return [
            f"org.apache.kafka:kafka_{pins['scala']}:{pins['version']}",
            f"org.slf4j:slf4j-reload4j:{pins['slf4j_reload4j']}",
            f"ch.qos.reload4j:reload4j:{pins['reload4j']}",
        ]

    @property
    def bootstrap(self) -> str:
        return BOOTSTRAP

    def broker_settings(self) -> dict[str, str]:
        return BROKER_SETTINGS

    def cluster_id(self) -> str:
        """The id the data dir is formatted with: drawn once, stored beside it."""
        id_file = self.settings.var_root / self.name / "cluster.id"
        if not id_file.exists():
            id_file.write_text(new_cluster_id() + "\n")
        return id_file.read_text().strip()

    def prepare(self) -> list[str]:
        conf = self.settings.conf_dir(self.name)
        data = self.settings.data_dir(self.name)
        conf.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        properties = conf / "server.properties"
        lines = [f"{key}={value}" for key, value in self.broker_settings().items()]
        properties.write_text("\n".join([*lines, f"log.dirs={data}", ""]))
        log4j = conf / "log4j.properties"
        log4j.write_text(LOG4J)
        jvm = [self.java, f"-Dlog4j.configuration=file:{log4j}", "-cp", f"{self.lib_dir}/*"]
        if not (data / "meta.properties").exists():
            self._format(jvm, properties)
        return [
            jvm[0], *self.jvm_options(), "-XX:MaxGCPauseMillis=20", *jvm[1:],
            "kafka.Kafka", str(properties),
        ]  # fmt: skip

    def _format(self, jvm: list[str], properties: Path) -> None:
        """Format the metadata log once per data dir."""
        command = [*jvm, "kafka.tools.StorageTool", "format", "-t", self.cluster_id(),
                   "-c", str(properties), "--ignore-formatted"]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise InfraError(
                problem="formatting the Kafka data dir failed",
                fix=f"if {self.settings.data_dir(self.name)} holds another cluster's data, "
                "remove var/kafka and rerun `make infra-up`",
                detail=(result.stdout + result.stderr)[-3000:],
            )

    def probe(self) -> None:
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(
            bootstrap_servers=self.bootstrap, request_timeout_ms=5000, client_id="parley-infra"
        )
        try:
            admin.list_topics()
        finally:
            admin.close()

    def provision(self) -> None:
        topics.apply(BOOTSTRAP, topics.load_spec())
