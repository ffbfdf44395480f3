"""Ledger settings. Imported by base.py."""

from config.env import env  # noqa: F401

LEDGER_BEAT_SCHEDULE: dict = {}
