"""Vault settings (card tokenization, key providers, rotation). Imported by base.py."""

from config.env import VAR_DIR, env  # noqa: F401

VAULT_BEAT_SCHEDULE: dict = {}
