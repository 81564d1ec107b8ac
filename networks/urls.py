"""Which base URLs Beffroi may call.

A base URL can come from a setting or from a person (a Mastodon or Bluesky instance). Beffroi must
not become a way to reach the server's own network: outside development, a URL whose host is (or
resolves to) a private, loopback, link-local or reserved address is refused, and so is plain
http. `BEFFROI_ALLOW_PRIVATE_NETWORK` lifts the rule (development, tests, private deployments).
The sandboxes are exempt: their URL is Beffroi's own (`BEFFROI_SANDBOX_URL`).

The check resolves the name when the account is connected and again each time an adapter is
built; it does not pin the address for the connection itself (DNS rebinding within that window
remains possible, which a egress firewall is the right place to stop).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from core.config import Settings
from core.errors import InvalidInput
from core.i18n import N_


class ForbiddenAddress(InvalidInput):
    code = "forbidden_address"
    detail = N_(
        "L'adresse « {url} » désigne un réseau privé ou local ({address}) : Beffroi refuse de "
        "l'appeler. Indiquez l'adresse publique du serveur (https://…)."
    )


class InvalidAddress(InvalidInput):
    code = "invalid_address"
    detail = N_(
        "« {url} » n'est pas une adresse de serveur utilisable : écrivez-la en entier, par "
        "exemple « https://piaille.fr »."
    )


class UnknownHost(InvalidInput):
    code = "unknown_host"
    detail = N_(
        "Le serveur « {host} » est introuvable : vérifiez l'orthographe de l'adresse « {url} »."
    )


def normalise(url: str) -> str:
    """`url` as a base URL (scheme and host, optional path, no trailing slash) or InvalidAddress.
    A bare host name gets https://."""
    value = url.strip()
    if value and "://" not in value:
        value = f"https://{value}"
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise InvalidAddress(url=url)
    if parts.username or parts.password:
        raise InvalidAddress(url=url)
    return value.rstrip("/")


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def check(url: str, settings: Settings) -> str:
    """The normalised `url` if Beffroi may call it, else ForbiddenAddress / InvalidAddress /
    UnknownHost (4xx errors with a French sentence)."""
    value = normalise(url)
    if settings.allow_private_network:
        return value
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise InvalidAddress(
            N_(
                "L'adresse « {url} » n'est pas chiffrée : Beffroi n'appelle les réseaux qu'en "
                "https://. Écrivez l'adresse en https://."
            ),
            url=url,
        )
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UnknownHost(host=host, url=url) from None
    for info in infos:
        address = str(info[4][0])
        if _forbidden(address):
            raise ForbiddenAddress(url=url, address=address)
    return value
