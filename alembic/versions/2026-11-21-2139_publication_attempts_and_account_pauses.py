"""Publishing engine: one row per attempt (idempotency key committed before the network call) and
the accounts a network rate-limited until a reset time.

Revision ID: 0600
Revises: 0900
Create Date: 2026-11-21 21:39:11.535806+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0600"
down_revision: str | Sequence[str] | None = "0900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accountpause",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("until_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_accountpause_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accountpause")),
    )
    op.create_table(
        "publicationattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=500), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("started_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_publicationattempt_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_publicationattempt_publication_id_publication"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publicationattempt")),
        sa.UniqueConstraint(
            "publication_id", "number", name=op.f("uq_publicationattempt_publication_id_number")
        ),
    )
    with op.batch_alter_table("publicationattempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publicationattempt_authority_id"), ["authority_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_publicationattempt_publication_id"), ["publication_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("publicationattempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publicationattempt_publication_id"))
        batch_op.drop_index(batch_op.f("ix_publicationattempt_authority_id"))

    op.drop_table("publicationattempt")
    op.drop_table("accountpause")
