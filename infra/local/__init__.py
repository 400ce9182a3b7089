"""Install, start, stop and inspect real Kafka, Cassandra and MinIO as local processes."""
