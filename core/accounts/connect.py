"""Connecting accounts: with credentials, in the sandbox, or through a network's OAuth flow; and
checking them. These services call networks, so they end the request's transaction before each
call (SQLite holds its write lock for the whole transaction) and write the result afterwards:
nothing is written before the network has answered, and a failure leaves nothing behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import clock, crypto, security
from core.accounts import service as accounts
from core.accounts.models import (
    Account,
    AccountCreate,
    AccountHealth,
    AuthorizationStarted,
    AuthorizeRequest,
    Network,
    OAuthState,
)
from core.authorities.models import Authority
from core.config import Settings
from core.db import session_scope
from core.errors import AppError, Gone, InvalidInput
from core.i18n import N_
from core.tenancy import for_authority
from core.users.models import User
from networks import registry, urls
from networks.base import (
    AuthExpired,
    NetworkAdapter,
    NetworkError,
    PermanentError,
    Profile,
    RateLimited,
    RefreshedCredentials,
    RetryableError,
)
from networks.config import AdapterConfig
from networks.sandbox import provision

OAUTH_TTL = timedelta(minutes=15)
# A token is renewed when it expires within this delay (by `check` and the refresh job).
REFRESH_AHEAD = timedelta(days=1)
OAUTH_NETWORKS = (
    Network.x,
    Network.linkedin,
    Network.facebook,
    Network.instagram,
    Network.mastodon,
)

# What each network needs in "credentials", and what it may also take.
CREDENTIALS: dict[Network, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Network.x: (("access_token",), ("refresh_token",)),
    Network.linkedin: (("access_token",), ("refresh_token", "organization")),
    Network.facebook: (("access_token", "page_id"), ()),
    Network.instagram: (("access_token",), ("user_id",)),
    Network.mastodon: (("access_token",), ("client_id", "client_secret")),
    Network.bluesky: (("identifier", "app_password"), ()),
}


class OAuthStateInvalid(AppError):
    status_code = 400
    code = "oauth_state_invalid"
    detail = N_(
        "Ce retour de connexion n'est pas valable (paramètre « state » absent ou altéré) : "
        "recommencez la connexion du compte depuis Beffroi."
    )


class OAuthStateUsed(Gone):
    code = "oauth_state_used"
    detail = N_(
        "Cette connexion a déjà servi ou a expiré (15 minutes) : recommencez la connexion du "
        "compte depuis Beffroi."
    )


class OAuthNotConfigured(InvalidInput):
    code = "oauth_not_configured"
    detail = N_(
        "La connexion à {network} n'est pas configurée sur ce serveur : l'équipe technique doit "
        "renseigner {settings} (voir docs/reseaux.md). En attendant, vous pouvez utiliser un "
        "compte du bac à sable."
    )


class OAuthUnsupported(InvalidInput):
    code = "oauth_unsupported"
    detail = N_(
        "{network} ne se connecte pas par OAuth : créez le compte avec POST …/accounts et ses "
        "identifiants (pour Bluesky, l'identifiant et un mot de passe d'application)."
    )


class NothingToConnect(InvalidInput):
    code = "nothing_to_connect"
    detail = N_(
        "Ce compte {network} n'administre aucune page ou organisation que Beffroi puisse publier : "
        "vérifiez vos droits d'administration sur la page, puis recommencez."
    )


# --- the request's transaction and the network ------------------------------------------------


def release(session: Session) -> None:
    """End the request's transaction before a network call. What is pending at this point is
    complete by itself (reads, and authentication bookkeeping such as a token's last use)."""
    session.commit()


def _config(
    settings: Settings,
    network: Network,
    *,
    credentials: dict[str, Any] | None = None,
    sandbox: bool = False,
    instance_url: str | None = None,
    remote_id: str = "",
    handle: str = "",
) -> AdapterConfig:
    return registry.config_for(
        network,
        settings,
        credentials=credentials,
        remote_id=remote_id,
        handle=handle,
        sandbox=sandbox,
        instance_url=instance_url,
    )


# --- adding an account ------------------------------------------------------------------------


def normalise_credentials(network: Network, given: dict[str, str]) -> dict[str, str]:
    required, optional = CREDENTIALS[network]
    values = {k: v.strip() for k, v in given.items() if isinstance(v, str) and v.strip()}
    if network == Network.bluesky:
        values["identifier"] = values.get("identifier", values.pop("handle", "")).removeprefix("@")
    missing = [k for k in required if not values.get(k)]
    unknown = sorted(set(values) - set(required) - set(optional))
    if missing or unknown:
        raise InvalidInput(
            N_(
                "Pour {network}, « credentials » doit contenir {required} (et peut contenir "
                "{optional})."
            ),
            network=network.label,
            required=", ".join(required),
            optional=", ".join(optional) or "rien d'autre",
            extra={"field": "credentials", "missing": missing, "unknown": unknown},
        )
    return values


def add_account(
    session: Session, settings: Settings, *, authority: Authority, data: AccountCreate
) -> Account:
    """Add an account; a connected one is checked with its network first (one call)."""
    if data.network == Network.manual:
        accounts.check_assignee(session, authority=authority, user_id=data.assignee_id)
        account = Account(
            authority_id=authority.id,  # type: ignore[arg-type]
            network=Network.manual,
            name=data.name,
            kind=data.kind,
            handle=data.handle or "",
            daily_quota=data.daily_quota,
            assignee_id=data.assignee_id,
            health=AccountHealth.ok,
        )
        session.add(account)
        session.flush()
        return account
    instance_url: str | None = None
    if data.sandbox:
        grant = provision.provision(settings, data.network, name=data.name, handle=data.handle)
        credentials, instance_url = grant.credentials, grant.instance_url
        remote_id, handle = grant.remote_id, grant.handle
    else:
        assert data.credentials is not None
        credentials = normalise_credentials(data.network, data.credentials)
        remote_id, handle = "", ""
        if data.network == Network.mastodon and not data.instance_url:
            raise InvalidInput(
                N_("Indiquez l'adresse du serveur Mastodon du compte (« instance_url »)."),
                extra={"field": "instance_url"},
            )
        if data.instance_url and data.network.has_instance:
            instance_url = urls.check(data.instance_url, settings)
    config = _config(
        settings,
        data.network,
        credentials=credentials,
        sandbox=data.sandbox,
        instance_url=instance_url,
        remote_id=remote_id,
        handle=handle,
    )
    release(session)
    adapter = registry.build(data.network, config)
    profile = adapter.verify()
    credentials = adapter.updated_credentials() or credentials
    expires = grant.expires_at if data.sandbox else None
    if data.network == Network.x and credentials.get("refresh_token") and not data.sandbox:
        # X's OAuth 2.0 user tokens always last two hours: let the refresh job renew them.
        expires = clock.now() + timedelta(hours=2)
    account = Account(
        authority_id=authority.id,  # type: ignore[arg-type]
        network=data.network,
        name=data.name,
        kind=data.kind,
        daily_quota=data.daily_quota,
        sandbox=data.sandbox,
        instance_url=instance_url,
    )
    _apply_profile(account, profile)
    accounts.store_credentials(
        session, settings, account=account, credentials=credentials, expires_at=expires
    )
    accounts.record_health(session, account=account, health=AccountHealth.ok)
    session.flush()
    return account


def _apply_profile(account: Account, profile: Profile) -> None:
    account.remote_id = profile.remote_id[:200]
    account.handle = profile.handle[:200]
    if profile.max_characters is not None:
        account.max_characters = profile.max_characters


# --- checking ---------------------------------------------------------------------------------


def check(session: Session, settings: Settings, *, account: Account) -> Account:
    """Verify the credentials with the network (renewing a token about to expire) and record
    the account's health. A network that does not answer leaves the health unknown."""
    if account.network == Network.manual:
        accounts.record_health(session, account=account, health=AccountHealth.ok)
        return account
    try:
        adapter = registry.adapter_for(account, settings)
    except NetworkError as error:
        accounts.record_health(
            session, account=account, health=AccountHealth.unhealthy, message=error.message
        )
        return account
    assert account.id is not None
    account_id = account.id
    renewing = account.token_expires_at is not None and claim_refresh(
        session, account_id, due_before=clock.now() + REFRESH_AHEAD
    )
    release(session)
    try:
        return _verify(session, settings, account=account, adapter=adapter, renewing=renewing)
    finally:
        if renewing:
            finish_refresh(session, account_id)


def _verify(
    session: Session,
    settings: Settings,
    *,
    account: Account,
    adapter: NetworkAdapter,
    renewing: bool,
) -> Account:
    refreshed: RefreshedCredentials | None = None
    try:
        if renewing:
            refreshed = adapter.refresh()
            if refreshed is not None:
                adapter = registry.build(
                    account.network,
                    _config(
                        settings,
                        account.network,
                        credentials=refreshed.credentials,
                        sandbox=account.sandbox,
                        instance_url=account.instance_url,
                        remote_id=account.remote_id,
                        handle=account.handle,
                    ),
                )
        profile = adapter.verify()
    except (AuthExpired, PermanentError) as error:
        accounts.record_health(
            session, account=account, health=AccountHealth.unhealthy, message=error.message
        )
        return account
    except (RetryableError, RateLimited) as error:
        accounts.record_health(
            session, account=account, health=AccountHealth.unknown, message=error.message
        )
        return account
    _save_renewed(session, settings, account=account, adapter=adapter, refreshed=refreshed)
    account.handle = profile.handle[:200]
    if profile.max_characters is not None:
        account.max_characters = profile.max_characters
    accounts.record_health(session, account=account, health=AccountHealth.ok)
    return account


def _save_renewed(
    session: Session,
    settings: Settings,
    *,
    account: Account,
    adapter: NetworkAdapter,
    refreshed: RefreshedCredentials | None,
) -> None:
    if refreshed is not None:
        accounts.store_credentials(
            session,
            settings,
            account=account,
            credentials=adapter.updated_credentials() or refreshed.credentials,
            expires_at=refreshed.expires_at,
        )
        return
    updated = adapter.updated_credentials()
    if updated is not None:
        accounts.store_credentials(
            session,
            settings,
            account=account,
            credentials=updated,
            expires_at=account.token_expires_at,
        )


REFRESH_LEASE = timedelta(minutes=2)


def claim_refresh(session: Session, account_id: int, *, due_before: datetime) -> bool:
    """Take the right to renew an account's token, if its token expires before `due_before`
    and no other process holds that right; the caller releases it by writing the result
    (`finish_refresh`), or it lapses after REFRESH_LEASE if the process died. Networks that
    rotate refresh tokens (X) refuse the second use of one: two workers renewing the same
    account at once would leave it marked disconnected."""
    now = clock.now()
    claimed = session.execute(
        sa.update(Account)
        .where(
            col(Account.id) == account_id,
            col(Account.token_expires_at) < due_before,
            sa.or_(
                col(Account.refreshing_until).is_(None),
                col(Account.refreshing_until) < now,
            ),
        )
        .values(refreshing_until=now + REFRESH_LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def finish_refresh(session: Session, account_id: int) -> None:
    session.execute(
        sa.update(Account)
        .where(col(Account.id) == account_id)
        .values(refreshing_until=None)
        .execution_options(synchronize_session=False)
    )


def refresh_due(engine: Engine, settings: Settings, *, within: timedelta = REFRESH_AHEAD) -> int:
    """Renew every token that expires within `within` (the worker's periodic job calls this).
    Each account is claimed, refreshed over the network and written in its own short
    transactions; one account's failure is recorded on it and does not stop the others, and an
    account another worker is renewing is left to it. Returns how many tokens were renewed."""
    due_before = clock.now() + within
    with session_scope(engine) as session:
        due = list(
            session.exec(
                select(Account.id).where(
                    col(Account.token_expires_at).is_not(None),
                    col(Account.token_expires_at) < due_before,
                    col(Account.credentials_encrypted).is_not(None),
                )
            )
        )
    renewed = 0
    for account_id in due:
        assert account_id is not None
        with session_scope(engine) as session:
            if not claim_refresh(session, account_id, due_before=due_before):
                continue  # renewed meanwhile, or being renewed by another worker
            account = session.get(Account, account_id, populate_existing=True)
            if account is None:
                continue
            try:
                adapter = registry.adapter_for(account, settings)
            except NetworkError as error:
                accounts.record_health(
                    session, account=account, health=AccountHealth.unhealthy, message=error.message
                )
                finish_refresh(session, account_id)
                continue
        try:
            refreshed = adapter.refresh()
        except NetworkError as error:
            with session_scope(engine) as session:
                account = session.get(Account, account_id)
                if account is not None:
                    health = (
                        AccountHealth.unhealthy
                        if isinstance(error, AuthExpired | PermanentError)
                        else account.health
                    )
                    accounts.record_health(
                        session, account=account, health=health, message=error.message
                    )
                finish_refresh(session, account_id)
            continue
        with session_scope(engine) as session:
            finish_refresh(session, account_id)
            account = session.get(Account, account_id)
            if account is not None and refreshed is not None:
                accounts.store_credentials(
                    session,
                    settings,
                    account=account,
                    credentials=refreshed.credentials,
                    expires_at=refreshed.expires_at,
                )
                renewed += 1
    return renewed


# --- OAuth ------------------------------------------------------------------------------------


def _signer(settings: Settings) -> security.Signer:
    return security.Signer(settings.secret, "oauth-state")


def _missing_app(settings: Settings, network: Network) -> str | None:
    names = {
        Network.x: (
            "x_client_id",
            "x_client_secret",
            "BEFFROI_X_CLIENT_ID et BEFFROI_X_CLIENT_SECRET",
        ),
        Network.linkedin: (
            "linkedin_client_id",
            "linkedin_client_secret",
            "BEFFROI_LINKEDIN_CLIENT_ID et BEFFROI_LINKEDIN_CLIENT_SECRET",
        ),
        Network.facebook: (
            "facebook_app_id",
            "facebook_app_secret",
            "BEFFROI_FACEBOOK_APP_ID et BEFFROI_FACEBOOK_APP_SECRET",
        ),
        Network.instagram: (
            "instagram_app_id",
            "instagram_app_secret",
            "BEFFROI_INSTAGRAM_APP_ID et BEFFROI_INSTAGRAM_APP_SECRET",
        ),
    }
    if network not in names:
        return None
    client_id, secret, label = names[network]
    return None if getattr(settings, client_id) and getattr(settings, secret) else label


def start_authorization(
    session: Session,
    settings: Settings,
    *,
    authority: Authority,
    user: User,
    data: AuthorizeRequest,
) -> AuthorizationStarted:
    """The network's authorization URL, with a signed, stored, single-use state."""
    network = data.network
    if network not in OAUTH_NETWORKS:
        raise OAuthUnsupported(network=network.label)
    if not data.sandbox and (missing := _missing_app(settings, network)):
        raise OAuthNotConfigured(network=network.label, settings=missing)
    instance_url: str | None = None
    if network == Network.mastodon and not data.sandbox:
        if not data.instance_url:
            raise InvalidInput(
                N_("Indiquez l'adresse du serveur Mastodon du compte (« instance_url »)."),
                extra={"field": "instance_url"},
            )
        instance_url = urls.check(data.instance_url, settings)
    config = _config(settings, network, sandbox=data.sandbox, instance_url=instance_url)
    if network == Network.mastodon:
        instance_url = config.api_url
    nonce = secrets.token_urlsafe(24)
    state = _signer(settings).dumps(nonce)
    redirect_uri = settings.oauth_redirect_uri
    kept: dict[str, Any] = {}
    if network == Network.x:
        from networks import x

        url, kept["code_verifier"] = x.authorization_url(
            config, redirect_uri=redirect_uri, state=state
        )
    elif network == Network.linkedin:
        from networks import linkedin

        url = linkedin.Authentication(
            config, redirect_uri=redirect_uri, state=state
        ).authorization_url
    elif network == Network.facebook:
        from networks import meta

        url = meta.facebook_authorization_url(config, redirect_uri=redirect_uri, state=state)
    elif network == Network.instagram:
        from networks import meta

        url = meta.instagram_authorization_url(config, redirect_uri=redirect_uri, state=state)
    else:
        from networks import mastodon

        release(session)
        client_id, client_secret = mastodon.register_app(
            config,
            redirect_uri=redirect_uri,
            website=settings.public_url,
            name=settings.mastodon_app_name,
        )
        kept.update(client_id=client_id, client_secret=client_secret)
        url = mastodon.authorization_url(
            config,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            state=state,
            allow_http=bool(data.sandbox or settings.allow_private_network),
        )
    expires_at = clock.now() + OAUTH_TTL
    session.add(
        OAuthState(
            authority_id=authority.id,  # type: ignore[arg-type]
            user_id=user.id,  # type: ignore[arg-type]
            nonce=nonce,
            network=network,
            kind=data.kind,
            name=data.name,
            instance_url=instance_url,
            sandbox=data.sandbox,
            secrets_encrypted=crypto.encrypt(settings, kept) if kept else None,
            expires_at=expires_at,
        )
    )
    return AuthorizationStarted(authorization_url=url, expires_at=expires_at)


@dataclass
class Candidate:
    """An account the new token can publish to (one page among those the person manages)."""

    remote_id: str
    name: str
    handle: str
    credentials: dict[str, Any]
    expires_at: str | None = None
    max_characters: int | None = None


@dataclass
class Completion:
    """What the callback page shows: the connected account, or the pages to choose from."""

    authority: Authority
    network: Network
    account: Account | None = None
    choices: list[Candidate] = field(default_factory=list)
    cancelled: bool = False


def _load_state(session: Session, settings: Settings, state: str) -> OAuthState:
    try:
        nonce = _signer(settings).loads(state, max_age=int(OAUTH_TTL.total_seconds()))
    except security.Expired:
        raise OAuthStateUsed() from None
    except security.Invalid:
        raise OAuthStateInvalid() from None
    # Looked up by its secret nonce, like an invitation token: the state names the authority.
    row = session.exec(select(OAuthState).where(OAuthState.nonce == str(nonce))).first()
    if row is None:
        raise OAuthStateInvalid()
    return row


def complete_authorization(
    session: Session, settings: Settings, *, state: str, code: str | None, error: str | None
) -> Completion:
    row = _load_state(session, settings, state)
    if row.expires_at <= clock.now():
        raise OAuthStateUsed()
    # Single use, even when two callbacks race: only one of them updates the row.
    claimed = session.execute(
        sa.update(OAuthState)
        .where(col(OAuthState.id) == row.id, col(OAuthState.used_at).is_(None))
        .values(used_at=clock.now())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise OAuthStateUsed()
    authority = session.get(Authority, row.authority_id)
    assert authority is not None
    if error or not code:
        return Completion(authority=authority, network=Network(row.network), cancelled=True)
    kept = crypto.decrypt(settings, row.secrets_encrypted) if row.secrets_encrypted else {}
    config = _config(
        settings, Network(row.network), sandbox=row.sandbox, instance_url=row.instance_url
    )
    release(session)
    candidates = _exchange(settings, row, config, code=code, kept=kept)
    if not candidates:
        raise NothingToConnect(network=Network(row.network).label)
    if len(candidates) == 1:
        account = _upsert(session, settings, row=row, candidate=candidates[0])
        row.completed_at, row.account_id = clock.now(), account.id
        session.add(row)
        return Completion(authority=authority, network=Network(row.network), account=account)
    row.secrets_encrypted = crypto.encrypt(
        settings, {"candidates": [c.__dict__ for c in candidates]}
    )
    session.add(row)
    return Completion(authority=authority, network=Network(row.network), choices=candidates)


def choose(session: Session, settings: Settings, *, state: str, remote_id: str) -> Completion:
    """Finish a connection whose token manages several pages: connect the chosen one."""
    row = _load_state(session, settings, state)
    if row.used_at is None or row.completed_at is not None or not row.secrets_encrypted:
        raise OAuthStateUsed()
    if row.used_at + OAUTH_TTL <= clock.now():
        raise OAuthStateUsed()
    candidates = [
        Candidate(**c)
        for c in crypto.decrypt(settings, row.secrets_encrypted).get("candidates", [])
    ]
    chosen = next((c for c in candidates if c.remote_id == remote_id), None)
    if chosen is None:
        raise InvalidInput(N_("Choisissez l'une des pages proposées."))
    account = _upsert(session, settings, row=row, candidate=chosen)
    # The other pages' tokens are not kept.
    row.secrets_encrypted = None
    row.completed_at, row.account_id = clock.now(), account.id
    session.add(row)
    authority = session.get(Authority, row.authority_id)
    assert authority is not None
    return Completion(authority=authority, network=Network(row.network), account=account)


def completed(session: Session, settings: Settings, *, state: str) -> Completion:
    """The connection `state` finished, for the page shown after a choice (POST, then GET)."""
    row = _load_state(session, settings, state)
    account = session.get(Account, row.account_id) if row.account_id else None
    authority = session.get(Authority, row.authority_id)
    if account is None or authority is None or account.authority_id != authority.id:
        raise OAuthStateUsed()
    return Completion(authority=authority, network=Network(row.network), account=account)


def _exchange(
    settings: Settings, row: OAuthState, config: AdapterConfig, *, code: str, kept: dict[str, Any]
) -> list[Candidate]:
    redirect_uri = settings.oauth_redirect_uri
    network = Network(row.network)

    def verified(credentials: dict[str, Any], expires: Any) -> Candidate:
        adapter = registry.build(network, _with_credentials(config, credentials))
        profile = adapter.verify()
        return Candidate(
            remote_id=profile.remote_id,
            name=profile.name,
            handle=profile.handle,
            credentials=credentials,
            expires_at=expires.isoformat() if expires else None,
            max_characters=profile.max_characters,
        )

    if network == Network.x:
        from networks import x

        token = x.exchange_code(
            config,
            redirect_uri=redirect_uri,
            code=code,
            verifier=str(kept.get("code_verifier", "")),
        )
        return [verified(token.credentials, token.expires_at)]
    if network == Network.linkedin:
        from networks import linkedin

        auth = linkedin.Authentication(config, redirect_uri=redirect_uri)
        auth.authorization_code = code
        token = auth.get_access_token()
        found = linkedin.organizations(_with_credentials(config, token.credentials))
        return [
            Candidate(
                remote_id=urn,
                name=name,
                handle=vanity,
                credentials={**token.credentials, "organization": urn},
                expires_at=token.expires_at.isoformat() if token.expires_at else None,
            )
            for urn, name, vanity in found
        ]
    if network == Network.facebook:
        from networks import meta

        return [
            Candidate(
                remote_id=page["id"],
                name=page["name"],
                handle=page["handle"],
                credentials={"access_token": page["access_token"], "page_id": page["id"]},
            )
            for page in meta.facebook_pages(config, redirect_uri=redirect_uri, code=code)
        ]
    if network == Network.instagram:
        from networks import meta

        token = meta.instagram_exchange(config, redirect_uri=redirect_uri, code=code)
        return [verified(token.credentials, token.expires_at)]
    from networks import mastodon

    credentials = mastodon.exchange_code(
        config,
        client_id=str(kept["client_id"]),
        client_secret=str(kept["client_secret"]),
        redirect_uri=redirect_uri,
        code=code,
        allow_http=bool(row.sandbox or settings.allow_private_network),
    )
    return [verified(credentials, None)]


def _with_credentials(config: AdapterConfig, credentials: dict[str, Any]) -> AdapterConfig:
    from dataclasses import replace

    return replace(config, credentials=dict(credentials))


def _upsert(
    session: Session, settings: Settings, *, row: OAuthState, candidate: Candidate
) -> Account:
    """The account of `candidate` in the row's authority: updated when it was connected before
    (reconnecting renews the token), created otherwise."""
    from datetime import datetime

    stmt = for_authority(select(Account), row.authority_id).where(
        Account.network == row.network,
        Account.remote_id == candidate.remote_id,
        Account.sandbox == row.sandbox,
    )
    account = session.exec(stmt).first()
    if account is None:
        account = Account(
            authority_id=row.authority_id,
            network=Network(row.network),
            name=row.name or candidate.name or candidate.handle,
            kind=row.kind,
            sandbox=row.sandbox,
            instance_url=row.instance_url,
        )
    account.remote_id = candidate.remote_id[:200]
    account.handle = candidate.handle[:200]
    if candidate.max_characters is not None:
        account.max_characters = candidate.max_characters
    expires = datetime.fromisoformat(candidate.expires_at) if candidate.expires_at else None
    accounts.store_credentials(
        session, settings, account=account, credentials=candidate.credentials, expires_at=expires
    )
    accounts.record_health(session, account=account, health=AccountHealth.ok)
    session.flush()
    return account


def purge_states(session: Session) -> None:
    """Forget connections older than a day (the housekeeping job)."""
    session.execute(
        sa.delete(OAuthState).where(col(OAuthState.created_at) < clock.now() - timedelta(days=1))
    )
