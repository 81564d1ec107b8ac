from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, model_validator
from sqlmodel import Field, SQLModel

from core import clock, validation
from core.db import UTCDateTime
from core.i18n import N_


class Network(StrEnum):
    x = "x"
    linkedin = "linkedin"
    facebook = "facebook"
    instagram = "instagram"
    mastodon = "mastodon"
    bluesky = "bluesky"
    # A channel Beffroi does not publish to itself (PanneauPocket, IntraMuros, the website…):
    # when due, the assigned person gets the prepared text and marks it published.
    manual = "manual"

    @property
    def label(self) -> str:
        return NETWORK_LABELS[self]

    @property
    def has_instance(self) -> bool:
        """Networks where each account lives on a server of its own choosing."""
        return self in (Network.mastodon, Network.bluesky)


NETWORK_LABELS = {
    Network.x: "X",
    Network.linkedin: "LinkedIn",
    Network.facebook: "Facebook",
    Network.instagram: "Instagram",
    Network.mastodon: "Mastodon",
    Network.bluesky: "Bluesky",
    Network.manual: N_("Canal manuel"),
}


class AccountKind(StrEnum):
    institutional = "institutional"
    # An elected official's own account: the authority's staff must not run it for campaigning.
    elected = "elected"


class AccountHealth(StrEnum):
    unknown = "unknown"
    ok = "ok"
    # The network refused the credentials or the account: someone has to act (reconnect…).
    unhealthy = "unhealthy"


ACCOUNT_HEALTH_LABELS = {
    AccountHealth.unknown: N_("Non vérifié"),
    AccountHealth.ok: N_("En bon état"),
    AccountHealth.unhealthy: N_("À reconnecter"),
}

Name = Annotated[str, AfterValidator(validation.name)]


class AccountBase(SQLModel):
    name: Name = Field(max_length=200)
    kind: AccountKind = Field(default=AccountKind.institutional, sa_type=sa.String(16))
    # Overrides the network's usual daily posting limit for this account (e.g. X's tier).
    daily_quota: int | None = Field(default=None, ge=1, le=100_000)
    # Manual channels: the member who receives the prepared text when a publication is due.
    assignee_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class Account(AccountBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    network: Network = Field(sa_type=sa.String(16))
    handle: str = Field(default="", max_length=200)
    # Mastodon and Bluesky: the account's server, e.g. https://piaille.fr.
    instance_url: str | None = Field(default=None, max_length=500)
    # A training account on Beffroi's own sandbox of the network: nothing leaves the server.
    sandbox: bool = False
    # The network's id of the account: X user id, LinkedIn organisation URN, Facebook page id,
    # Instagram user id, Mastodon account id, Bluesky DID.
    remote_id: str = Field(default="", max_length=200)
    # Fernet-encrypted JSON (core.crypto); never logged, never returned by the API.
    credentials_encrypted: str | None = Field(default=None, sa_type=sa.Text)
    token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while one process renews the token (a lease): networks that rotate refresh tokens
    # refuse a second use of one, so two workers must never renew the same account at once.
    refreshing_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    health: AccountHealth = Field(default=AccountHealth.unknown, sa_type=sa.String(16))
    health_message: str | None = Field(default=None, max_length=1000)
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    # Mastodon: the instance's `configuration.statuses.max_characters` (500 when unknown).
    max_characters: int | None = Field(default=None, ge=1)

    @property
    def connected(self) -> bool:
        return self.credentials_encrypted is not None


class AccountCreate(BaseModel):
    """A network account: a sandbox one (`sandbox: true`), one given by its credentials (checked
    with the network at once), or a manual channel (`network: "manual"`). Accounts of X, LinkedIn,
    Facebook, Instagram and Mastodon are usually connected through OAuth instead
    (`POST …/accounts/authorize`)."""

    network: Network
    name: Name = Field(max_length=200)
    kind: AccountKind = AccountKind.institutional
    sandbox: bool = False
    credentials: dict[str, str] | None = None
    instance_url: str | None = Field(default=None, max_length=500)
    handle: str | None = Field(default=None, max_length=200)
    daily_quota: int | None = Field(default=None, ge=1, le=100_000)
    assignee_id: int | None = None

    @model_validator(mode="after")
    def _one_way_to_connect(self) -> AccountCreate:
        if self.network == Network.manual:
            if self.sandbox or self.credentials:
                raise ValueError(
                    "Un canal manuel ne se connecte pas : retirez « sandbox » et « credentials »."
                )
            return self
        if self.sandbox and self.credentials:
            raise ValueError(
                "Choisissez : un compte du bac à sable (« sandbox »: true) ou des identifiants "
                "(« credentials »), pas les deux."
            )
        if not self.sandbox and not self.credentials:
            raise ValueError(
                "Donnez les identifiants du compte (« credentials »), demandez un compte du bac à "
                "sable (« sandbox »: true), ou connectez le compte par OAuth avec "
                "POST …/accounts/authorize."
            )
        if self.assignee_id is not None:
            raise ValueError("Seul un canal manuel a une personne chargée de publier.")
        return self


class AccountUpdate(BaseModel):
    name: Name | None = Field(default=None, max_length=200)
    kind: AccountKind | None = None
    daily_quota: int | None = Field(default=None, ge=1, le=100_000)
    assignee_id: int | None = None


class AccountRead(BaseModel):
    id: int
    network: Network
    name: str
    handle: str
    kind: AccountKind
    sandbox: bool
    instance_url: str | None
    remote_id: str
    connected: bool
    token_expires_at: datetime | None
    health: AccountHealth
    health_message: str | None
    last_checked_at: datetime | None
    daily_quota: int | None
    assignee_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountRead:
        # Field by field: never the encrypted credentials, and rows read back hold plain
        # strings where the schema has enums.
        values = {name: getattr(account, name) for name in cls.model_fields if name != "connected"}
        return cls.model_validate({**values, "connected": account.connected})


class AuthorizeRequest(BaseModel):
    """Start connecting an account through the network's OAuth flow."""

    network: Network
    kind: AccountKind = AccountKind.institutional
    name: Name | None = Field(default=None, max_length=200)
    # Mastodon: the instance of the account, e.g. https://piaille.fr.
    instance_url: str | None = Field(default=None, max_length=500)
    # Run the flow against Beffroi's sandbox of the network (training, demonstration).
    sandbox: bool = False


class AuthorizationStarted(BaseModel):
    authorization_url: str
    expires_at: datetime


class OAuthState(SQLModel, table=True):
    """One OAuth connection in progress: created when the flow starts, used once by the callback.

    The `state` sent to the network is a signed reference to `nonce`; what the flow needs to finish
    (PKCE verifier, Mastodon app credentials, tokens waiting for a page to be chosen) is encrypted
    in `secrets_encrypted`."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    nonce: str = Field(max_length=64, unique=True)
    network: Network = Field(sa_type=sa.String(16))
    kind: AccountKind = Field(default=AccountKind.institutional, sa_type=sa.String(16))
    name: str | None = Field(default=None, max_length=200)
    instance_url: str | None = Field(default=None, max_length=500)
    sandbox: bool = False
    secrets_encrypted: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    # Set by the callback; a second callback with the same state is refused.
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when the account is connected (at the callback, or once a page was chosen).
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    account_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
