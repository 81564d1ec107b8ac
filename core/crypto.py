"""Secrets at rest (network tokens, app passwords): Fernet with key rotation.

`BEFFROI_ENCRYPTION_KEY` holds one or more Fernet keys separated by commas: the first one encrypts,
all of them decrypt. To rotate, put a new key first, keep the old ones, run
`beffroi keys rotate` (which re-encrypts every stored secret with the new key), then drop the old
keys.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.config import Settings


class UndecryptableSecret(Exception):
    """None of the configured keys opens this value: a key was removed too early."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher(settings: Settings) -> MultiFernet:
    keys = tuple(settings.encryption_keys)
    if not keys:
        raise UndecryptableSecret("no encryption key is configured")
    return _fernet(keys)


def encrypt(settings: Settings, data: dict[str, Any]) -> str:
    return cipher(settings).encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt(settings: Settings, token: str) -> dict[str, Any]:
    try:
        plain = cipher(settings).decrypt(token.encode())
    except InvalidToken:
        raise UndecryptableSecret(
            "no configured encryption key opens this secret (was a key removed?)"
        ) from None
    value = json.loads(plain)
    if not isinstance(value, dict):
        raise UndecryptableSecret("the secret is not a JSON object")
    return value


def rotate(settings: Settings, token: str) -> str:
    """The same secret, encrypted with the first key (the token itself when it already is)."""
    try:
        return cipher(settings).rotate(token.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(
            "no configured encryption key opens this secret (was a key removed?)"
        ) from None
