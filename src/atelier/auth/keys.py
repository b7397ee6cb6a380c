"""API key primitives: generate, hash, verify.

A key is ``atl_<prefix>_<secret>``: an 8-hex-character prefix that is stored and shown,
and ``secrets.token_urlsafe(32)`` of secret. Only the SHA-256 of the whole key is
stored. The functions live in the store (which must create keys without importing
auth); this module is their public name in the auth layer.
"""

from __future__ import annotations

from atelier.store.users import generate_api_key, hash_api_key, key_prefix, verify_api_key

__all__ = ["generate_api_key", "hash_api_key", "key_prefix", "looks_like_api_key", "verify_api_key"]


def looks_like_api_key(value: str) -> bool:
    """True when `value` has the shape of an Atelier API key (not: that it is valid)."""
    return key_prefix(value) is not None
