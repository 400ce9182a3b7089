"""Cassandra 5.0 as a single node on 127.0.0.1: cassandra-all jars + our own JVM command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from infra.local import migrations
from infra.local.engine import JarEngine
from infra.local.errors import InfraError
from infra.local.settings import CASSANDRA_CQL_PORT, CASSANDRA_STORAGE_PORT, HOST

# What bin/cassandra and conf/jvm17-server.options of 5.0 pass; without them the daemon
# dies at runtime (java.io -> NativeLibrary, jdk.internal.ref -> FileUtils cleaner, ...).
_EXPORTS = [
    "java.base/jdk.internal.misc", "java.base/java.lang.ref",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi", "java.rmi/sun.rmi.registry",
    "java.rmi/sun.rmi.server", "java.sql/java.sql", "jdk.unsupported/sun.misc",
    "jdk.compiler/com.sun.tools.javac.file", "jdk.attach/sun.tools.attach",
]  # fmt: skip
_OPENS = [
    "java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
    "java.base/jdk.internal.reflect", "java.base/jdk.internal.math",
    "java.base/jdk.internal.module", "java.base/jdk.internal.util.jar",
    "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch", "java.base/java.io",
    "java.base/java.lang.reflect", "jdk.compiler/com.sun.tools.javac", "java.base/java.lang",
    "java.base/java.util", "java.base/java.nio", "java.base/java.nio.charset",
]  # fmt: skip

LOGBACK = """<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <logger name="com.datastax" level="WARN"/>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""


def render_yaml(data: Path) -> str:
    """cassandra.yaml for one test-friendly node; 5.0 key names, units in the values."""
    return f"""cluster_name: parley-local
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{HOST}:{CASSANDRA_STORAGE_PORT}"
listen_address: {HOST}
rpc_address: {HOST}
storage_port: {CASSANDRA_STORAGE_PORT}
native_transport_port: {CASSANDRA_CQL_PORT}
start_native_transport: true
data_file_directories: [{data / "data"}]
commitlog_directory: {data / "commitlog"}
saved_caches_directory: {data / "saved_caches"}
hints_directory: {data / "hints"}
cdc_raw_directory: {data / "cdc_raw"}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
auto_snapshot: false
hinted_handoff_enabled: false
concurrent_compactors: 1
"""


class Cassandra(JarEngine):
    name = package = "cassandra"
    main_jar = "cassandra-all-*.jar"
    ports = (CASSANDRA_CQL_PORT, CASSANDRA_STORAGE_PORT)
    ready_timeout_s = 180.0
    heap = "1g"

    def artifacts(self) -> list[str]:
        return [f"org.apache.cassandra:cassandra-all:{self.version}"]

    def prepare(self) -> list[str]:
        conf, data = self.settings.conf_dir(self.name), self.settings.data_dir(self.name)
        log_dir, tmp = self.settings.log_file(self.name).parent, data.parent / "tmp"
        for directory in (conf, conf / "triggers", data, log_dir, tmp):
            directory.mkdir(parents=True, exist_ok=True)
        (conf / "cassandra.yaml").write_text(render_yaml(data))
        (conf / "logback.xml").write_text(LOGBACK)
        jamm = sorted(self.lib_dir.glob("jamm-*.jar"))
        if not jamm:
            raise InfraError(
                f"no jamm jar in {self.lib_dir} (the install is incomplete)",
                f"remove {self.lib_dir} and rerun `make infra-install`",
            )
        return [
            self.java, *self.jvm_options(), "-Xss256k", "-XX:+UseThreadPriorities",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.net.preferIPv4Stack=true",
            f"-javaagent:{jamm[-1]}", "-Djdk.attach.allowAttachSelf=true",
            *[f"--add-exports={module}=ALL-UNNAMED" for module in _EXPORTS],
            *[f"--add-opens={module}=ALL-UNNAMED" for module in _OPENS],
            "-Dio.netty.tryReflectionSetAccessible=true",
            "-Dio.netty.allocator.useCacheForAllThreads=true", "-Dio.netty.allocator.maxOrder=11",
            f"-Dcassandra.config=file://{conf / 'cassandra.yaml'}",
            "-Dcassandra-foreground=yes", f"-Dcassandra.storagedir={data}",
            f"-Dcassandra.logdir={log_dir}", f"-Dlogback.configurationFile={conf / 'logback.xml'}",
            f"-Dcassandra.triggers_dir={conf / 'triggers'}",
            f"-Djna.tmpdir={tmp}", f"-Djava.io.tmpdir={tmp}",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0", "-Dcassandra.load_ring_state=false",
            "-Dcassandra.unsafesystem=true", "-Dcassandra.ring_delay_ms=1000",
            # Cassandra refreshes its approximate clock every 2 ms by default, 500 wake-ups a
            # second: 1.45% of a core on an idle node here (0.65% at 10 ms). It only times what
            # lasts 0.5 s or more (request timeouts of 2 s and up, the 500 ms slow-query log,
            # message expiry), so 50 ms errs by 2.5% at most on a timeout.
            "-Dcassandra.approximate_time_precision_ms=50",
            "-cp", f"{conf}:{self.lib_dir}/*", "org.apache.cassandra.service.CassandraDaemon",
        ]  # fmt: skip

    def probe(self) -> None:
        cluster = connect_cluster()
        try:
            session = cluster.connect()
            statement = session.prepare("SELECT release_version FROM system.local")
            if session.execute(statement).one() is None:
                raise RuntimeError("system.local returned no row")
        finally:
            cluster.shutdown()

    def provision(self) -> None:
        cluster = connect_cluster()
        try:
            migrations.apply(cluster.connect(), self.settings.cassandra_keyspace)
        finally:
            cluster.shutdown()


def connect_cluster(connect_timeout_s: float = 5.0) -> Any:
    """A driver Cluster for the local node (single DC 'datacenter1', as SimpleSnitch says)."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import DCAwareRoundRobinPolicy

    logging.getLogger("cassandra").setLevel(logging.ERROR)
    profile = ExecutionProfile(
        load_balancing_policy=DCAwareRoundRobinPolicy(local_dc="datacenter1"),
        request_timeout=30.0,  # DDL on 2 cores can take seconds
    )
    return Cluster(
        [HOST],
        port=CASSANDRA_CQL_PORT,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=connect_timeout_s,
    )
