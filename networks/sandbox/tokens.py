"""Credentials of the sandboxes: HS256 JWTs signed with the sandbox secret.

Tokens carry the account they act for (network, id, name, handle), so that a sandbox restarted
with an empty memory still recognises the accounts Beffroi connected earlier, and so that Beffroi
can give a new sandbox account its credentials without a round trip (the demo is seeded before
any server runs). The sandbox secret is derived from `BEFFROI_SECRET_KEY`: `beffroi serve`,
`beffroi worker` and `beffroi sandbox` agree on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

CLIENT_ID = "beffroi-sandbox"


def derive_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"beffroi-sandbox", hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def encode(secret: str, payload: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(
        json.dumps({**payload, "jti": secrets.token_hex(8)}, separators=(",", ":")).encode()
    )
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def decode(secret: str, token: str) -> dict[str, Any] | None:
    """The payload of a token signed with `secret`, else None (expiry is the caller's check)."""
    try:
        header, body, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


def app_password(secret: str, handle: str) -> str:
    """The Bluesky sandbox's app password of `handle` (the xxxx-xxxx-xxxx-xxxx shape)."""
    digest = hmac.new(secret.encode(), f"app-password|{handle}".encode(), hashlib.sha256)
    letters = base64.b32encode(digest.digest()).decode().lower()[:16]
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def client_secret(secret: str, network: str) -> str:
    return hmac.new(secret.encode(), f"client|{network}".encode(), hashlib.sha256).hexdigest()[:40]


def did_for(secret: str, handle: str) -> str:
    digest = hmac.new(secret.encode(), f"did|{handle}".encode(), hashlib.sha256).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def numeric_id(secret: str, *parts: str, digits: int = 15) -> str:
    digest = hmac.new(secret.encode(), "|".join(parts).encode(), hashlib.sha256).hexdigest()
    return str(int(digest[:15], 16) % 10**digits).rjust(digits, "1")


def remote_id_for(secret: str, network: str, handle: str) -> str:
    """The id a sandbox gives the account of `handle`, in the network's own format."""
    handle = handle.lower()
    if network == "linkedin":
        return f"urn:li:organization:{numeric_id(secret, network, handle, digits=8)}"
    if network == "instagram":
        return "1784" + numeric_id(secret, network, handle, digits=13)
    if network == "bluesky":
        return did_for(secret, handle)
    digits = {"x": 19, "facebook": 15, "mastodon": 18}.get(network, 15)
    return numeric_id(secret, network, handle, digits=digits)
