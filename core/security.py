"""Password hashing, random tokens and signed values."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that a wrong address costs as much time as a
# wrong password and answers do not reveal who has an account.
_DUMMY_HASH = _hasher.hash("beffroi-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(raw: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough, and lets us look them up by hash.
    return hashlib.sha256(raw.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Signer:
    """Signed, timestamped values for links and cookies, one salt per purpose."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=f"beffroi.{purpose}")

    def dumps(self, value: Any) -> str:
        return self._serializer.dumps(value)

    def loads(self, signed: str, *, max_age: int | None = None) -> Any:
        """The value, or raises `Expired` or `Invalid`."""
        try:
            return self._serializer.loads(signed, max_age=max_age)
        except SignatureExpired as exc:
            raise Expired() from exc
        except BadSignature as exc:
            raise Invalid() from exc


class Invalid(Exception):
    pass


class Expired(Invalid):
    pass
