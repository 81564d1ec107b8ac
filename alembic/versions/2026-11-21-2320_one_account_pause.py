"""One pause per rate-limited account for publishing and metric collection alike: the
collection's own table goes (its pauses are short-lived; the engine's `accountpause` takes over).

Revision ID: 0620
Revises: 0610
Create Date: 2026-11-21 23:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0620"
down_revision: str | Sequence[str] | None = "0610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collectionpause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collectionpause_authority_id"))
    op.drop_table("collectionpause")


def downgrade() -> None:
    op.create_table(
        "collectionpause",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("until", core.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_collectionpause_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_collectionpause_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_collectionpause")),
    )
    with op.batch_alter_table("collectionpause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collectionpause_authority_id"), ["authority_id"], unique=False
        )
