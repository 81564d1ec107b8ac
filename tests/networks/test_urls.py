"""Beffroi never calls a private or loopback address outside development."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from core.accounts.models import Network
from core.config import Settings
from networks import registry, urls
from tests.conftest import TEST_SECRET


def strict(**values: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="production",
        secret_key=TEST_SECRET,
        encryption_key=Fernet.generate_key().decode(),
        **values,
    )


def test_private_network_is_allowed_only_in_development_and_tests() -> None:
    assert strict().allow_private_network is False
    assert strict().sandbox is False
    assert strict(allow_private_network=True).allow_private_network is True
    dev = Settings(_env_file=None, env="development")  # type: ignore[call-arg]
    assert dev.allow_private_network
    assert dev.sandbox


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1",
        "https://localhost:8443",
        "https://10.20.30.40",
        "https://172.16.0.1",
        "https://192.168.1.1",
        "https://169.254.169.254",
        "https://[::1]",
        "https://[fd00::1]",
        "https://[::ffff:127.0.0.1]",
        "https://100.64.0.1",
        "https://0.0.0.0",
    ],
)
def test_private_and_loopback_addresses_are_refused(url: str) -> None:
    with pytest.raises(urls.ForbiddenAddress) as refused:
        urls.check(url, strict())
    assert refused.value.status_code == 422
    assert "réseau privé" in refused.value.message


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://1.1.1.1", urls.InvalidAddress),
        ("ftp://piaille.fr", urls.InvalidAddress),
        ("https://user:pass@1.1.1.1", urls.InvalidAddress),
        ("https://nom-qui-n-existe-pas.invalid", urls.UnknownHost),
    ],
)
def test_unusable_addresses_are_refused(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        urls.check(url, strict())


def test_public_addresses_pass_and_are_normalised() -> None:
    assert urls.check("https://1.1.1.1/", strict()) == "https://1.1.1.1"
    assert urls.normalise("piaille.fr/") == "https://piaille.fr"


def test_configured_api_urls_are_checked_too() -> None:
    with pytest.raises(urls.ForbiddenAddress):
        registry.config_for(Network.x, strict(x_api_url="https://127.0.0.1:9000"))
    with pytest.raises(urls.ForbiddenAddress):
        registry.config_for(
            Network.mastodon, strict(), instance_url="https://10.0.0.2", credentials={}
        )
    # A private deployment can allow it explicitly.
    allowed = strict(x_api_url="http://127.0.0.1:9000", allow_private_network=True)
    assert registry.config_for(Network.x, allowed).api_url == "http://127.0.0.1:9000"


def test_the_access_log_never_shows_a_token_of_a_query_string(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`beffroi serve` answers the sandboxes itself: Graph API calls carry the token in the URL."""
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:4242",
        "GET",
        "/sandbox/facebook/v25.0/123?fields=fan_count&access_token=EAAB-secret-token&appsecret_proof=abc123def",
        "1.1",
        200,
    )
    assert "EAAB-secret-token" not in caplog.text
    assert "abc123def" not in caplog.text
    assert "fields=fan_count&access_token=***" in caplog.text
