"""Request limits of the scoring routes: a rate per API key and a velocity per member.

Rate per key (`AMANAH_RATE_LIMIT_PER_MINUTE`, `AMANAH_RATE_LIMIT_BURST`): a token bucket
per key prefix (the prefix is not secret; the key itself is never kept), holding up to the
burst and refilled at the per-minute rate. An empty bucket answers 429 `rate_limited` with
`Retry-After` (whole seconds until a token is back); every answer that passed carries
`RateLimit-Limit` and `RateLimit-Remaining`. The buckets live in the process, on
`app.state.rate_limiter`: each uvicorn worker keeps its own, so with N workers a key may
make up to N times the rate (a shared store would cost a round trip per request). A route
declares its scope and the limit in one dependency, `rate_limited(scope)`, which runs after
the key is authenticated and its scope checked (a refused key spends no token).

Velocity per member (`AMANAH_MEMBER_SCORES_PER_DAY`), against score shopping: a partner
may score one member at most N times in 24 hours; the next answers 429 `member_velocity`
with `Retry-After` until the oldest of those scores is 24 hours old. It is counted from the
`scores` table, so it holds across workers and restarts. Two requests for the same member
at the same instant may both pass the count (no lock is taken): the limit is against
shopping, not an exact quota. The score routes call :func:`check_member_velocity` after
the consent checks, so a member out of reach answers its 404, never a 429 that would tell
the member exists.
"""

import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Self

from fastapi import Request, Response
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from serving.config import ApiSettings
from serving.deps import PartnerDep, scoped
from serving.errors import DomainError
from serving.security import Scope, key_prefix
from serving.store.repo import Principal
from serving.store.tables import Score

VELOCITY_WINDOW = timedelta(hours=24)
SECONDS_PER_MINUTE = 60


class RateLimitedError(DomainError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "rate_limited"
    title = "Too many requests"


class MemberVelocityError(DomainError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "member_velocity"
    title = "Too many scores for this member"


@dataclass(frozen=True)
class Verdict:
    """Whether a request may pass; if not, the whole seconds to wait (at least 1)."""

    allowed: bool
    retry_after: int = 0
    remaining: int = 0


def _wait(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def take_token(tokens: float, elapsed: float, per_minute: int, burst: int) -> tuple[float, Verdict]:
    """A token bucket's step: the bucket held `tokens` `elapsed` seconds ago; it refills at
    `per_minute` a minute up to `burst`. Returns the tokens left and the verdict."""
    rate = per_minute / SECONDS_PER_MINUTE
    tokens = min(float(burst), tokens + max(0.0, elapsed) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, Verdict(True, remaining=math.floor(tokens - 1.0))
    return tokens, Verdict(False, retry_after=_wait((1.0 - tokens) / rate))


class RateLimiter:
    """The token buckets of one process, one per key prefix; thread-safe (sync routes and
    their dependencies run in a thread pool). `clock` is seconds, monotonic; a test gives
    its own."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # prefix -> (tokens, at)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: ApiSettings, clock: Callable[[], float] = time.monotonic
    ) -> Self:
        return cls(settings.rate_limit_per_minute, settings.rate_limit_burst, clock)

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def check(self, bucket: str) -> Verdict:
        """Take a token from `bucket` (a key prefix), or say how long to wait."""
        if not self.enabled:
            return Verdict(True, remaining=self.burst)
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(bucket, (float(self.burst), now))
            left, verdict = take_token(tokens, now - at, self.per_minute, self.burst)
            self._buckets[bucket] = (left, now)
        return verdict


def _bucket_of(request: Request, principal: Principal) -> str:
    """The presented key's prefix (authenticated already, so it has a key's shape)."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    prefix = key_prefix(presented.strip()) if scheme.lower() == "bearer" else None
    return prefix if prefix is not None else f"partner:{principal.partner.id}"


def rate_limited(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the key's principal with `scope` (`serving.deps.scoped`), then a
    token from the key's bucket; an empty bucket answers 429 `rate_limited` with `Retry-After`."""

    # evaluated here, not postponed: FastAPI reads the dependency from the annotation, and
    # a postponed one could not see `scope` (hence no `from __future__ import annotations`)
    # `async def`: no I/O, so no thread-pool hop (the bucket's lock is held for microseconds)
    # the scope is checked here (`scoped`), not by a nested `require_scope` dependency:
    # FastAPI's work per dependency of the tree is a measurable part of a score's time
    async def limited(principal: PartnerDep, request: Request, response: Response) -> Principal:
        principal = scoped(principal, scope)
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        if limiter is None or not limiter.enabled:
            return principal
        verdict = limiter.check(_bucket_of(request, principal))
        headers = {
            "RateLimit-Limit": str(limiter.per_minute),
            "RateLimit-Remaining": str(verdict.remaining),
        }
        if not verdict.allowed:
            raise RateLimitedError(
                f"This API key made more than {limiter.per_minute} requests a minute; "
                f"try again in {verdict.retry_after} seconds.",
                f"Kunci API ini membuat lebih dari {limiter.per_minute} permintaan per "
                f"menit; coba lagi dalam {verdict.retry_after} detik.",
                headers={**headers, "Retry-After": str(verdict.retry_after)},
            )
        response.headers.update(headers)
        return principal

    return limited


def member_velocity(
    recent: Iterable[datetime], limit: int, now: datetime, window: timedelta = VELOCITY_WINDOW
) -> Verdict:
    """Whether one more score of a member may be given `now`, when the partner scored them
    at the times `recent` (any order; those older than `window` do not count) and may
    score them `limit` times a `window` (0: no limit). When not, `retry_after` is the
    seconds until enough of those scores are older than `window`."""
    if limit <= 0:
        return Verdict(True)
    inside = sorted((at for at in recent if at > now - window), reverse=True)
    if len(inside) < limit:
        return Verdict(True, remaining=limit - len(inside) - 1)
    # the window holds fewer than `limit` once its limit-th newest score has left it
    frees_at = inside[limit - 1] + window
    return Verdict(False, retry_after=_wait((frees_at - now).total_seconds()))


# built once: a select built per call costs more than running it (`serving.store.repo`)
_RECENT = (
    select(Score.scored_at)
    .where(
        Score.member_ref == bindparam("member_ref"),
        Score.partner_id == bindparam("partner_id"),
        Score.scored_at > bindparam("since"),
    )
    .order_by(Score.scored_at.desc())
    .limit(bindparam("most"))
)


def recent_scores(
    session: Session, partner_id: str, member_ref: str, since: datetime, most: int
) -> list[datetime]:
    """When the partner scored the member after `since`, newest first, at most `most`
    (the newest `limit` are all the velocity decision needs)."""
    params = {"member_ref": member_ref, "partner_id": partner_id, "since": since, "most": most}
    return list(session.scalars(_RECENT, params))


def check_member_velocity(
    session: Session,
    settings: ApiSettings,
    partner_id: str,
    member_ref: str,
    now: datetime | None = None,
) -> None:
    """Raise 429 `member_velocity` when the partner already scored this member
    `AMANAH_MEMBER_SCORES_PER_DAY` times in the last 24 hours."""
    limit = settings.member_scores_per_day
    if limit <= 0:
        return
    at = now if now is not None else datetime.now(UTC)
    recent = recent_scores(session, partner_id, member_ref, at - VELOCITY_WINDOW, limit)
    verdict = member_velocity(recent, limit, at)
    if not verdict.allowed:
        raise velocity_error(limit, verdict.retry_after)


def recent_scores_of(
    session: Session, partner_id: str, member_refs: Iterable[str], since: datetime
) -> dict[str, list[datetime]]:
    """When the partner scored each of `member_refs` after `since` (one query, for a batch)."""
    refs = sorted(set(member_refs))
    found: dict[str, list[datetime]] = {}
    if not refs:
        return found
    query = select(Score.member_ref, Score.scored_at).where(
        Score.partner_id == partner_id, Score.member_ref.in_(refs), Score.scored_at > since
    )
    for ref, at in session.execute(query):
        found.setdefault(ref, []).append(at)
    return found


def velocity_error(limit: int, retry_after: int) -> MemberVelocityError:
    """The 429 `member_velocity` problem: `limit` scores of this member in 24 hours."""
    return MemberVelocityError(
        f"This partner scored this member {limit} times in the last 24 hours, the most "
        f"allowed; try again in {retry_after} seconds.",
        f"Mitra ini sudah menilai anggota ini {limit} kali dalam 24 jam terakhir, batas "
        f"yang diizinkan; coba lagi dalam {retry_after} detik.",
        headers={"Retry-After": str(retry_after)},
    )


def batch_velocity(
    recent: dict[str, list[datetime]], member_refs: Iterable[str], limit: int, now: datetime
) -> list[MemberVelocityError | None]:
    """For a batch's members in order: None when the item may be scored, else its 429
    problem. Earlier items of the same batch count as scores given `now`, so a batch that
    names a member eleven times scores them ten times (limit 10)."""
    given: dict[str, list[datetime]] = {ref: list(times) for ref, times in recent.items()}
    out: list[MemberVelocityError | None] = []
    for ref in member_refs:
        times = given.setdefault(ref, [])
        verdict = member_velocity(times, limit, now)
        if verdict.allowed:
            times.append(now)
            out.append(None)
        else:
            out.append(velocity_error(limit, verdict.retry_after))
    return out
