"""Subcommands of the `parley` console script, one module each."""
