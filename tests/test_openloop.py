"""The benchmark's open-loop client (bench/openloop.py): its schedule, its percentiles, and,
against a tiny in-process server, that a queue behind a slow answer is counted."""

from __future__ import annotations

import asyncio

import pytest

from bench.openloop import OpenLoopResult, due_times, http_request, percentile, run


def test_requests_are_due_at_fixed_times_whatever_the_answers() -> None:
    times = due_times(200, 10)
    assert len(times) == 2000
    assert times[0] == 0 and times[1] == pytest.approx(0.005)
    assert times[-1] == pytest.approx(9.995)
    assert due_times(3, 1) == pytest.approx([0, 1 / 3, 2 / 3])
    with pytest.raises(ValueError):
        due_times(0, 1)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    # one slow answer in a hundred is p100, not p99; two are p99
    assert percentile([1.0] * 99 + [500.0], 99) == 1.0
    assert percentile([1.0] * 98 + [500.0] * 2, 99) == 500.0


def test_http_request_is_one_keep_alive_message() -> None:
    raw = http_request("POST", "/v1/scores", "h:1", {"Authorization": "Bearer k"}, b"{}")
    assert raw == (
        b"POST /v1/scores HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer k\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    )


async def _serve_and_load(
    service_s: float, rate: float, duration: float, connections: int
) -> OpenLoopResult:
    """A server answering each request after `service_s` (500 for paths with "fail"),
    loaded open-loop by the client in the same event loop."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(service_s)
                status = b"500 Oops" if b"fail" in head.split(b"\r\n")[0] else b"200 OK"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    def request(i: int) -> bytes:
        return http_request("GET", "/fail" if i % 5 == 0 else "/", f"127.0.0.1:{port}", {})

    async with server:
        return await run("127.0.0.1", port, request, rate, duration, connections)


def test_latency_at_light_load_is_the_service_time() -> None:
    result = asyncio.run(_serve_and_load(0.01, rate=20, duration=0.5, connections=4))
    assert result.sent == 10 and result.ok == 8 and result.failed == 2
    assert 0.01 <= result.p50 < 0.06
    assert result.send_lag_p99 < 0.05


def test_a_queue_behind_slow_answers_is_counted() -> None:
    # one connection answering in 30 ms can carry about 33 requests/s; 100/s are due for
    # 1 s, so the last waits about 2 s: a closed-loop client would have reported 30 ms
    result = asyncio.run(_serve_and_load(0.03, rate=100, duration=1.0, connections=1))
    assert result.sent == 100
    assert result.p50 > 0.5
    assert result.max > 1.5
    assert result.achieved_rate < 40


def test_answers_later_than_the_grace_period_count_as_infinitely_late() -> None:
    async def load() -> OpenLoopResult:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(1)  # never within the grace period

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        raw = http_request("GET", "/", f"127.0.0.1:{port}", {})
        async with server:
            return await run("127.0.0.1", port, lambda i: raw, 20, 0.25, 4, grace=0.2)

    result = asyncio.run(load())
    assert result.sent == 5 and result.unanswered == 5 and result.ok == 0
    assert result.p99 == float("inf")


WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/v1/scores
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.10ms    3.20ms  80.00ms   90.00%
    Req/Sec   330.00     20.00   400.00     70.00%
  Latency Distribution
     50%  850.00us
     75%   12.00ms
     90%   15.50ms
     99%    1.20s
  6600 requests in 10.01s, 9.90MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    659.34
Transfer/sec:      0.99MB
"""


def test_wrk_output_is_read_with_its_units_and_failures() -> None:
    from bench.bench_api import parse_wrk

    figures = parse_wrk(WRK_OUTPUT)
    assert figures["rps"] == pytest.approx(659.34)
    assert figures["p50_ms"] == pytest.approx(0.85)
    assert figures["p90_ms"] == pytest.approx(15.5)
    assert figures["p99_ms"] == pytest.approx(1200)
    assert figures["non_2xx"] == 4 and figures["socket_errors"] == 3
    assert figures["requests"] == 6600
