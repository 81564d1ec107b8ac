"""Every router of the JSON API; the composition root includes them and the tests walk them."""

from fastapi import APIRouter

from api.routers import (
    accounts,
    auth,
    authorities,
    calendar,
    checks,
    health,
    media,
    members,
)

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    authorities.router,
    members.router,
    media.router,
    accounts.router,
    checks.router,
    calendar.router,
]
