"""Reproducible load benchmark of the Waitlist server against a raw-asyncpg baseline.

Run everything with `python -m bench.run` (see README, section "Performance").
"""
