"""A lease on an account's token renewal, so that two workers never renew the same token at once
(networks that rotate refresh tokens refuse the second use of one).

Revision ID: 0650
Revises: 0620
Create Date: 2026-11-22 00:33:51+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0650"
down_revision: str | Sequence[str] | None = "0620"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refreshing_until", core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("refreshing_until")
