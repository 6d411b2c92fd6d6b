"""Alembic's environment for the store: runs on the connection `serving.store.upgrade`
passes in `config.attributes["connection"]`, else on an engine for the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from serving.store.database import make_engine
from serving.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    # batch mode lets later migrations alter SQLite tables (it copies and renames them)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not configured"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the store's migrations run online only: use `amanah db upgrade`")
run_migrations_online()
