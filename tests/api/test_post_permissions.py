"""The permission matrix of the posts' workflow: every endpoint × every role × own or other
authority, as one table. Each row runs on a fresh post in the state the endpoint needs."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.authorities.models import Role
from core.posts.models import PostStatus
from core.users.models import User
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_member,
    make_pillar,
    make_post,
)

ROLES = ("admin", "editor", "approver", "contributor", "own_contributor", "outsider")


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # {slug}, {id}
    state: PostStatus
    expected: tuple[int, int, int, int, int, int]  # in the order of ROLES
    body: dict[str, object] | None = None


DECISION = {"comment": "Voir avec le service."}
MATRIX = [
    # expected: admin, editor, approver, contributor, own_contributor, outsider
    Row(
        "GET", "/api/v1/authorities/{slug}/posts", PostStatus.draft, (200, 200, 200, 200, 200, 404)
    ),
    Row(
        "POST",
        "/api/v1/authorities/{slug}/posts",
        PostStatus.draft,
        (201, 201, 403, 201, 201, 404),
        {"text": "Nouvelle publication"},
    ),
    Row("GET", "/api/v1/posts/{id}", PostStatus.draft, (200, 200, 200, 404, 200, 404)),
    Row(
        "PATCH",
        "/api/v1/posts/{id}",
        PostStatus.draft,
        (200, 200, 403, 404, 200, 404),
        {"text": "Texte revu"},
    ),
    Row("DELETE", "/api/v1/posts/{id}", PostStatus.draft, (204, 204, 403, 404, 204, 404)),
    Row("POST", "/api/v1/posts/{id}/submit", PostStatus.draft, (200, 200, 403, 404, 200, 404)),
    Row("POST", "/api/v1/posts/{id}/approve", PostStatus.in_review, (403, 403, 200, 404, 403, 404)),
    Row(
        "POST",
        "/api/v1/posts/{id}/request-changes",
        PostStatus.in_review,
        (403, 403, 200, 404, 403, 404),
        DECISION,
    ),
    Row(
        "POST",
        "/api/v1/posts/{id}/reject",
        PostStatus.in_review,
        (403, 403, 200, 404, 403, 404),
        DECISION,
    ),
    Row("POST", "/api/v1/posts/{id}/cancel", PostStatus.draft, (200, 200, 403, 404, 200, 404)),
    Row(
        "POST",
        "/api/v1/posts/{id}/publish-urgent",
        PostStatus.draft,
        (200, 200, 403, 404, 403, 404),
    ),
    Row("GET", "/api/v1/posts/{id}/comments", PostStatus.draft, (200, 200, 200, 404, 200, 404)),
    Row(
        "POST",
        "/api/v1/posts/{id}/comments",
        PostStatus.draft,
        (201, 201, 201, 404, 201, 404),
        {"comment": "Bien vu."},
    ),
    Row("GET", "/api/v1/posts/{id}/history", PostStatus.draft, (200, 200, 200, 404, 200, 404)),
]


def test_permission_matrix(client: TestClient, session: Session) -> None:
    authority = make_authority(session, slug="aurillac")
    other = make_authority(session, slug="mauriac")
    users: dict[str, User] = {
        "admin": make_member(session, authority, Role.admin),
        "editor": make_member(session, authority, Role.editor),
        "approver": make_member(session, authority, Role.approver),
        "contributor": make_member(session, authority, Role.contributor),
        "own_contributor": make_member(session, authority, Role.contributor),
        # Holds every role, but in another authority.
        "outsider": make_member(
            session, other, Role.admin, Role.editor, Role.approver, Role.contributor
        ),
    }
    headers = {role: bearer(session, user) for role, user in users.items()}
    account = make_account(session, authority)
    alerts = make_pillar(session, authority, urgent=True, target_share=0)
    failures = []
    for row in MATRIX:
        for role, expected in zip(ROLES, row.expected, strict=True):
            # Deleted posts' ids come back on SQLite: forget the objects of the last round.
            session.expunge_all()
            post = make_post(
                session,
                authority,
                targets=[account],
                status=row.state,
                author=users["own_contributor"],
                pillar_id=alerts.id,
            )
            url = row.path.format(slug=authority.slug, id=post.id)
            kwargs = {"json": row.body} if row.body is not None else {}
            response = client.request(row.method, url, headers=headers[role], **kwargs)
            if response.status_code != expected:
                failures.append((row.method, row.path, role, expected, response.status_code))
    assert failures == []
