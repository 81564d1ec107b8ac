"""Which adapter serves an account, and where its network answers.

    adapter = registry.adapter_for(account, settings)
    adapter.publish(Post(text=…, images=[Image(data, mime, alt)]), idempotency_key=…)

Sandbox accounts talk to `BEFFROI_SANDBOX_URL` (the sandboxes of `beffroi serve` or `beffroi
sandbox`); the others to the configured API base URLs, which must not point at a private
address unless `BEFFROI_ALLOW_PRIVATE_NETWORK` is set.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from core import crypto
from core.accounts.models import Account, Network
from core.config import Settings
from core.i18n import N_
from networks import urls
from networks.base import AuthExpired, NetworkAdapter, PermanentError
from networks.config import AdapterConfig
from networks.sandbox import tokens

WEB_URLS = {
    Network.x: "https://x.com",
    Network.linkedin: "https://www.linkedin.com",
    Network.facebook: "https://www.facebook.com",
    Network.instagram: "https://www.instagram.com",
    Network.bluesky: "https://bsky.app",
}


class SandboxDisabled(PermanentError):
    code = "sandbox_disabled"
    detail = N_(
        "Le bac à sable des réseaux n'est pas activé sur ce serveur (réglage BEFFROI_SANDBOX) : "
        "demandez à l'équipe technique de l'activer, ou connectez un vrai compte."
    )


class NotConnected(AuthExpired):
    code = "account_not_connected"
    detail = N_(
        "Le compte « {name} » n'a pas d'identifiants enregistrés : un administrateur doit le "
        "connecter depuis Beffroi."
    )


def sandbox_secret(settings: Settings) -> str:
    return tokens.derive_secret(settings.secret)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def config_for(
    network: Network,
    settings: Settings,
    *,
    credentials: dict[str, Any] | None = None,
    remote_id: str = "",
    handle: str = "",
    sandbox: bool = False,
    instance_url: str | None = None,
) -> AdapterConfig:
    """Where `network` answers for an account (or for an OAuth flow when no credentials)."""
    network = Network(network)  # rows read back from the database hold plain strings
    common: dict[str, Any] = {
        "credentials": dict(credentials or {}),
        "remote_id": remote_id,
        "handle": handle,
        "timeout": settings.network_timeout_seconds,
    }
    version = {
        Network.linkedin: settings.linkedin_version,
        Network.facebook: settings.facebook_graph_version,
        Network.instagram: settings.facebook_graph_version,
    }.get(network, "")
    if sandbox:
        if not settings.sandbox:
            raise SandboxDisabled(network=network)
        base = f"{settings.sandbox_base_url}/{network.value}"
        return AdapterConfig(
            **common,
            sandbox=True,
            api_url=base,
            web_url=base,
            urls=dict.fromkeys(("authorize", "oauth", "dialog", "upload"), base),
            client_id=tokens.CLIENT_ID,
            client_secret=tokens.client_secret(sandbox_secret(settings), network.value),
            version=version,
        )

    def check(url: str) -> str:
        return urls.check(url, settings)

    if network == Network.x:
        return AdapterConfig(
            **common,
            api_url=check(settings.x_api_url),
            web_url=WEB_URLS[network],
            urls={"authorize": check(settings.x_authorize_url)},
            client_id=settings.x_client_id,
            client_secret=_secret(settings.x_client_secret),
        )
    if network == Network.linkedin:
        return AdapterConfig(
            **common,
            api_url=check(settings.linkedin_api_url),
            web_url=WEB_URLS[network],
            urls={"oauth": check(settings.linkedin_oauth_url)},
            client_id=settings.linkedin_client_id,
            client_secret=_secret(settings.linkedin_client_secret),
            version=version,
        )
    if network == Network.facebook:
        return AdapterConfig(
            **common,
            api_url=check(settings.facebook_graph_url),
            web_url=WEB_URLS[network],
            urls={"dialog": check(settings.facebook_dialog_url)},
            client_id=settings.facebook_app_id,
            client_secret=_secret(settings.facebook_app_secret),
            version=version,
        )
    if network == Network.instagram:
        return AdapterConfig(
            **common,
            api_url=check(settings.instagram_graph_url),
            web_url=WEB_URLS[network],
            urls={
                "oauth": check(settings.instagram_oauth_url),
                "authorize": check(settings.instagram_authorize_url),
            },
            client_id=settings.instagram_app_id,
            client_secret=_secret(settings.instagram_app_secret),
            version=version,
        )
    if network == Network.mastodon:
        if not instance_url:
            raise PermanentError(
                N_(
                    "Indiquez l'adresse du serveur Mastodon du compte (par exemple https://piaille.fr)."
                ),
                network=network,
            )
        base = check(instance_url)
        return AdapterConfig(**common, api_url=base, web_url=base)
    if network == Network.bluesky:
        return AdapterConfig(
            **common,
            api_url=check(instance_url or settings.bluesky_api_url),
            web_url=WEB_URLS[network],
        )
    raise PermanentError(
        N_(
            "Un canal manuel ne se publie pas par un réseau : la personne désignée reçoit le texte."
        ),
        network=network,
    )


# Each network's adapter (module, class), imported on first use: their client libraries are
# large.
ADAPTERS = {
    Network.x: ("networks.x", "XAdapter"),
    Network.linkedin: ("networks.linkedin", "LinkedInAdapter"),
    Network.facebook: ("networks.meta", "FacebookAdapter"),
    Network.instagram: ("networks.meta", "InstagramAdapter"),
    Network.mastodon: ("networks.mastodon", "MastodonAdapter"),
    Network.bluesky: ("networks.bluesky", "BlueskyAdapter"),
}


def preload(networks: Iterable[Network]) -> None:
    """Import now the adapters of `networks` (a publishing process, for the networks its
    accounts are on): otherwise the first publication to each network waits for its client
    library to load (a tenth of a second or more, in the dispatcher's thread)."""
    for network in networks:
        found = ADAPTERS.get(Network(network))
        if found is not None:
            importlib.import_module(found[0])


def build(network: Network, config: AdapterConfig) -> NetworkAdapter:
    found = ADAPTERS.get(Network(network))
    if found is None:
        raise ValueError(f"no adapter publishes to {network}")
    module, name = found
    adapter: NetworkAdapter = getattr(importlib.import_module(module), name)(config)
    return adapter


def credentials_of(account: Account, settings: Settings) -> dict[str, Any]:
    if account.credentials_encrypted is None:
        raise NotConnected(network=account.network, name=account.name)
    try:
        return crypto.decrypt(settings, account.credentials_encrypted)
    except crypto.UndecryptableSecret:
        raise AuthExpired(
            N_(
                "Les identifiants du compte « {name} » ne peuvent plus être lus (clé de "
                "chiffrement changée) : un administrateur doit reconnecter le compte."
            ),
            network=account.network,
            name=account.name,
        ) from None


def adapter_for(account: Account, settings: Settings) -> NetworkAdapter:
    """The adapter of a connected account (not of a manual channel: see core.accounts.manual)."""
    credentials = credentials_of(account, settings)
    config = config_for(
        account.network,
        settings,
        credentials=credentials,
        remote_id=account.remote_id,
        handle=account.handle,
        sandbox=account.sandbox,
        instance_url=account.instance_url,
    )
    return build(account.network, config)
