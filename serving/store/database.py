"""Where the store lives and how to reach it: the URL, the engine, the migrations.

SQLite (a file, the default) and PostgreSQL (by `AMANAH_DATABASE_URL`) behave the same to
callers. On SQLite every transaction begins `IMMEDIATE`, taking the write lock at its
first statement, so a second writer waits (up to `SQLITE_BUSY_TIMEOUT_MS`) instead of
failing half-way when it upgrades a read lock; that is what serialises audit appends there
(`serving.audit`). Migrations are Alembic's, configured in code: no alembic.ini.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from features.settings import Settings, get_settings, project_root

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_FILE = Path("data") / "amanah.db"  # under the Amanah project's folder
SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreError(RuntimeError):
    """The store cannot be reached or its URL is not one SQLAlchemy understands; the
    message is one line a person can act on."""


def database_url(settings: Settings | None = None) -> str:
    """`AMANAH_DATABASE_URL`, else the SQLite file `data/amanah.db` of the Amanah project
    (of the current folder outside any project). Creates nothing."""
    chosen = (settings or get_settings()).database_url
    if chosen:
        return chosen
    root = project_root()
    return f"sqlite:///{(root if root is not None else Path.cwd().resolve()) / DEFAULT_FILE}"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`. SQLite: foreign keys enforced, WAL
    journal (readers do not block the writer), a busy timeout, and `BEGIN IMMEDIATE`.

    Raises StoreError for a URL SQLAlchemy cannot parse or has no driver for."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, **kwargs)
            _sqlite_immediate(engine)
        else:
            engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StoreError(
            f"not a database URL SQLAlchemy can use: {_redacted(url)} ({exc})"
        ) from exc
    return engine


def _sqlite_immediate(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # the sqlite3 module's own implicit BEGIN is switched off; "begin" below emits ours
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory of an engine; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Alembic's configuration built in code: the package's migrations, this URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read a "%" in a password as a reference
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision the package's migrations define."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "serving/store/migrations/versions holds no revision"
    return head


def upgrade(url: str) -> str:
    """Migrate the database at `url` to the newest revision; returns that revision.

    Raises StoreError when the database cannot be reached."""
    engine = make_engine(url)
    file = _sqlite_file(url)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        reached = _revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(unreachable(url, exc)) from exc
    finally:
        engine.dispose()
    assert reached is not None
    return reached


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at; None before the first upgrade (a SQLite
    file that does not exist is not created)."""
    engine = make_engine(url)
    file = _sqlite_file(url)
    if file is not None and not file.exists():
        return None
    try:
        return _revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(unreachable(url, exc)) from exc
    finally:
        engine.dispose()


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for other databases and in-memory ones."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def require_store(url: str) -> None:
    """Raises StoreError unless the database at `url` has been migrated to the newest
    revision (commands that only read never create a store)."""
    found = current_revision(url)
    if found is None:
        raise StoreError(f"no store at {_redacted(url)}: run `amanah db upgrade` first")
    if found != head_revision():
        raise StoreError(
            f"the store at {_redacted(url)} is at revision {found}, not {head_revision()}: "
            "run `amanah db upgrade`"
        )


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unparseable URL)"


def unreachable(url: str, exc: SQLAlchemyError) -> str:
    # the driver's message can span lines (psycopg adds hints); one line is shown
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return f"cannot reach the database {_redacted(url)}: {reason}"
