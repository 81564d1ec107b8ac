"""Connected accounts: encrypted credentials, instance, sandbox flag, remote id, token expiry,
health, daily quota, manual channel assignee; OAuth connections in progress.

Revision ID: 0500
Revises: 0700
Create Date: 2026-11-21 16:18:24.200996+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0500"
down_revision: str | Sequence[str] | None = "0700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauthstate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("instance_url", sa.String(length=500), nullable=True),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("secrets_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("completed_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_oauthstate_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_oauthstate_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_oauthstate_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauthstate")),
        sa.UniqueConstraint("nonce", name=op.f("uq_oauthstate_nonce")),
    )
    with op.batch_alter_table("oauthstate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauthstate_authority_id"), ["authority_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oauthstate_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("account", schema=None) as batch_op:
        # Existing rows (accounts added before this revision) take the defaults.
        batch_op.add_column(sa.Column("daily_quota", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("instance_url", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("sandbox", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("remote_id", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("credentials_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("token_expires_at", core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("health", sa.String(length=16), nullable=False, server_default="unknown")
        )
        batch_op.add_column(sa.Column("health_message", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("last_checked_at", core.db.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_account_assignee_id_user"),
            "user",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_account_assignee_id_user"), type_="foreignkey")
        batch_op.drop_column("last_checked_at")
        batch_op.drop_column("health_message")
        batch_op.drop_column("health")
        batch_op.drop_column("token_expires_at")
        batch_op.drop_column("credentials_encrypted")
        batch_op.drop_column("remote_id")
        batch_op.drop_column("sandbox")
        batch_op.drop_column("instance_url")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("daily_quota")

    with op.batch_alter_table("oauthstate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauthstate_user_id"))
        batch_op.drop_index(batch_op.f("ix_oauthstate_authority_id"))

    op.drop_table("oauthstate")
