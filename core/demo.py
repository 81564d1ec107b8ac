"""The demo authority: idempotent, so `make run` can seed it every time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from core import crypto
from core.accounts.models import Account, AccountKind, Network
from core.authorities import service as authorities
from core.authorities.models import Authority, AuthorityCreate, AuthorityKind, Membership, Role
from core.config import Settings
from core.posts import demo as posts_demo
from core.reach import demo as reach_demo
from core.users import service as users

DEMO_SLUG = "val-de-brume"
DEMO_PASSWORD = "beffroi-demo"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    roles: tuple[Role, ...]


DEMO_LOGINS = (
    DemoLogin("admin@val-de-brume.example.org", "Sophie Lemaire", (Role.admin,)),
    DemoLogin("communication@val-de-brume.example.org", "Camille Martin", (Role.editor,)),
    DemoLogin("maire@val-de-brume.example.org", "Hélène Durand", (Role.approver,)),
    DemoLogin("adjoint.travaux@val-de-brume.example.org", "Marc Petit", (Role.approver,)),
    DemoLogin("agent@val-de-brume.example.org", "Karim Benali", (Role.contributor,)),
)
OPERATOR = DemoLogin("operateur@beffroi.example.org", "Opérateur de la plateforme", ())

# One account per network, an elected official's own account, and a manual channel. All of them
# are sandbox accounts (the handle names the same sandbox account every time the demo is seeded);
# the manual channel's prepared texts go to the communication officer.
MANUAL_ASSIGNEE = "communication@val-de-brume.example.org"
DEMO_ACCOUNTS = (
    (Network.facebook, "Ville de Val-de-Brume", "valdebrume", AccountKind.institutional),
    (Network.instagram, "Val-de-Brume", "valdebrume", AccountKind.institutional),
    (Network.x, "Val-de-Brume", "ValDeBrume", AccountKind.institutional),
    (Network.linkedin, "Ville de Val-de-Brume", "ville-de-val-de-brume", AccountKind.institutional),
    (Network.mastodon, "Val-de-Brume", "valdebrume@social.example.org", AccountKind.institutional),
    (Network.bluesky, "Val-de-Brume", "valdebrume.example.org", AccountKind.institutional),
    (Network.x, "Hélène Durand", "HDurandMaire", AccountKind.elected),
    (Network.manual, "PanneauPocket", "", AccountKind.institutional),
)


def seed(session: Session, settings: Settings) -> list[DemoLogin]:
    """Create the demo authority and its members if they are missing; returns the logins."""
    authority = authorities.get_by_slug(session, DEMO_SLUG)
    if authority is None:
        authority = authorities.create(
            session,
            data=AuthorityCreate(
                name="Commune de Val-de-Brume",
                slug=DEMO_SLUG,
                kind=AuthorityKind.commune,
                timezone="Europe/Paris",
            ),
        )
    for login in DEMO_LOGINS:
        user = users.get_by_email(session, login.email)
        if user is None:
            user = users.create(session, email=login.email, name=login.name, password=DEMO_PASSWORD)
        if authorities.membership(session, authority_id=authority.id, user_id=user.id) is None:  # type: ignore[arg-type]
            session.add(
                Membership(
                    authority_id=authority.id,  # type: ignore[arg-type]
                    user_id=user.id,  # type: ignore[arg-type]
                    roles=[role.value for role in login.roles],
                )
            )
    _seed_accounts(session, settings, authority)
    session.flush()
    posts_demo.seed(session, settings, authority=authority)
    reach_demo.seed(session, authority=authority)
    if users.get_by_email(session, OPERATOR.email) is None:
        users.create(
            session,
            email=OPERATOR.email,
            name=OPERATOR.name,
            password=DEMO_PASSWORD,
            is_superuser=True,
        )
    session.flush()
    return [*DEMO_LOGINS, OPERATOR]


def _seed_accounts(session: Session, settings: Settings, authority: Authority) -> None:
    from networks.sandbox.provision import provision

    existing = {
        (a.network, a.name): a
        for a in session.exec(select(Account).where(Account.authority_id == authority.id))
    }
    assignee = users.get_by_email(session, MANUAL_ASSIGNEE)
    for network, name, handle, kind in DEMO_ACCOUNTS:
        account = existing.get((network, name))
        if account is None:
            account = Account(
                authority_id=authority.id,  # type: ignore[arg-type]
                network=network,
                name=name,
                handle=handle,
                kind=kind,
            )
        if network == Network.manual:
            if account.assignee_id is None and assignee is not None:
                account.assignee_id = assignee.id
        elif not account.sandbox or account.credentials_encrypted is None:
            # Accounts of an older demo (before sandboxes) become sandbox accounts too.
            grant = provision(settings, network, name=name, handle=handle.split("@")[0])
            account.sandbox = True
            account.remote_id = grant.remote_id
            account.handle = grant.handle if network == Network.bluesky else handle
            account.instance_url = grant.instance_url
            account.credentials_encrypted = crypto.encrypt(settings, grant.credentials)
            account.token_expires_at = grant.expires_at
        session.add(account)
