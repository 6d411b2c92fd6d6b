"""Where the store lives and how to reach it: the URL, the engine, the migrations.

SQLite (a file, the default) and PostgreSQL (by `AMANAH_DATABASE_URL`) behave the same to
callers. On SQLite every transaction begins `IMMEDIATE`, taking the write lock at its
first statement, so a second writer waits (up to `SQLITE_BUSY_TIMEOUT_MS`) instead of
failing half-way when it upgrades a read lock; that is what serialises audit appends there
(`serving.audit`). Migrations are Alembic's, configured in code: no alembic.ini.

Throughput on SQLite (`POST /v1/scores`, wrk, 8 connections, one worker, same sitting):
66 requests/s and p99 1.7 s before, 114 to 155 requests/s and p99 about 0.1 s after three
changes here. A transaction that only reads can begin DEFERRED (`reads_only`), so the
checks of a request take no write lock. The threads of a process queue on a lock of their
own for the file instead of polling in SQLite's busy handler. And statements of hot paths
are built once (see `serving.store.repo`). `synchronous` stays FULL (see
`_sqlite_immediate`). Processes queue on a file lock beside the database
(`_WriterQueue`): with two workers and the group committer (`serving.group_commit`), p99
went from 1.3-1.5 s to 27-37 ms and throughput from 337-358 to 383-523 requests/s
(same sitting, a machine shared with other work).

The pool (both databases, a file for SQLite) keeps `POOL_SIZE` connections and opens up to
`POOL_OVERFLOW` more on demand, one for each of the app's 40 thread-pool threads at most:
a request holds one while it runs a transaction, the group committer one more. With
SQLAlchemy's default (5 kept, 10 more) eight concurrent scores opened and closed a
connection for most requests past the fifth (4% of a score's samples on SQLite under
py-spy; on PostgreSQL each is a new server process). On PostgreSQL a pooled connection is
tested only after sitting idle (`_ping_when_idle`), not at every checkout.
`synchronous_commit` stays on, so an answered score's audit entry is on disk.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not on POSIX: the process's lock alone queues its writers
    fcntl = None  # type: ignore[assignment]

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from features.settings import Settings, get_settings, project_root

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_FILE = Path("data") / "amanah.db"  # under the Amanah project's folder
SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE, POOL_OVERFLOW = 16, 24  # kept, opened on demand: 40, the API's thread pool


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
            lock = _writer_lock(parsed.database)
            if lock is not None:  # a file (in memory, SQLAlchemy's pool is another kind)
                connect_args = {"factory": _QueuedConnection, **kwargs.pop("connect_args", {})}
                kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
                kwargs["connect_args"] = connect_args
            engine = create_engine(parsed, **kwargs)
            _sqlite_immediate(engine, lock)
        else:
            kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
            engine = create_engine(parsed, **kwargs)
            _ping_when_idle(engine)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StoreError(
            f"not a database URL SQLAlchemy can use: {_redacted(url)} ({exc})"
        ) from exc
    return engine


PING_AFTER_IDLE_SECONDS = 1.0  # a pooled connection idle this long is tested before use
_IDLE_SINCE = "amanah_idle_since"  # in a pooled connection's `info`


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use when it sat idle `PING_AFTER_IDLE_SECONDS` or
    more; a dead one (the server restarted, a proxy dropped it) is replaced, and the request
    never sees it. SQLAlchemy's `pool_pre_ping` tests every checkout: a round trip, two a
    score, 0.4-0.8 ms of a score's median at 200 requests/s (two workers, PostgreSQL, open
    loop, same sitting). A connection used within the last second is trusted; if its server
    went away meanwhile, the statement fails, SQLAlchemy drops every connection of the pool
    opened before, and the next requests connect afresh."""

    @event.listens_for(engine, "checkin")
    def _idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            raise DisconnectionError("a pooled connection went away while idle")


# One writer queue per SQLite file and process, shared by the process's engines on that file.
_WRITER_LOCKS: dict[str, _WriterQueue] = {}
_WRITER_LOCKS_GUARD = threading.Lock()
LOCK_FILE_SUFFIX = "-writer.lock"  # beside the database, as SQLite's own -wal and -shm


class _WriterQueue:
    """The queue of a SQLite file's writers: first a lock of the process's threads, then an
    advisory lock (`flock`) on a file beside the database that the other processes
    (uvicorn workers, the command line) take too. A waiting process sleeps in the kernel
    and is woken when the holder lets go, instead of polling in SQLite's busy handler (1
    ms, then up to 100 ms a try): with two workers that handler made a score's p99 0.35 s.
    SQLite's own lock still decides; this only orders who asks for it. Where the file
    lock cannot be taken (no `fcntl`, a folder that cannot be written) the process's lock
    alone queues its threads, as before. A process holding the file lock holds SQLite's
    write lock too, so a writer never waits on one without the other being taken."""

    def __init__(self, database: Path) -> None:
        self._threads = threading.Lock()
        self._path = database.with_name(database.name + LOCK_FILE_SUFFIX)
        self._fd: int | None = None
        self._pid = 0  # the process that opened `_fd`: a forked child opens its own
        self._file_held = False

    def acquire(self, timeout: float) -> bool:
        if not self._threads.acquire(timeout=timeout):
            return False
        self._file_held = _flock(self._file(), exclusive=True)
        return True

    def release(self) -> None:
        try:
            if self._file_held and self._fd is not None:
                self._file_held = False
                _flock(self._fd, exclusive=False)
        finally:
            self._threads.release()

    def locked(self) -> bool:
        return self._threads.locked()

    def _file(self) -> int | None:
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None
            self._pid = os.getpid()
        return self._fd


def _flock(fd: int | None, *, exclusive: bool) -> bool:
    """Take (`exclusive`) or let go of the advisory lock of `fd`; whether it is held."""
    if fd is None or fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_UN)  # waits, GIL released
    except OSError:
        return False
    return exclusive


def _writer_lock(database: str | None) -> _WriterQueue | None:
    """The process's writer queue of the SQLite file `database`; None in memory."""
    if database in (None, "", ":memory:") or str(database).startswith("file:"):
        return None
    key = str(Path(str(database)).resolve())
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(key, _WriterQueue(Path(key)))


class _QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose transactions queue on the writer queue of the file.

    Every transaction begins IMMEDIATE, so it takes the file's write lock; a thread that
    finds it taken waits in SQLite's busy handler, which sleeps and retries (1 ms, then
    up to 100 ms a try) and wakes late or loses the race again: with 8 concurrent requests
    on one worker the slowest took over 3 s (wrk p99 3.2 s). Writers wait in the queue
    instead (`_WriterQueue`), each woken as the holder commits or rolls back. It is a
    queue in front of SQLite's lock, never in place of it: a writer that does not queue
    still meets SQLite's lock (and its busy timeout), and a wait on the process's lock
    that outlasts the busy timeout goes on to SQLite's own."""

    writer_lock: _WriterQueue | None = None
    _holding = False

    def queue_for_writer(self) -> None:
        lock = self.writer_lock
        if lock is not None and not self._holding:
            self._holding = lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)

    def _let_go(self) -> None:
        if self._holding:
            self._holding = False
            assert self.writer_lock is not None
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()


def _sqlite_immediate(engine: Engine, lock: _WriterQueue | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # the sqlite3 module's own implicit BEGIN is switched off; "begin" below emits ours
        dbapi_connection.isolation_level = None
        if isinstance(dbapi_connection, _QueuedConnection):
            dbapi_connection.writer_lock = lock
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL (SQLite's default, said here on purpose): a commit is on disk before the
        # score is answered, power loss included. NORMAL under WAL would survive a crash
        # of the process but not of the machine, and saves about 0.35 ms a commit here
        # (median 0.08 ms against 0.43 ms; FULL's p90 up to 3 ms): an answered score whose
        # audit entry a power cut took is worth more than that to a credit audit trail.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READS_ONLY):
            connection.exec_driver_sql("BEGIN")  # DEFERRED: no write lock (see reads_only)
            return
        raw = connection.connection.dbapi_connection
        if isinstance(raw, _QueuedConnection):
            raw.queue_for_writer()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if isinstance(raw, _QueuedConnection):
                raw._let_go()
            raise


READS_ONLY = "amanah_reads_only"  # an execution option: see `reads_only`


def reads_only(session: Session) -> bool:
    """Begin the session's next transaction as one that only reads: on SQLite a plain
    (DEFERRED) BEGIN, which takes neither the file's write lock nor the process's writer
    lock (under WAL a reader neither waits for the writer nor blocks it); elsewhere no
    change. Nothing may be written in that transaction (on SQLite the write would fail
    with SQLITE_BUSY_SNAPSHOT whenever another connection wrote since its first read):
    commit it, then write in the next. No effect inside a transaction already begun.
    Returns whether a DEFERRED transaction was begun (SQLite, none open).

    Why: the scoring path's checks (key, consent, idempotency record) took the write lock
    for reads, and a thread holding it waits for the GIL at each statement while other
    threads score, so the lock was held for milliseconds and the others queued behind it."""
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return False
    session.connection(execution_options={READS_ONLY: True})
    return True


def table_of(entity: type[Any]) -> Table:
    """The Core table of a mapped class, for Core statements (`insert(table_of(Score))`):
    a row inserted so skips the ORM's unit of work (object state, flush, identity map)."""
    table = entity.__table__
    assert isinstance(table, Table), f"{entity.__name__} is not mapped to a table"
    return table


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
