"""Each `amanah serve` worker on one CPU of its own, so its threads hand the GIL over on one core.

Why. A worker is one Python process whose threads (the event loop, the thread pool that
runs the sync dependencies and routes, the group committer's leader) take turns holding
the GIL; a score passes between them several times. Left to the scheduler, they run on
whichever CPU is free, and each hand-over wakes a thread on another core: on this 2-core
machine (a VM), with the other core idle, that made one worker's score cost 3.5 ms of CPU
instead of 2.4, and 289-305 requests/s instead of 412-413 (wrk, 8 connections, SQLite,
the same code in the same sitting; PostgreSQL 233 to 349, and open loop at 200/s p99 62 to
15 ms). A worker holds the GIL for nearly all its work, so it gains nothing from a second
core; the other cores stay for the other workers, the database and everything else.

How. `amanah serve` names a fresh random token in `SLOTS_ENV`; each worker, when its app
starts (`serving.app.create_app`'s lifespan), claims the first free slot (it binds the
abstract Unix socket named by the token and the slot: nothing on disk, and the kernel
frees it when the process ends, so a worker that uvicorn restarts takes the slot its
predecessor left) and pins every thread it has to the i-th CPU it may run on; threads
started later inherit that. With no slot free (more workers than CPUs), one CPU or no
`sched_setaffinity` (not Linux), the worker is left to the scheduler.
`amanah serve --no-pin` leaves every worker to it, for a machine where other busy programs
share the CPUs. An app created outside `amanah serve` (tests, an embedding) is never pinned.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

SLOTS_ENV = "_AMANAH_CPU_SLOTS"  # not an `AMANAH_` setting: `amanah serve` sets it for its workers
_held: list[socket.socket] = []  # the claimed slot, bound for the process's life


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on, in order (empty where the OS cannot say)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def claim_slot(token: str, slots: int) -> int | None:
    """The first of `slots` slots of `token` no other living process holds, now held by
    this one until it exits; None when every slot is held (or no abstract sockets)."""
    for slot in range(slots):
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0amanah-cpu-{token}-{slot}")  # Linux's abstract namespace
        except OSError:
            claim.close()
            continue
        _held.append(claim)
        return slot
    return None


def pin_process(cpu: int) -> None:
    """Pin every thread of this process to `cpu` (on Linux `sched_setaffinity` of a pid sets
    one thread's CPUs, so each task is set); threads started later inherit it."""
    for task in Path("/proc/self/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), {cpu})
        except (ProcessLookupError, ValueError):  # a thread that ended meanwhile
            continue


def pin_worker(environ: dict[str, str] | None = None) -> int | None:
    """Pin this worker to a CPU of its own when `amanah serve` asked for it (`SLOTS_ENV`);
    the CPU pinned to, or None when left to the scheduler."""
    token = (os.environ if environ is None else environ).get(SLOTS_ENV)
    cpus = allowed_cpus()
    if not token or len(cpus) < 2 or not hasattr(os, "sched_setaffinity"):
        return None
    slot = claim_slot(token, len(cpus))
    if slot is None:
        return None
    pin_process(cpus[slot])
    return cpus[slot]
