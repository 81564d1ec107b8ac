"""Reach: metric snapshots per publication and collection step, follower counts per account and
day, a copy of each publication's latest snapshot for the reports, and the pauses of the collection while a network's rate limit runs (core.reach).

Revision ID: 0900
Revises: 0400
Create Date: 2026-11-21 21:38:57.287101+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0900"
down_revision: str | Sequence[str] | None = "0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accountsnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("followers", sa.Integer(), nullable=False),
        sa.Column("collected_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_accountsnapshot_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_accountsnapshot_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accountsnapshot")),
        sa.UniqueConstraint("account_id", "day", name=op.f("uq_accountsnapshot_account_id_day")),
    )
    with op.batch_alter_table("accountsnapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accountsnapshot_authority_id"), ["authority_id"], unique=False
        )

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

    op.create_table(
        "latestsnapshot",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("collected_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("reposts", sa.Integer(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_latestsnapshot_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_latestsnapshot_publication_id_publication"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("publication_id", name=op.f("pk_latestsnapshot")),
    )
    with op.batch_alter_table("latestsnapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_latestsnapshot_authority_id"), ["authority_id"], unique=False
        )

    op.create_table(
        "metricsnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("collected_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("reposts", sa.Integer(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_metricsnapshot_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_metricsnapshot_publication_id_publication"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metricsnapshot")),
        sa.UniqueConstraint(
            "publication_id", "step", name=op.f("uq_metricsnapshot_publication_id_step")
        ),
    )
    with op.batch_alter_table("metricsnapshot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metricsnapshot_authority_publication",
            ["authority_id", "publication_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("metricsnapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_metricsnapshot_authority_publication")

    op.drop_table("metricsnapshot")
    with op.batch_alter_table("latestsnapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_latestsnapshot_authority_id"))

    op.drop_table("latestsnapshot")
    with op.batch_alter_table("collectionpause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collectionpause_authority_id"))

    op.drop_table("collectionpause")
    with op.batch_alter_table("accountsnapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accountsnapshot_authority_id"))

    op.drop_table("accountsnapshot")
