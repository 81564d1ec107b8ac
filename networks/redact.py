"""Keep secrets out of the logs.

The network libraries log requests at DEBUG level with their headers, bodies and URLs (tweepy logs
`Authorization: Bearer …`, requests-oauthlib logs the tokens it obtains, python-linkedin-v2 puts
the token in the query string that urllib3 logs). Records of those libraries are rewritten before
any handler sees them: every secret an adapter registered, and anything shaped like a credential,
becomes `***`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

# Loggers of the libraries that talk to the networks (and of Beffroi's own network code).
LIBRARY_LOGGERS = (
    "tweepy",
    "requests_oauthlib",
    "oauthlib",
    "urllib3",
    "requests",
    "httpx",
    "httpcore",
    "mastodon",
    "atproto",
    "atproto_client",
    "linkedin_v2",
    "networks",
    # The access log of a process that serves the sandboxes (tokens in query strings).
    "uvicorn.access",
)

_PATTERNS = [
    re.compile(r"(?i)(bearer|oauth)\s+[A-Za-z0-9._~+/=\-]+"),
    re.compile(
        r"(?i)((?:access|refresh|oauth2_access|fb_exchange|input)_token|client_secret|password|"
        r"app_password|code_verifier|oauth_signature|appsecret_proof)"
        r"(['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"
    ),
]
_MAX_SECRETS = 4096
_secrets: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()


def register(*values: Any) -> None:
    """Remember secret values (tokens, passwords) so that they never appear in a log line."""
    with _lock:
        for value in values:
            if isinstance(value, str) and len(value) >= 8:
                _secrets[value] = None
                _secrets.move_to_end(value)
        while len(_secrets) > _MAX_SECRETS:
            _secrets.popitem(last=False)


def redact(text: str) -> str:
    with _lock:
        known = list(_secrets)
    for secret in known:
        if secret in text:
            text = text.replace(secret, "***")
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} ***", text)
    return _PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def _concerned(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in LIBRARY_LOGGERS)


_installed = False


def install() -> None:
    """Wrap the log record factory once per process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _concerned(record.name):
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: leave the record to logging
                return record
            record.msg = redact(message)
            record.args = ()
        return record

    logging.setLogRecordFactory(factory)
