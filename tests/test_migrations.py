"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and undo cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import core.models  # noqa: F401
from core import migrations
from core.db import make_engine, metadata
from tests.conftest import postgres_url, reset_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    url = postgres_url("_migrations")
    reset_postgres(url)
    return url


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_database: str) -> None:
    migrations.upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
        assert migrations.current_revision(engine) == migrations.head_revision()

        migrations.downgrade(empty_database, "base")
        tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        migrations.upgrade(empty_database)  # and back up again
        assert set(sa.inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def test_migration_files_are_named_by_date_and_slug() -> None:
    for path in (migrations.ALEMBIC_DIR / "versions").glob("*.py"):
        stem = path.stem
        date, _, slug = stem.partition("_")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{4}", date), stem
        assert re.fullmatch(r"[a-z0-9_]+", slug), stem


def test_upgrading_keeps_existing_rows(empty_database: str) -> None:
    """Batch migrations rebuild SQLite tables: rows pointing at them must survive."""
    migrations.upgrade(empty_database, "0002")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO authority (id, name, slug, kind, timezone, brand_primary, "
                    "brand_secondary, settings, created_at) VALUES (1, 'A', 'a', 'commune', "
                    "'Europe/Paris', '#000000', '#ffffff', '{}', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    'INSERT INTO "user" (id, email, name, is_superuser, is_active, locale, '
                    "created_at) VALUES (1, 'a@b.fr', 'A', false, true, 'fr', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO membership (authority_id, user_id, roles, created_at) "
                    "VALUES (1, 1, '[\"admin\"]', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO account (authority_id, network, name, handle, kind, created_at) "
                    "VALUES (1, 'x', 'Compte', '', 'institutional', CURRENT_TIMESTAMP)"
                )
            )
        migrations.upgrade(empty_database)
        with engine.connect() as connection:
            for table in ("authority", "membership", "account"):
                count = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                assert count == 1, table
    finally:
        engine.dispose()
