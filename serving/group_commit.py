"""Group commit: the rows of concurrent scores written and committed in one transaction.

Why. A score's writes (its application, the score, its audit entry, its idempotency
record) must be committed before it is answered, and on SQLite every writing transaction
holds the file's write lock (on PostgreSQL the audit chain's advisory lock) from its first
statement to its commit. Measured under wrk (8 connections, one worker, SQLite), that lock
was held 3.1 ms a score on average (the commit's fsync 0.8 ms of it, the rest statements
waiting for the GIL behind the threads that were scoring), which capped one worker at about
320 scores a second while the machine had a core to spare; requests queued 17 ms for it.
Here a request hands its rows to the committer; the first request thread to find no
transaction of the committer running takes every write waiting, inserts each table's rows
in one statement, appends the audit entries in one (`serving.audit.append_many`) and
commits once, and the others wait for that commit (`GroupCommitter`).

What does not change. A request answers only after the transaction holding its rows has
committed (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit` on), so an answered
score's audit entry is on disk as before. The audit entries of a batch are chained in the
order their requests reached the committer, under the same lock as every other append, so
the chain never forks. Other writers (consents, batches, the console) keep their own
transactions; the committer's takes the same locks as theirs.

Failure. When a statement of a batch fails, the batch is rolled back and each write is
tried again in a transaction of its own, so one request's conflict (an `Idempotency-Key`
another request committed first: IntegrityError) fails that request alone; its
exception is raised in the request's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql.dml import Insert

from serving.audit import AuditEvent, append_many

MAX_BATCH = 64  # writes in one transaction at most: a bound on one commit's wait


@dataclass(frozen=True)
class Write:
    """Rows to insert, in order (a table's rows before those that refer to them), and the
    audit events to append after them, all committed together or not at all."""

    inserts: Sequence[tuple[Insert, dict[str, Any]]]
    audit: Sequence[AuditEvent] = ()


@dataclass
class _Job:
    write: Write
    done: Future[None] = field(default_factory=Future)


class GroupCommitter:
    """Commits the writes handed to `commit` together (see the module), leader and
    followers: the request thread that finds no transaction of the committer running
    writes every write waiting, its own among them; the others wait for it, and one of
    them leads the next transaction if its write is not in this one. A lone request so
    writes in its own thread, with no hand-over to another (a thread of the committer's
    own made a lone score wait twice for the GIL)."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._pending: list[_Job] = []
        self._guard = threading.Lock()  # `_pending` and `_closed`
        self._leader = threading.Lock()  # held by the thread running the transaction
        self._closed = False

    def commit(self, write: Write) -> None:
        """Write and commit `write`, returning once it is committed; raises what writing
        it raised (for example IntegrityError), and then nothing of it is stored."""
        job = _Job(write)
        with self._guard:
            if self._closed:
                raise RuntimeError("the group committer is closed")
            self._pending.append(job)
        while not job.done.done():
            with self._leader:
                if job.done.done():  # the transaction just led wrote it
                    break
                with self._guard:
                    batch = self._pending[: self.max_batch]
                    del self._pending[: self.max_batch]
                self._lead(batch)
        job.done.result()

    def close(self) -> None:
        """Refuse later writes; those already handed over are committed by their callers."""
        with self._guard:
            self._closed = True

    def _lead(self, batch: list[_Job]) -> None:
        try:
            self._commit_batch(batch)
        except BaseException as exc:  # never leave a follower waiting on its write
            for job in batch:
                if not job.done.done():
                    job.done.set_exception(exc)
            raise

    def _commit_batch(self, batch: list[_Job]) -> None:
        try:
            self._write_together([job.write for job in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            for job in batch:  # each alone: only the write that fails fails
                try:
                    self._write_together([job.write])
                except Exception as alone:
                    job.done.set_exception(alone)
                else:
                    job.done.set_result(None)
        else:
            for job in batch:
                job.done.set_result(None)

    def _write_together(self, writes: Sequence[Write]) -> None:
        """One transaction: each statement once with the rows of every write (in the
        order the statements first appear), then the audit entries, then the commit."""
        rows: dict[Insert, list[dict[str, Any]]] = {}
        for write in writes:
            for statement, values in write.inserts:
                rows.setdefault(statement, []).append(values)
        events = [event for write in writes for event in write.audit]
        with self.engine.begin() as connection:
            for statement, values_list in rows.items():
                connection.execute(statement, values_list)
            append_many(connection, events)
