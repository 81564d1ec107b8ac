"""Every table of the domain, imported in one place so that the metadata is complete."""

from core.accounts.models import Account, OAuthState
from core.authorities.models import Authority, Membership
from core.calendar.models import CalendarFeedToken, PostingSlot
from core.editorial.models import (
    Audience,
    Campaign,
    EditorialLine,
    Election,
    Objective,
    Pillar,
    PillarApprover,
)
from core.mail.models import OutboundEmail
from core.media.models import MediaAsset, MediaRendition
from core.posts.models import (
    ApprovalLink,
    Post,
    PostAudience,
    PostEvent,
    PostMedia,
    PostObjective,
    Publication,
)
from core.publishing.models import AccountPause, PublicationAttempt
from core.reach.models import AccountSnapshot, LatestSnapshot, MetricSnapshot
from core.users.models import AccessToken, LoginFailure, User
from core.workers.models import WorkerHeartbeat

__all__ = [
    "AccessToken",
    "Account",
    "AccountPause",
    "AccountSnapshot",
    "ApprovalLink",
    "Audience",
    "Authority",
    "CalendarFeedToken",
    "Campaign",
    "EditorialLine",
    "Election",
    "LatestSnapshot",
    "LoginFailure",
    "MediaAsset",
    "MediaRendition",
    "Membership",
    "MetricSnapshot",
    "OAuthState",
    "Objective",
    "OutboundEmail",
    "Pillar",
    "PillarApprover",
    "Post",
    "PostAudience",
    "PostEvent",
    "PostMedia",
    "PostObjective",
    "PostingSlot",
    "Publication",
    "PublicationAttempt",
    "User",
    "WorkerHeartbeat",
]
