"""Indexes that let the engine's claim stop at its limit: the scheduled publications in the
order they go out (status, due time, id), and each account's publications by status (account,
status, due time, id). They replace (status, due time), a prefix of the first, and (account, due
time), a prefix of the calendar's (account, due time, status, authority).

Revision ID: 0660
Revises: 0650
Create Date: 2026-11-22 05:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0660"
down_revision: str | Sequence[str] | None = "0650"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_status_due")
        batch_op.drop_index("ix_publication_account_due")
        batch_op.create_index(
            "ix_publication_status_due_id", ["status", "due_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_publication_account_status_due",
            ["account_id", "status", "due_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_account_status_due")
        batch_op.drop_index("ix_publication_status_due_id")
        batch_op.create_index("ix_publication_account_due", ["account_id", "due_at"], unique=False)
        batch_op.create_index("ix_publication_status_due", ["status", "due_at"], unique=False)
