"""Alembic environment: the URL comes from the config (set by code) or BEFFROI_DATABASE_URL."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

import core.models  # noqa: F401 - registers every table on the metadata
from core.config import Settings
from core.db import make_engine, metadata

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    # Only the database URL is needed here: do not require the secrets of a running server.
    return Settings(env="development").database_url


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    if type_ == "type" and type(obj).__name__ == "AutoString":
        # SQLModel's string type is a plain VARCHAR: keep migrations free of SQLModel internals.
        length = getattr(obj, "length", None)
        return f"sa.String(length={length})" if length else "sa.String()"
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        autogen_context.imports.add("import core.db")  # type: ignore[attr-defined]
        return "core.db.UTCDateTime()"
    return False


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch migrations rebuild a SQLite table by dropping it; with foreign keys on,
                # that drop would cascade and delete the rows of every table pointing at it.
                # The pragma only works outside a transaction, hence the raw connection.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            _run(connection)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.commit()
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Beffroi's migrations run online only: use `beffroi db upgrade`.")
run_migrations()
