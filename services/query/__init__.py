"""The read API: history, conversations and receipts served from the Cassandra read models."""
