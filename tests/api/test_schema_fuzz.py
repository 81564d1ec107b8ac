"""schemathesis against /openapi.json: every operation of the API, authenticated as a member
holding every role, with generated input. No answer may be a 5xx, and every answer must match
the schema (status, content type, body). SQLite only, a few examples per operation, to stay
near a minute."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from beffroi.app import create_app
from core import migrations
from core.authorities.models import Membership, Role
from core.db import make_engine
from core.posts.models import PostStatus
from core.users import service as users
from core.users.models import TokenKind
from tests.conftest import make_settings
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_editorial,
    make_member,
    make_post,
)

EXAMPLES = 6
PROTECTED = {"token_id", "member_id"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Fuzzed:
    schema: Any
    headers: dict[str, str]
    slug: str
    ids: dict[str, list[int]]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "beffroi.db"
    url = f"sqlite:///{path}"
    migrations.upgrade(url)
    engine: Engine = make_engine(url)
    settings = make_settings(url, data_dir=path.parent / "data", sandbox=False)
    with Session(engine, expire_on_commit=False) as session:
        authority = make_authority(session, slug="ville")
        user = make_member(session, authority, Role.admin, Role.editor, Role.approver)
        headers = bearer(session, user)
        # Generated ids would soon revoke the caller's own token or change their roles: those
        # parameters always name a spare person's.
        spare = make_member(session, authority, Role.editor)
        _, spare_token = users.issue_token(
            session, user=spare, kind=TokenKind.api, ttl=timedelta(days=1)
        )
        session.commit()
        spare_membership = session.exec(
            select(Membership).where(Membership.user_id == spare.id)
        ).one()
        account = make_account(session, authority)
        ids: dict[str, list[int]] = {
            "account_id": [account.id],  # type: ignore[list-item]
            "token_id": [spare_token.id],  # type: ignore[list-item]
            "member_id": [spare_membership.id],  # type: ignore[list-item]
        }
        for name, value in make_editorial(
            session, authority, targets=[account], author=user
        ).items():
            ids.setdefault(name, []).append(value)
        for status in (PostStatus.in_review, PostStatus.approved):
            post = make_post(
                session,
                authority,
                targets=[account],
                status=status,
                author=user,
                scheduled_at=datetime(2031, 1, 1, tzinfo=UTC),
            )
            ids["post_id"].append(post.id)  # type: ignore[arg-type]
    app = create_app(settings, engine=engine, run_mailer=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield Fuzzed(schema=schema, headers=headers, slug="ville", ids=ids)
    engine.dispose()


def test_every_operation_answers_within_its_schema(fuzzed: Fuzzed) -> None:
    operations = [op.ok() for op in fuzzed.schema.get_all_operations()]
    assert len(operations) > 40
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for operation in operations:
        _fuzz(fuzzed, operation, failures, statuses)
    assert failures == [], "\n\n".join(failures)
    print(sorted(statuses.items()))  # noqa: T201
    # The run reached the code behind the doors, not only the 404s of unknown ids.
    assert statuses.get(200, 0) > len(operations) // 2


def _fuzz(fuzzed: Fuzzed, operation: Any, failures: list[str], statuses: dict[int, int]) -> None:
    strategy = st.tuples(operation.as_strategy(), st.booleans(), st.data())

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(drawn=strategy)
    def run(drawn: tuple[Any, bool, Any]) -> None:
        case, known, data = drawn
        for name in list(case.path_parameters or {}):
            if name == "slug":
                case.path_parameters[name] = fuzzed.slug
            elif name in PROTECTED or (known and name in fuzzed.ids):
                case.path_parameters[name] = data.draw(st.sampled_from(fuzzed.ids[name]))
        try:
            response = case.call_and_validate(headers=fuzzed.headers, checks=CHECKS)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        except BaseException as error:  # schemathesis raises exception groups
            failures.append(f"{operation.label}: {str(error)[:400]}")
            raise

    try:
        run()
    except BaseException as error:  # recorded above, or a failure to generate
        if not failures or not failures[-1].startswith(operation.label):
            failures.append(f"{operation.label}: {type(error).__name__}: {str(error)[:400]}")
