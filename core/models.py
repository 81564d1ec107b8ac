"""Every table of the domain, imported in one place so that the metadata is complete."""

from core.accounts.models import Account, OAuthState
from core.authorities.models import Authority, Membership
from core.mail.models import OutboundEmail
from core.media.models import MediaAsset, MediaRendition
from core.users.models import AccessToken, LoginFailure, User
from core.workers.models import WorkerHeartbeat

__all__ = [
    "AccessToken",
    "Account",
    "Authority",
    "LoginFailure",
    "MediaAsset",
    "MediaRendition",
    "Membership",
    "OAuthState",
    "OutboundEmail",
    "User",
    "WorkerHeartbeat",
]
