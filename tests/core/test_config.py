from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from core.config import DEVELOPMENT_SECRET_KEY, Settings

GOOD_SECRET = "s" * 48


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_development_works_without_secrets() -> None:
    dev = settings(env="development")
    assert dev.secret == DEVELOPMENT_SECRET_KEY
    assert len(dev.encryption_keys) == 1


@pytest.mark.parametrize("env", ["production", "test"])
@pytest.mark.parametrize(
    ("secret", "words"),
    [
        (None, "BEFFROI_SECRET_KEY n'est pas défini"),
        ("changeme", "valeur connue"),
        (DEVELOPMENT_SECRET_KEY, "valeur connue"),
        ("court", "trop courte"),
    ],
)
def test_weak_secret_keys_are_refused_outside_development(
    env: str, secret: str | None, words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        settings(env=env, secret_key=secret, encryption_key=Fernet.generate_key().decode())


@pytest.mark.parametrize("key", [None, "changeme", "pas-une-cle-fernet"])
def test_bad_encryption_keys_are_refused_outside_development(key: str | None) -> None:
    with pytest.raises(ValidationError, match="BEFFROI_ENCRYPTION_KEY"):
        settings(env="production", secret_key=GOOD_SECRET, encryption_key=key)


def test_production_reads_everything_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("BEFFROI_ENV", "production")
    monkeypatch.setenv("BEFFROI_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("BEFFROI_ENCRYPTION_KEY", f"{first}, {second}")
    monkeypatch.setenv("BEFFROI_DATABASE_URL", "postgres://u:p@db:5432/beffroi")
    monkeypatch.setenv("BEFFROI_PUBLIC_URL", "https://beffroi.example.org/")
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.encryption_keys == [first, second]
    assert loaded.database_url == "postgresql+psycopg://u:p@db:5432/beffroi"
    assert loaded.public_url == "https://beffroi.example.org"
    assert loaded.secure_cookies
