"""An open-loop HTTP/1.1 load client: requests leave on a fixed schedule, answered or not.

A closed-loop client (wrk, a loop of `await post()`) sends the next request only when an
earlier one returns, so a slow answer delays the requests behind it and their wait is never
measured (coordinated omission). Here request i is due at ``t0 + i / rate`` and its latency
is counted from that due time, not from when it was written: a request that waited for a
free connection, or for a client that fell behind, pays for it, as a real caller would.

Connections are a fixed pool of keep-alive sockets (raw asyncio streams, no HTTP library in
the measured path); a due request takes an idle one or waits for one. The client's own cost
is measured by running it against an endpoint that does nothing (`floor`); its p99 there is
the smallest p99 it can report.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Request = Callable[[int], bytes]  # request number -> the whole HTTP/1.1 request
# not the event loop's clock: uvloop's counts whole milliseconds
clock = time.perf_counter


def due_times(rate: float, duration: float) -> list[float]:
    """Offsets from t0 at which requests are due: i / rate for the requests that fit in
    `duration` seconds (rate x duration of them, rounded down)."""
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    return [i / rate for i in range(math.floor(rate * duration + 1e-9))]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of values sorted ascending: the
    smallest value with at least q% of the values at or below it, so p99 of 100 values is
    the 99th, and one slow answer in a hundred shows in p99 but not in p90."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class OpenLoopResult:
    """Latencies in seconds from each request's due time to its whole answer."""

    rate: float
    duration: float
    sent: int
    ok: int  # answered 2xx
    failed: int  # answered otherwise, or the connection broke
    unanswered: int  # still waiting `grace` seconds after the last due time
    elapsed: float  # from t0 to the last answer
    p50: float
    p90: float
    p99: float
    max: float
    send_lag_p99: float  # how late the client wrote requests (its own floor, part of p99)

    @property
    def achieved_rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "rate": self.rate, "duration": self.duration, "sent": self.sent, "ok": self.ok,
            "failed": self.failed, "unanswered": self.unanswered, "achieved_rate": self.achieved_rate, "p50_ms": self.p50 * 1e3,
            "p90_ms": self.p90 * 1e3, "p99_ms": self.p99 * 1e3, "max_ms": self.max * 1e3,
            "send_lag_p99_ms": self.send_lag_p99 * 1e3,
        }  # fmt: skip


def summarise(
    rate: float, duration: float, latencies: Sequence[float], lags: Sequence[float],
    failed: int, elapsed: float, unanswered: int = 0,
) -> OpenLoopResult:  # fmt: skip
    """The figures of one run from its per-request latencies (answered 2xx) and send lags;
    an unanswered request counts as an infinite latency, so a server that fell behind by
    more than the grace period shows an infinite p99 rather than a flattering one."""
    done = sorted([*latencies, *[math.inf] * unanswered])
    return OpenLoopResult(
        rate=rate, duration=duration, sent=len(latencies) + failed + unanswered,
        ok=len(latencies), failed=failed, unanswered=unanswered,
        elapsed=elapsed, p50=percentile(done, 50), p90=percentile(done, 90),
        p99=percentile(done, 99), max=done[-1] if done else math.nan,
        send_lag_p99=percentile(sorted(lags), 99),
    )  # fmt: skip


def http_request(method: str, path: str, host: str, headers: dict[str, str],
                 body: bytes = b"") -> bytes:  # fmt: skip
    """One keep-alive HTTP/1.1 request as bytes."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 answer (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                return status, b"".join(parts)
    return status, b""


class _Pool:
    """Idle keep-alive connections; a broken one is replaced by a fresh one."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def replace(self) -> None:
        try:
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))
        except OSError:
            await asyncio.sleep(0.05)
            asyncio.get_running_loop().create_task(self.replace())

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()


async def run(host: str, port: int, request: Request, rate: float, duration: float,
              connections: int = 64, grace: float = 30.0) -> OpenLoopResult:  # fmt: skip
    """Send `request(i)` at t0 + i / rate for `duration` seconds over a pool of
    `connections` keep-alive connections and measure each answer from its due time;
    answers still missing `grace` seconds after the last due time are given up."""
    loop = asyncio.get_running_loop()
    pool = _Pool(host, port, connections)
    await pool.open()
    latencies: list[float] = []
    lags: list[float] = []
    failures = [0]
    last = [0.0]

    async def one(i: int, due: float) -> None:
        payload = request(i)
        reader, writer = await pool.idle.get()
        lags.append(clock() - due)
        try:
            writer.write(payload)
            status, _ = await read_response(reader)
        except asyncio.CancelledError:  # given up on: the socket goes with it
            writer.close()
            raise
        except (OSError, asyncio.IncompleteReadError, ValueError):
            failures[0] += 1
            writer.close()
            await pool.replace()
            return
        finished = clock()
        last[0] = max(last[0], finished)
        pool.idle.put_nowait((reader, writer))
        if 200 <= status < 300:
            latencies.append(finished - due)
        else:
            failures[0] += 1

    t0 = clock() + 0.05
    tasks = []
    for i, offset in enumerate(due_times(rate, duration)):
        due = t0 + offset
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(loop.create_task(one(i, due)))
    _, waiting = await asyncio.wait(tasks, timeout=max(0.0, t0 + duration + grace - clock()))
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    await pool.close()
    elapsed = max(last[0] - t0, 1e-9)
    return summarise(rate, duration, latencies, lags, failures[0], elapsed, len(waiting))


def run_blocking(host: str, port: int, request: Request, rate: float, duration: float,
                 connections: int = 64, grace: float = 30.0) -> OpenLoopResult:  # fmt: skip
    """`run` in a fresh event loop (uvloop when installed: a cheaper client, a lower floor)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is pinned
        return asyncio.run(run(host, port, request, rate, duration, connections, grace))
    return uvloop.run(run(host, port, request, rate, duration, connections, grace))
