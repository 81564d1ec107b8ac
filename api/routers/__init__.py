"""Every router of the JSON API; the composition root includes them and the tests walk them."""

from fastapi import APIRouter

from api.routers import (
    accounts,
    auth,
    authorities,
    calendar,
    checks,
    editorial,
    health,
    media,
    members,
    posts,
    publishing,
    reach,
)

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    authorities.router,
    members.router,
    media.router,
    accounts.router,
    editorial.router,
    posts.router,
    publishing.router,
    checks.router,
    calendar.router,
    reach.router,
]
