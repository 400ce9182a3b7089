"""Everything needed to run Parley's engines: local installs, compose stack, schemas, topics."""
