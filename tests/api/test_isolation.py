"""Tenant isolation: a member of authority A gets 404 for everything of authority B.

The routes are walked from the application itself, so a new endpoint is covered as soon as it
exists: its path parameters must have a factory below (or the test fails and says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.routers import ROUTERS
from core.authorities.models import Authority, Membership, Role
from core.config import Settings
from core.users import service as users
from core.users.models import TokenKind
from tests.factories import (
    PASSWORD,
    bearer,
    make_account,
    make_authority,
    make_editorial,
    make_media,
    make_member,
    make_slot,
)
from web.pages import router as pages_router
from web.posts import router as post_pages_router
from web.reach import router as reach_pages_router


@dataclass
class World:
    a: Authority
    b: Authority
    b_member_id: int
    b_token_id: int
    b_media_id: int
    b_account_id: int
    b_editorial: dict[str, int] | None = None
    b_slot_id: int = 0


# How to name a resource of authority B for each path parameter.
FACTORIES: dict[str, Callable[[World], object]] = {
    "slug": lambda w: w.b.slug,
    "member_id": lambda w: w.b_member_id,
    "token_id": lambda w: w.b_token_id,
    "media_id": lambda w: w.b_media_id,
    "network": lambda _: "instagram",
    "account_id": lambda w: w.b_account_id,
    "objective_id": lambda w: (w.b_editorial or {})["objective_id"],
    "audience_id": lambda w: (w.b_editorial or {})["audience_id"],
    "pillar_id": lambda w: (w.b_editorial or {})["pillar_id"],
    "campaign_id": lambda w: (w.b_editorial or {})["campaign_id"],
    "election_id": lambda w: (w.b_editorial or {})["election_id"],
    "post_id": lambda w: (w.b_editorial or {})["post_id"],
    "publication_id": lambda w: (w.b_editorial or {})["publication_id"],
    "slot_id": lambda w: w.b_slot_id,
}
# Routes whose parameters are not tenant data, and why.
EXEMPT = {
    "/invitation/{token}": "the signed token is the credential of someone not yet signed in",
}


def all_routes() -> list[tuple[str, str, bool]]:
    page_routers = [pages_router, post_pages_router, reach_pages_router]
    routers: list[APIRouter] = [*ROUTERS, *page_routers]
    found = []
    for router in routers:
        for route in router.routes:
            for method in sorted(route.methods - {"HEAD"}):  # type: ignore[attr-defined]
                found.append((method, route.path, router in page_routers))  # type: ignore[attr-defined]
    return found


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    a = make_authority(session, slug="ville-a")
    b = make_authority(session, slug="ville-b")
    b_admin = make_member(session, b, Role.admin, Role.approver, Role.editor)
    _, token = users.issue_token(session, user=b_admin, kind=TokenKind.api, ttl=timedelta(days=1))
    session.commit()
    membership = session.exec(select(Membership).where(Membership.user_id == b_admin.id)).one()
    b_media = make_media(session, settings, b, by=b_admin)
    account = make_account(session, b)
    editorial = make_editorial(session, b, targets=[account], author=b_admin)
    return World(
        a=a,
        b=b,
        b_member_id=membership.id,  # type: ignore[arg-type]
        b_token_id=token.id,  # type: ignore[arg-type]
        b_media_id=b_media.id,  # type: ignore[arg-type]
        b_account_id=account.id,  # type: ignore[arg-type]
        b_editorial=editorial,
        b_slot_id=make_slot(session, account).id,  # type: ignore[arg-type]
    )


def test_every_route_with_tenant_parameters_is_covered() -> None:
    for method, path, _ in all_routes():
        if path in EXEMPT:
            continue
        for name in re.findall(r"{(\w+)}", path):
            assert name in FACTORIES, f"{method} {path}: add a factory for {{{name}}} to this test"


@pytest.mark.parametrize("roles", [(Role.admin, Role.editor, Role.approver), (Role.contributor,)])
def test_member_of_a_gets_404_for_everything_of_b(
    client: TestClient, session: Session, world: World, roles: tuple[Role, ...]
) -> None:
    a_member = make_member(session, world.a, *roles, email=f"a-{roles[0]}@ville-a.example.org")
    api_headers = bearer(session, a_member)
    signed_in = client.post(
        "/login",
        data={
            "email": a_member.email,
            "password": PASSWORD,
            "csrf_token": _csrf(client),
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    csrf = _csrf(client)

    checked = 0
    for method, path, is_page in all_routes():
        names = re.findall(r"{(\w+)}", path)
        if not names or path in EXEMPT:
            continue
        variants = [{n: FACTORIES[n](world) for n in names}]
        if "slug" in names and len(names) > 1:
            # A's own slug with B's ids must not reach B's rows either.
            variants.append({**variants[0], "slug": world.a.slug})
        for values in variants:
            url = path.format(**values)
            if is_page:
                data = {"csrf_token": csrf} if method != "GET" else None
                response = client.request(method, url, data=data, follow_redirects=False)
            else:
                kwargs = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
                response = client.request(method, url, headers=api_headers, **kwargs)
            assert response.status_code == 404, (method, url, response.status_code, response.text)
            if not is_page:
                assert response.json()["error"] == "not_found"
            checked += 1
    assert checked >= 10

    listed = client.get("/api/v1/authorities", headers=api_headers).json()
    assert [a["slug"] for a in listed] == ["ville-a"]
    assert [
        m["slug"] for m in client.get("/api/v1/me", headers=api_headers).json()["memberships"]
    ] == ["ville-a"]


def _csrf(client: TestClient) -> str:
    page = client.get("/login")
    match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert match, page.text
    return match.group(1)
