"""Signed webhooks: the dispatcher that POSTs events to registered endpoints, and its admin API."""
