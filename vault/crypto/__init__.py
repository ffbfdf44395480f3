"""Cryptographic building blocks of the vault: AEAD sealing, a bounded TTL cache, tokens, fingerprints."""
