"""Calendar and rules: posting slots per account, private calendar feed tokens, the Mastodon
instance's text limit per account, and the indexes the monthly calendar reads (see
bench/calendar_json.py): posts by (authority, time, status), publications by (account, due time,
status).

Revision ID: 0400
Revises: 0300
Create Date: 2026-11-21 20:15:51.953539+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0400"
down_revision: str | Sequence[str] | None = "0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendarfeedtoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_calendarfeedtoken_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_calendarfeedtoken_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendarfeedtoken")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendarfeedtoken_token_hash")),
    )
    with op.batch_alter_table("calendarfeedtoken", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendarfeedtoken_authority_id"), ["authority_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_calendarfeedtoken_user_id"), ["user_id"], unique=False)

    op.create_table(
        "postingslot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_postingslot_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_postingslot_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postingslot")),
        sa.UniqueConstraint(
            "account_id",
            "weekday",
            "local_time",
            name=op.f("uq_postingslot_account_id_weekday_local_time"),
        ),
    )
    with op.batch_alter_table("postingslot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postingslot_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_postingslot_authority_id"), ["authority_id"], unique=False
        )

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_characters", sa.Integer(), nullable=True))

    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.create_index(
            "ix_post_authority_scheduled_status",
            ["authority_id", "scheduled_at", "status"],
            unique=False,
        )
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publication_account_due_status",
            ["account_id", "due_at", "status", "authority_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_account_due_status")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_authority_scheduled_status")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("max_characters")

    with op.batch_alter_table("postingslot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postingslot_authority_id"))
        batch_op.drop_index(batch_op.f("ix_postingslot_account_id"))

    op.drop_table("postingslot")
    with op.batch_alter_table("calendarfeedtoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendarfeedtoken_user_id"))
        batch_op.drop_index(batch_op.f("ix_calendarfeedtoken_authority_id"))

    op.drop_table("calendarfeedtoken")
