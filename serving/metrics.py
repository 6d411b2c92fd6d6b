"""Prometheus metrics of one app: `GET /metrics` in the text exposition format.

- `amanah_http_requests_total{method,route,status}` and
  `amanah_http_request_duration_seconds{method,route}` (a histogram from 1 ms to 2 s and
  beyond), recorded by `MetricsMiddleware`. `route` is the route's template
  (`/v1/scores/{score_id}`), never the path, which holds ids; a request no route matched
  (or one refused before routing, such as a 413) counts as `unmatched`, so a scan of
  random paths adds no series. `/metrics` itself is not counted.
- `amanah_scores_total{grade,decision}`: scores given, counted by the score routes after
  commit (:func:`counted`, :func:`count_score`).
- `amanah_model_info{name,version,alias}`: 1 for the model serving now
  (:meth:`Metrics.set_model`; hot-swap code calls it with the new model).

No label holds a member, a NIK or a key. Each app has its own `CollectorRegistry` (on
`app.state.metrics`), never prometheus_client's global one, so many apps live in one test
process. Each uvicorn worker has its own registry too: with N workers a scrape reaches one
of them; scrape each worker, or run one worker per container. `/metrics` needs no API key,
like `/healthz`: bind the server to loopback or restrict the path at the proxy.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
UNREGISTERED = "unregistered"  # serving.api.scores.UNREGISTERED: a model outside the registry
# seconds: a cached replay answers in about a millisecond, a score in tens of milliseconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HasIdentity(Protocol):
    def identity(self) -> dict[str, Any]: ...


class Metrics:
    """The app's metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "amanah_http_requests", "HTTP requests answered, by route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "amanah_http_request_duration_seconds", "Time to answer an HTTP request.",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.scores = Counter(
            "amanah_scores", "Scores given, by grade and decision.", ["grade", "decision"],
            registry=self.registry,
        )  # fmt: skip
        self.model = Gauge(
            "amanah_model_info", "The model serving now (1).", ["name", "version", "alias"],
            registry=self.registry,
        )  # fmt: skip

    def set_model(self, model: HasIdentity | Mapping[str, Any] | None) -> None:
        """Mark `model` (an `AmanahModel` or its `identity()`) as the one serving; None: no
        model is loaded."""
        identity = model if model is None or isinstance(model, Mapping) else model.identity()
        self.model.clear()
        if isinstance(identity, Mapping):
            self.model.labels(
                name=identity.get("name") or UNREGISTERED,
                version=identity.get("version") or UNREGISTERED,
                alias=identity.get("alias") or "",
            ).set(1)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route).observe(seconds)

    def count_score(self, grade: str, decision: str) -> None:
        self.scores.labels(grade=grade, decision=decision).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_of(app_or_state: FastAPI | State | Request) -> Metrics | None:
    """The metrics on an app, its state or a request's app; None when it has none."""
    if isinstance(app_or_state, Request):
        app_or_state = app_or_state.app
    state = app_or_state.state if isinstance(app_or_state, FastAPI) else app_or_state
    found = getattr(state, "metrics", None)
    return found if isinstance(found, Metrics) else None


def count_score(app_or_state: FastAPI | State | Request, grade: str, decision: str) -> None:
    """Count one score given (call after its commit)."""
    metrics = metrics_of(app_or_state)
    if metrics is not None:
        metrics.count_score(grade, decision)


class _Graded(Protocol):
    @property
    def grade(self) -> str: ...
    @property
    def decision(self) -> str: ...


GradedT = TypeVar("GradedT", bound=_Graded)


def counted(app_or_state: FastAPI | State | Request, score: GradedT) -> GradedT:
    """`score`, counted: `return counted(request, create_score(...))`."""
    count_score(app_or_state, score.grade, score.decision)
    return score


def route_template(scope: Scope) -> str:
    """The template of the route that answered (`/v1/scores/{score_id}`), or `unmatched`.

    FastAPI keeps a route of an included router with its path inside that router
    (`/scores/{score_id}`), so the part of the path before what the route matched (the
    routers' prefixes, which hold no parameters here) is put back in front."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str) or not template:
        return UNMATCHED
    regex = getattr(route, "path_regex", None)
    path = str(scope.get("path", ""))
    if regex is None:
        return template
    for at, char in enumerate(path):
        if char == "/" and regex.match(path[at:]):
            return path[:at] + template
    return template


class MetricsMiddleware:
    """Pure ASGI: counts and times each HTTP request by method, route template and status.
    An exception that escapes the app counts as 500 (the request context answers it)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe(
                str(scope.get("method", "")), route_template(scope), status,
                time.perf_counter() - started,
            )  # fmt: skip


metrics_router = APIRouter()


@metrics_router.get(METRICS_PATH, include_in_schema=False)
def metrics_exposition(request: Request) -> Response:
    """The app's metrics in the Prometheus text format (no API key: see the module)."""
    metrics = metrics_of(request)
    body = metrics.exposition() if metrics is not None else b""
    return Response(body, media_type=CONTENT_TYPE_LATEST)
