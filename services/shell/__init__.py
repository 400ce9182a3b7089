"""The gRPC shell every service shares: authentication, bad input, one rejection-to-status
mapping, and server start-up with health, reflection and graceful shutdown."""
