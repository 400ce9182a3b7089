"""Parley: an event-sourced instant-messaging backend."""
