"""Example services built on parley.integration; each runs against `make run`."""
