"""Media library: uploaded images and branded visuals, their renditions per network, and the
authority's logo.

Revision ID: 0700
Revises: 0002
Create Date: 2026-11-21 16:37:42.408482+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0700"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mediaasset",
        sa.Column("alt_text", sa.String(length=1000), nullable=False),
        sa.Column("focal_x", sa.Float(), nullable=False),
        sa.Column("focal_y", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_mediaasset_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user.id"],
            name=op.f("fk_mediaasset_uploaded_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediaasset")),
    )
    op.create_index(op.f("ix_mediaasset_authority_id"), "mediaasset", ["authority_id"])
    op.create_index(op.f("ix_mediaasset_sha256"), "mediaasset", ["sha256"])
    op.create_index(op.f("ix_mediaasset_uploaded_by_id"), "mediaasset", ["uploaded_by_id"])

    op.create_table(
        "mediarendition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("focal_x", sa.Float(), nullable=False),
        sa.Column("focal_y", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_mediarendition_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["mediaasset.id"],
            name=op.f("fk_mediarendition_media_id_mediaasset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediarendition")),
        sa.UniqueConstraint("media_id", "network", name=op.f("uq_mediarendition_media_id_network")),
    )
    op.create_index(op.f("ix_mediarendition_authority_id"), "mediarendition", ["authority_id"])
    op.create_index(op.f("ix_mediarendition_media_id"), "mediarendition", ["media_id"])

    # A plain column, added in place on every backend: a foreign key would make SQLite
    # recreate `authority`, and dropping the old table cascades to every member and account.
    op.add_column("authority", sa.Column("logo_media_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+), for the same reason.
    op.drop_column("authority", "logo_media_id")

    op.drop_index(op.f("ix_mediarendition_media_id"), table_name="mediarendition")
    op.drop_index(op.f("ix_mediarendition_authority_id"), table_name="mediarendition")
    op.drop_table("mediarendition")
    op.drop_index(op.f("ix_mediaasset_uploaded_by_id"), table_name="mediaasset")
    op.drop_index(op.f("ix_mediaasset_sha256"), table_name="mediaasset")
    op.drop_index(op.f("ix_mediaasset_authority_id"), table_name="mediaasset")
    op.drop_table("mediaasset")
