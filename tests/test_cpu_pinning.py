"""Workers of `amanah serve` each on a CPU of their own (`serving.cpu_pinning`): slots are
claimed once each and freed with their process, every thread of a pinned worker is pinned,
and nothing is pinned outside `amanah serve`. The real two-worker server is checked in
tests/test_server_real.py."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from serving import cpu_pinning
from serving.cpu_pinning import SLOTS_ENV, allowed_cpus, claim_slot, pin_worker

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call"
)


def test_each_slot_is_claimed_once_and_a_freed_one_again() -> None:
    token, held_before = secrets.token_hex(8), len(cpu_pinning._held)
    try:
        assert [claim_slot(token, 2) for _ in range(3)] == [0, 1, None]
        cpu_pinning._held.pop().close()  # the process holding slot 1 ended
        assert claim_slot(token, 2) == 1
        assert claim_slot(secrets.token_hex(8), 2) == 0  # another server's slots
    finally:
        while len(cpu_pinning._held) > held_before:
            cpu_pinning._held.pop().close()


def test_nothing_is_pinned_outside_amanah_serve() -> None:
    assert pin_worker({}) is None


PINNED_CHILD = """
import json, os, threading
from serving.cpu_pinning import pin_worker
started = threading.Event(); stop = threading.Event()
def idle():
    started.set(); stop.wait()
before = threading.Thread(target=idle); before.start(); started.wait()
cpu = pin_worker()
after = {"cpu": cpu, "main": sorted(os.sched_getaffinity(0)),
         "earlier_thread": sorted(os.sched_getaffinity(before.native_id))}
stop.set(); before.join()
print(json.dumps(after))
"""


@linux_only
def test_a_worker_pins_all_its_threads_to_the_first_free_cpu() -> None:
    cpus, token = allowed_cpus(), secrets.token_hex(8)
    env = {**os.environ, SLOTS_ENV: token}
    held_before = len(cpu_pinning._held)
    try:
        assert claim_slot(token, 2) == 0  # another worker holds slot 0
        done = subprocess.run(
            [sys.executable, "-c", PINNED_CHILD], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=60, check=True,
        )  # fmt: skip
    finally:
        while len(cpu_pinning._held) > held_before:
            cpu_pinning._held.pop().close()
    seen = json.loads(done.stdout)
    if len(cpus) < 2:
        assert seen["cpu"] is None and seen["main"] == cpus
    else:
        assert seen["cpu"] == cpus[1]
        assert seen["main"] == seen["earlier_thread"] == [cpus[1]]
