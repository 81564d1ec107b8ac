"""The one interface every network adapter implements, and the errors they all raise.

The publishing engine and the pages only see this module: whatever the library raised, a failure
becomes one of four errors (`RetryableError`, `RateLimited`, `AuthExpired`, `PermanentError`),
carrying the network's own message (`network_message`) and a French sentence saying what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from core import clock
from core.accounts.models import Network
from core.errors import AppError
from core.i18n import N_
from networks.redact import redact

# --- what goes out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """An image to publish. `url` is a public address of the same bytes: Instagram downloads
    images itself and needs it; the other networks receive the bytes."""

    data: bytes
    mime: str
    alt: str
    url: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Post:
    """What to publish on one account. Networks without a link field get `link` appended to the
    text (unless the text already contains it); the others show it as a link card."""

    text: str
    images: Sequence[Image] = ()
    link: str | None = None

    def text_with_link(self) -> str:
        if self.link and self.link not in self.text:
            return f"{self.text.rstrip()}\n\n{self.link}" if self.text.strip() else self.link
        return self.text


# --- what comes back ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """The account the credentials act for."""

    remote_id: str
    handle: str
    name: str
    url: str | None = None
    followers: int | None = None
    # The longest text the account may post, where its server sets it (Mastodon instances).
    max_characters: int | None = None


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str | None


@dataclass(frozen=True)
class PostMetrics:
    """What the network tells about one publication; None where it tells nothing."""

    impressions: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    clicks: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemotePost:
    """A publication read back from the account, to reconcile an attempt of unknown outcome.
    `marker` is what the network kept of Beffroi's idempotency key, where it keeps one (Bluesky:
    the record key)."""

    remote_id: str
    url: str | None
    text: str
    created_at: datetime | None
    marker: str | None = None


@dataclass(frozen=True)
class RefreshedCredentials:
    """New credentials to store (encrypted) in place of the old ones."""

    credentials: dict[str, Any]
    expires_at: datetime | None


@runtime_checkable
class NetworkAdapter(Protocol):
    """One connected account on one network. Every method calls the network (never inside a
    database transaction) and raises only `NetworkError` subclasses."""

    network: ClassVar[Network]
    max_images: ClassVar[int]

    def verify(self) -> Profile:
        """Check the credentials; returns the account they act for."""
        ...

    def publish(self, post: Post, *, idempotency_key: str) -> Published:
        """Publish `post`. `idempotency_key` is derived by the caller for each attempt and sent
        where the network accepts one (Mastodon's Idempotency-Key, Bluesky's record key), so that
        a retry of the same attempt cannot publish twice there."""
        ...

    def delete(self, remote_id: str) -> None: ...

    def metrics(self, remote_id: str) -> PostMetrics: ...

    def followers(self) -> int: ...

    def recent_posts(self, *, limit: int = 20) -> list[RemotePost]:
        """The account's latest publications, newest first."""
        ...

    def find(self, idempotency_key: str) -> RemotePost | None:
        """The publication made with this idempotency key, where the network can tell exactly
        (Bluesky: the record key); None where it cannot, and then `recent_posts` is compared by
        text. (Mastodon also answers a repeated key with the first status, for about an hour.)"""
        ...

    def refresh(self) -> RefreshedCredentials | None:
        """Renew the token before it expires; None when the network's tokens do not expire."""
        ...

    def updated_credentials(self) -> dict[str, Any] | None:
        """Credentials the library renewed by itself during the calls (Bluesky sessions), to be
        stored; None when nothing changed."""
        ...


# --- errors -------------------------------------------------------------------------------------


class NetworkError(AppError):
    """A failure reported by (or on the way to) a network. `network_message` is the network's
    own words, kept for the person who investigates; `detail` says what to do, in French."""

    status_code = 502
    code = "network_error"
    detail = N_("{network} a répondu par une erreur : {message}")

    def __init__(
        self,
        detail: str | None = None,
        /,
        *,
        network: Network | str,
        network_message: str = "",
        status: int | None = None,
        **params: Any,
    ) -> None:
        self.network = Network(network)
        self.network_message = redact(network_message.strip())[:1000]
        self.http_status = status
        params.setdefault("network", self.network.label)
        params.setdefault("message", self.network_message or "—")
        super().__init__(detail, **params)


class RetryableError(NetworkError):
    """The network could not answer now (server error, timeout, connection lost): try again
    later. `outcome_unknown` is true when the request may have been carried out anyway (a timeout
    or a server error after sending it): reconcile with `recent_posts` before publishing again."""

    status_code = 503
    code = "network_unavailable"
    detail = N_(
        "{network} ne répond pas pour le moment ({message}). Réessayez dans quelques minutes."
    )

    def __init__(
        self, detail: str | None = None, /, *, outcome_unknown: bool = False, **kwargs: Any
    ) -> None:
        self.outcome_unknown = outcome_unknown
        super().__init__(detail, **kwargs)


class RateLimited(NetworkError):
    """The account (or the app) reached the network's limit until `reset_at`."""

    status_code = 429
    code = "network_rate_limited"
    detail = N_(
        "{network} limite le nombre de publications ou de demandes de ce compte : nouvel essai "
        "possible après {reset}. ({message})"
    )

    def __init__(self, detail: str | None = None, /, *, reset_at: datetime, **kwargs: Any) -> None:
        self.reset_at = reset_at
        kwargs.setdefault("reset", reset_at.strftime("%H:%M UTC"))
        super().__init__(detail, **kwargs)
        self.extra["retry_after"] = max(1, int((reset_at - clock.now()).total_seconds()) + 1)


class AuthExpired(NetworkError):
    """The network refused the credentials (expired, revoked, password changed): an
    administrator must reconnect the account."""

    status_code = 422
    code = "network_auth"
    detail = N_(
        "{network} refuse l'accès à ce compte ({message}) : un administrateur doit le "
        "reconnecter depuis Beffroi."
    )


class PermanentError(NetworkError):
    """The network refused this request for good: retrying the same request cannot succeed."""

    status_code = 422
    code = "network_refused"
    detail = N_("{network} a refusé la demande : {message}")


class Duplicate(PermanentError):
    """The network refuses identical content (X, LinkedIn). `existing_id` names the publication
    it already holds, when the network says so."""

    code = "network_duplicate"
    detail = N_(
        "{network} refuse de publier deux fois le même texte ({message}). Modifiez le texte, ou "
        "vérifiez que la publication n'est pas déjà en ligne."
    )

    def __init__(
        self, detail: str | None = None, /, *, existing_id: str | None = None, **kwargs: Any
    ) -> None:
        self.existing_id = existing_id
        super().__init__(detail, **kwargs)


class RemoteNotFound(PermanentError):
    """The publication or account does not exist (any more) on the network."""

    code = "network_not_found"
    detail = N_(
        "{network} ne trouve pas cette publication ou ce compte ({message}) : elle a peut-être "
        "été supprimée directement sur le réseau."
    )


class Forbidden(PermanentError):
    """The credentials are valid but lack a permission for this action."""

    code = "network_forbidden"
    detail = N_(
        "{network} refuse cette action à ce compte ({message}) : vérifiez que le compte connecté "
        "a les droits nécessaires (administrateur de la page, autorisations accordées à Beffroi), "
        "puis reconnectez-le."
    )


class Unsupported(PermanentError):
    code = "network_unsupported"
    detail = N_("{network} ne permet pas cette action par son API : {message}")
