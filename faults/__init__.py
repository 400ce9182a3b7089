"""Fault injection under load with a history checker, and the security suite (issue 17)."""
