"""Settings, read from `BEFFROI_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


# Values that are public (they are in this file, in tutorials or in examples) and therefore never
# acceptable as secrets outside development.
DEVELOPMENT_SECRET_KEY = "beffroi-development-secret-key-do-not-use-in-production"
DEVELOPMENT_ENCRYPTION_KEY = "YmVmZnJvaS1kZXZlbG9wbWVudC1rZXktMzItYnl0ZXM="
KNOWN_SECRETS = frozenset(
    {
        DEVELOPMENT_SECRET_KEY,
        DEVELOPMENT_ENCRYPTION_KEY,
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "secret-key",
        "password",
        "beffroi",
        "dev",
        "test",
    }
)
MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BEFFROI_", env_file=".env", extra="ignore", validate_default=True
    )

    env: Environment = Environment.production
    database_url: str = "sqlite:///./var/beffroi.db"
    secret_key: SecretStr | None = None
    encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys separated by commas; the first one encrypts, all of them decrypt.",
    )
    public_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    default_locale: Literal["fr", "en"] = "fr"
    log_level: str = "INFO"

    session_max_age_days: int = Field(default=14, ge=1, le=365)
    api_token_ttl_days: int = Field(default=90, ge=1, le=3650)
    invitation_ttl_days: int = Field(default=7, ge=1, le=60)

    login_window_minutes: int = Field(default=15, ge=1)
    login_slowdown_after: int = Field(default=5, ge=1)
    login_lockout_after: int = Field(default=10, ge=2)
    login_lockout_minutes: int = Field(default=15, ge=1)

    # Uploads are refused while they are being read once they pass this many bytes.
    media_max_bytes: int = Field(default=20_000_000, ge=100_000, le=500_000_000)
    # Pillow's decompression-bomb limit (Image.MAX_IMAGE_PIXELS): width × height of an upload.
    media_max_pixels: int = Field(default=50_000_000, ge=1_000_000, le=500_000_000)

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Beffroi <ne-pas-repondre@beffroi.invalid>"
    smtp_timeout_seconds: float = 10.0

    # --- social networks --------------------------------------------------------------------------
    # Base URLs are settings so that a proxy, a network's test host or a sandbox can stand in for
    # the real host. Outside development they must not point at a private or loopback address
    # (see `allow_private_network`).
    allow_private_network: bool | None = Field(
        default=None,
        description="Allow network URLs on private or loopback addresses (default: only in "
        "development and tests).",
    )
    network_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    sandbox: bool | None = Field(
        default=None,
        description="Serve the network sandboxes inside the application and allow sandbox "
        "accounts (default: in development and tests).",
    )
    sandbox_url: str | None = Field(
        default=None, description="Where the sandboxes answer; default: PUBLIC_URL/sandbox."
    )

    x_api_url: str = "https://api.twitter.com"
    x_authorize_url: str = "https://twitter.com"
    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None

    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_oauth_url: str = "https://www.linkedin.com"
    linkedin_client_id: str | None = None
    linkedin_client_secret: SecretStr | None = None
    linkedin_version: str = Field(default="202510", pattern=r"^\d{6}$")

    facebook_graph_url: str = "https://graph.facebook.com"
    facebook_dialog_url: str = "https://www.facebook.com"
    facebook_graph_version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    facebook_app_id: str | None = None
    facebook_app_secret: SecretStr | None = None

    instagram_graph_url: str = "https://graph.instagram.com"
    instagram_oauth_url: str = "https://api.instagram.com"
    instagram_authorize_url: str = "https://www.instagram.com"
    instagram_app_id: str | None = None
    instagram_app_secret: SecretStr | None = None

    mastodon_app_name: str = "Beffroi"
    bluesky_api_url: str = "https://bsky.social"

    # How long the one-tap approval link of an e-mail stays valid.
    approval_link_ttl_hours: int = Field(default=48, ge=1, le=720)
    # --- calendar and rules (core.rules, core.calendar) ------------------------------------------
    # An account with no post for more than this many days is flagged in the calendar.
    abandoned_account_days: int = Field(default=14, ge=1, le=365)
    # In a pre-electoral period, warn when an account's posts of a week pass this share of its
    # weekly average over the twelve months before the period.
    regularity_threshold_percent: int = Field(default=120, ge=100, le=1000)

    # --- publishing engine (issue 6) ---
    # How often the dispatcher looks for due publications (it also wakes up exactly at the next
    # due time it knows of).
    publish_tick_seconds: float = Field(default=0.5, gt=0, le=0.5)
    # How long a worker holds a claimed publication; past it, another worker takes over.
    publish_lease_seconds: int = Field(default=120, ge=2, le=3600)
    # Whether this process collects reach figures (metrics, followers); off for workers kept
    # for publishing only.
    collect_reach: bool = True
    # Network calls in flight at once in one worker, and per network.
    publish_concurrency: int = Field(default=32, ge=1, le=512)
    publish_network_concurrency: int = Field(default=16, ge=1, le=512)
    # Retries of a transient error: delay = base * 2^(n-1), with jitter, at most the cap.
    publish_max_attempts: int = Field(default=6, ge=1, le=50)
    publish_backoff_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    publish_backoff_cap_seconds: float = Field(default=900.0, gt=0, le=86400)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Operators paste URLs from their hosting provider: accept the common spellings and use
        # psycopg 3, the only PostgreSQL driver installed.
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        return value

    @field_validator(
        "public_url",
        "sandbox_url",
        "x_api_url",
        "x_authorize_url",
        "linkedin_api_url",
        "linkedin_oauth_url",
        "facebook_graph_url",
        "facebook_dialog_url",
        "instagram_graph_url",
        "instagram_oauth_url",
        "instagram_authorize_url",
        "bluesky_api_url",
    )
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"« {value} » doit être une adresse complète en http:// ou https://.")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        relaxed = self.env is not Environment.production
        if self.allow_private_network is None:
            self.allow_private_network = relaxed
        if self.sandbox is None:
            self.sandbox = relaxed
        if self.env is Environment.development:
            if self.secret_key is None:
                self.secret_key = SecretStr(DEVELOPMENT_SECRET_KEY)
            if self.encryption_key is None:
                self.encryption_key = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
            return self
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if not secret or secret in KNOWN_SECRETS:
            raise ValueError(
                "BEFFROI_SECRET_KEY n'est pas défini ou garde une valeur connue : choisissez une "
                "valeur secrète d'au moins 32 caractères, par exemple avec "
                "« python -c 'import secrets; print(secrets.token_urlsafe(48))' »."
            )
        if len(secret) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"BEFFROI_SECRET_KEY est trop courte ({len(secret)} caractères) : il en faut au "
                f"moins {MIN_SECRET_KEY_LENGTH}."
            )
        keys = self.encryption_keys
        if not keys or any(key in KNOWN_SECRETS for key in keys):
            raise ValueError(
                "BEFFROI_ENCRYPTION_KEY n'est pas défini ou garde une valeur connue : générez une "
                "clé avec « python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())' »."
            )
        for key in keys:
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(
                    "BEFFROI_ENCRYPTION_KEY contient une clé invalide : chaque clé doit être "
                    "une clé "
                    "Fernet (32 octets encodés en base64 URL), séparées par des virgules."
                ) from None
        return self

    @property
    def encryption_keys(self) -> list[str]:
        raw = self.encryption_key.get_secret_value() if self.encryption_key else ""
        return [key.strip() for key in raw.split(",") if key.strip()]

    @property
    def secret(self) -> str:
        assert self.secret_key is not None  # set by the validator
        return self.secret_key.get_secret_value()

    @property
    def sandbox_base_url(self) -> str:
        return self.sandbox_url or f"{self.public_url}/sandbox"

    @property
    def oauth_redirect_uri(self) -> str:
        return f"{self.public_url}/oauth/callback"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
