"""The group committer (`serving.group_commit`) on SQLite and a real PostgreSQL: writes
queued while a transaction runs are committed together in the next one, a lone write is
written by its own thread, a write that fails fails alone and stores nothing, the audit
chain follows the order writes arrived and stays one chain beside a second committer on its
own engine (another worker), and a closed committer refuses new writes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from serving.audit import AuditEvent, verify
from serving.group_commit import GroupCommitter, Write
from serving.store import make_engine, sessions, upgrade
from serving.store.database import table_of
from serving.store.tables import AuditEntry, Partner

AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
_INSERT_PARTNER = insert(table_of(Partner))


def _write(i: int, partner_id: str | None = None) -> Write:
    row = {"id": partner_id or f"ptn_{i}", "name": f"Mitra {i}", "created_at": AT}
    return Write([(_INSERT_PARTNER, row)], [AuditEvent(actor="t", action="x", subject=f"s{i}")])


def _commits(engine: Engine) -> list[int]:
    """A list that grows by one at each commit on `engine`."""
    seen: list[int] = []

    @event.listens_for(engine, "commit")
    def _count(_connection: Any) -> None:
        seen.append(1)

    return seen


def _in_threads(committer: GroupCommitter, writes: list[Write]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None] * len(writes)

    def run(k: int) -> None:
        try:
            committer.commit(writes[k])
        except BaseException as exc:  # reported by the test
            outcomes[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(writes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _held_first_transaction(engine: Engine) -> tuple[threading.Event, threading.Event]:
    """(entered, release): the committer's first transaction waits at its first statement
    until `release` is set, so writes handed over meanwhile queue behind it."""
    entered, release = threading.Event(), threading.Event()

    @event.listens_for(engine, "before_execute")
    def _hold(*_args: Any) -> None:
        if not entered.is_set():
            entered.set()
            release.wait(timeout=30)

    return entered, release


def _subjects(engine: Engine) -> list[str]:
    with sessions(engine)() as session:
        return list(session.scalars(select(AuditEntry.subject).order_by(AuditEntry.seq)))


def test_writes_queued_meanwhile_commit_together_in_arrival_order(engine: Engine) -> None:
    committer = GroupCommitter(engine)
    entered, release = _held_first_transaction(engine)
    commits = _commits(engine)
    first = threading.Thread(target=committer.commit, args=(_write(0),))
    first.start()
    assert entered.wait(timeout=30)
    queued = [threading.Thread(target=committer.commit, args=(_write(i),)) for i in (1, 2, 3)]
    for thread in queued:  # one after the other, so the queue's order is known
        thread.start()
        while len(committer._pending) < queued.index(thread) + 1:
            time.sleep(0.001)
    release.set()
    for thread in [first, *queued]:
        thread.join(timeout=30)
    committer.close()
    assert len(commits) == 2  # the first write alone, then the three queued behind it
    assert _subjects(engine) == ["s0", "s1", "s2", "s3"]
    with sessions(engine)() as session:
        assert verify(session).intact


def test_a_failing_write_fails_alone_and_stores_nothing(engine: Engine) -> None:
    committer = GroupCommitter(engine)
    committer.commit(_write(0))
    entered, release = _held_first_transaction(engine)
    blocker = threading.Thread(target=committer.commit, args=(_write(1),))
    blocker.start()
    assert entered.wait(timeout=30)
    writes = [_write(2), _write(3, partner_id="ptn_0"), _write(4)]  # ptn_0 exists already
    outcomes: list[BaseException | None] = []
    runner = threading.Thread(target=lambda: outcomes.extend(_in_threads(committer, writes)))
    runner.start()
    while len(committer._pending) < len(writes):
        time.sleep(0.001)
    release.set()
    blocker.join(timeout=30)
    runner.join(timeout=30)
    committer.close()
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], IntegrityError)
    assert sorted(_subjects(engine)) == ["s0", "s1", "s2", "s4"]  # s3's entry went with it
    with sessions(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Partner)) == 4
        assert verify(session).intact


def test_two_committers_on_their_own_engines_make_one_chain(store_url: str) -> None:
    """As two uvicorn workers would: each its own engine and committer, 4 threads each."""
    upgrade(store_url)
    engines = [make_engine(store_url) for _ in range(2)]
    committers = [GroupCommitter(e) for e in engines]
    outcomes: list[BaseException | None] = []

    def worker(w: int) -> None:
        writes = [_write(100 * w + i) for i in range(40)]
        outcomes.extend(_in_threads(committers[w], writes))

    workers = [threading.Thread(target=worker, args=(w,)) for w in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    for committer in committers:
        committer.close()
    assert outcomes == [None] * 80
    with sessions(engines[0])() as session:
        result = verify(session)
    assert result.intact and result.entries == 80
    for made in engines:
        made.dispose()


def test_a_lone_write_is_written_by_its_own_thread(engine: Engine) -> None:
    """No hand-over when nothing else waits: the caller's thread runs the transaction."""
    committer = GroupCommitter(engine)
    writers: list[int] = []

    @event.listens_for(engine, "commit")
    def _who(_connection: Any) -> None:
        writers.append(threading.get_ident())

    committer.commit(_write(0))
    assert writers == [threading.get_ident()]


def test_a_closed_committer_refuses_new_writes(engine: Engine) -> None:
    committer = GroupCommitter(engine)
    committer.commit(_write(0))
    committer.close()
    with pytest.raises(RuntimeError, match="closed"):
        committer.commit(_write(1))
    assert _subjects(engine) == ["s0"]
