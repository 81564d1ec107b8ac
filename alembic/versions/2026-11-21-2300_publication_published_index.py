"""Index of published publications by their publication time (the reach collection reads the
publications whose next metric step has come).

Revision ID: 0610
Revises: 0600
Create Date: 2026-11-21 23:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0610"
down_revision: str | Sequence[str] | None = "0600"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publication_status_published", ["status", "published_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_status_published")
