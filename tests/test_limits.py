"""Request limits: the token bucket per API key (fake clock, no sleeps) and the velocity per
member, as pure decisions with controlled inputs, through the app on SQLite (real scores of
the session's trained model) and against the store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from features.profile_store import ProfileStore
from serving.app import create_app
from serving.config import ApiSettings, load_settings
from serving.errors import PROBLEM_JSON
from serving.limits import (
    MemberVelocityError,
    RateLimiter,
    batch_velocity,
    check_member_velocity,
    member_velocity,
    take_token,
)
from serving.security import member_ref_from_number
from serving.store import make_engine, repo, sessions, upgrade
from serving.store.tables import Score
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"
PURPOSE = "credit_scoring"
PER_DAY = 3
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- pure decisions ---------------------------------------------------------------------


def test_the_bucket_spends_its_burst_then_refills_at_the_rate() -> None:
    tokens, verdict = take_token(2.0, 0.0, per_minute=60, burst=2)
    assert verdict.allowed and verdict.remaining == 1 and tokens == 1.0
    tokens, verdict = take_token(tokens, 0.0, 60, 2)
    assert verdict.allowed and verdict.remaining == 0
    tokens, verdict = take_token(tokens, 0.25, 60, 2)  # a quarter token back
    assert not verdict.allowed and verdict.retry_after == 1 and tokens == 0.25
    _, verdict = take_token(0.0, 0.0, per_minute=6, burst=1)  # a token every 10 s
    assert verdict.retry_after == 10
    tokens, verdict = take_token(0.0, 3600.0, 60, 5)  # never more than the burst
    assert verdict.allowed and tokens == 4.0


def test_the_limiter_keeps_a_bucket_per_key_on_its_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    assert [limiter.check("k1").allowed for _ in range(3)] == [True, True, False]
    assert limiter.check("k2").allowed  # another key has its own bucket
    clock.now += 1.0  # one token back
    assert limiter.check("k1").allowed and not limiter.check("k1").allowed
    off = RateLimiter(per_minute=0, burst=1, clock=clock)
    assert not off.enabled and all(off.check("k1").allowed for _ in range(100))


def test_velocity_counts_the_last_24_hours_only() -> None:
    times = [NOW - timedelta(hours=h) for h in (25, 20, 5, 1)]  # 25 h ago is outside
    assert member_velocity(times, 4, NOW).allowed
    assert member_velocity(times, 0, NOW).allowed  # 0: no limit
    refused = member_velocity(times, 3, NOW)
    # the oldest of the three inside is 20 h old: 4 h until it leaves the window
    assert not refused.allowed and refused.retry_after == 4 * 3600
    # over the limit (it was lowered): wait until enough have left, not just the oldest
    assert member_velocity(times, 2, NOW).retry_after == 19 * 3600
    assert member_velocity(times, 1, NOW).retry_after == 23 * 3600
    # never less than a second, order of the input does not matter
    edge = [NOW - DAY + timedelta(milliseconds=10)]
    assert member_velocity(list(reversed(edge)), 1, NOW).retry_after == 1


# --- the store, on SQLite and PostgreSQL ------------------------------------------------


def _score(partner_id: str, member_ref: str, at: datetime, n: int) -> Score:
    return Score(
        id=f"sc_{n:032x}", application_id=None, partner_id=partner_id, member_ref=member_ref,
        cooperative_id="KMP-0001", request_digest="0" * 64, model_name="m", model_version="1",
        model_alias=None, pd=0.1, score=600, grade="B", decision="approve", answer={},
        scored_at=at, request_id="r",
    )  # fmt: skip


def test_velocity_is_counted_from_the_scores_table(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    settings = load_settings(database_url=store_url, member_scores_per_day=PER_DAY)
    ref, other_ref = "a" * 64, "b" * 64
    try:
        with sessions(engine)() as session:
            a = repo.add_partner(session, "Fintech A", actor=ADMIN)
            b = repo.add_partner(session, "Bank B", actor=ADMIN)
            ages = [timedelta(hours=h) for h in (30, 23, 2, 1)]  # 30 h ago is outside
            rows = [_score(a.id, ref, NOW - age, n) for n, age in enumerate(ages)]
            rows += [_score(b.id, ref, NOW - timedelta(hours=1), 10)]
            rows += [_score(a.id, other_ref, NOW - timedelta(hours=1), 11)]
            session.add_all(rows)
            session.commit()
            with pytest.raises(MemberVelocityError) as refused:
                check_member_velocity(session, settings, a.id, ref, NOW)
            assert refused.value.headers["Retry-After"] == str(3600)  # 23 h old: 1 h to go
            assert refused.value.detail_id and str(PER_DAY) in refused.value.detail
            # another partner, another member, a day later, a higher limit: each passes
            check_member_velocity(session, settings, b.id, ref, NOW)
            check_member_velocity(session, settings, a.id, other_ref, NOW)
            check_member_velocity(session, settings, a.id, ref, NOW + timedelta(hours=1, seconds=1))
            check_member_velocity(session, settings.model_copy(update={"member_scores_per_day": 4}),
                                  a.id, ref, NOW)  # fmt: skip
            check_member_velocity(session, settings.model_copy(update={"member_scores_per_day": 0}),
                                  a.id, ref, NOW)  # fmt: skip
    finally:
        engine.dispose()


# --- through the app --------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    app: FastAPI
    client: TestClient
    settings: ApiSettings
    keys: dict[str, str]
    members: dict[str, tuple[str, str]]


def _number(member_id: str) -> tuple[str, str]:
    coop, _, number = member_id.rpartition("-")
    return coop, number


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, trained: TrainingResult, medium_features: Path
) -> World:
    tmp = tmp_path_factory.mktemp("limits")
    settings = load_settings(
        database_url=f"sqlite:///{tmp / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=medium_features,
        mlflow_tracking_uri=f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
        rate_limit_per_minute=120, rate_limit_burst=7, member_scores_per_day=PER_DAY,
    )  # fmt: skip
    app = create_app(settings, trained.model)
    store = ProfileStore(medium_features)
    coop = sorted({m.rpartition("-")[0] for m in store.members()})[0]
    members = {
        case: _number(m)
        for case, m in zip(("shopped", "shared", "replayed"), store.members(coop)[:3], strict=True)
    }
    now = datetime.now(UTC)
    keys: dict[str, str] = {}
    with app.state.sessions() as session:
        a = repo.add_partner(session, "Fintech A", actor=ADMIN)
        b = repo.add_partner(session, "Bank B", actor=ADMIN)
        for who, partner in (("a", a), ("a2", a), ("b", b)):
            keys[who] = repo.create_key(session, partner, ["scores:write", "scores:read"],
                                        actor=ADMIN)[1]  # fmt: skip
        for partner in (a, b):
            repo.grant(session, partner, coop, actor=ADMIN)
            for member in members.values():
                ref = member_ref_from_number(*member, PII_KEY).ref
                repo.give_consent(session, partner, ref, coop, PURPOSE, now + DAY * 90,
                                  actor=ADMIN, at=now - timedelta(seconds=1))  # fmt: skip
        session.commit()
    return World(app, TestClient(app), settings, keys, members)


@pytest.fixture
def clock(world: World) -> Iterator[FakeClock]:
    """A limiter of 60 a minute and a burst of 2 on a fake clock for this test; the limit
    is off again after it, so other tests are not throttled."""
    fake = FakeClock()
    world.app.state.rate_limiter = RateLimiter(per_minute=60, burst=2, clock=fake)
    yield fake
    world.app.state.rate_limiter = RateLimiter(per_minute=0, burst=1)


def _get(world: World, who: str) -> Any:
    headers = {"Authorization": f"Bearer {world.keys[who]}"}
    return world.client.get("/v1/scores/sc_missing", headers=headers)


def _post(world: World, who: str, member: tuple[str, str], key: str | None = None) -> Any:
    coop, number = member
    body = {
        "member": {"cooperative_id": coop, "member_number": number},
        "loan": {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"},
    }
    headers = {"Authorization": f"Bearer {world.keys[who]}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return world.client.post("/v1/scores", json=body, headers=headers)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["request_id"] == response.headers["x-request-id"]
    return body


def test_the_app_builds_its_limiter_from_the_settings(world: World) -> None:
    limiter = create_app(world.settings, world.app.state.model).state.rate_limiter
    assert (limiter.per_minute, limiter.burst) == (120, 7)
    assert limiter is not world.app.state.rate_limiter  # each app its own buckets


def test_a_key_past_its_rate_is_429_with_retry_after(world: World, clock: FakeClock) -> None:
    created = _post(world, "a", world.members["shared"])
    assert created.status_code == 201, created.text
    assert created.headers["ratelimit-limit"] == "60"
    assert created.headers["ratelimit-remaining"] == "1"
    headers = {"Authorization": f"Bearer {world.keys['a']}"}
    read = world.client.get(f"/v1/scores/{created.json()['id']}", headers=headers)
    assert read.status_code == 200 and read.headers["ratelimit-remaining"] == "0"
    refused = _get(world, "a")
    problem = _problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "1" and refused.headers["ratelimit-remaining"] == "0"
    assert problem["detail_id"] and "60" in problem["detail"]
    # a second key of the same partner has its own bucket; the first refills with time
    assert _get(world, "a2").status_code == 404
    _problem(_post(world, "a", world.members["shared"]), 429, "rate_limited")
    clock.now += 1.0
    assert _get(world, "a").status_code == 404
    _problem(_get(world, "a"), 429, "rate_limited")


def test_a_refused_key_spends_no_token(world: World, clock: FakeClock) -> None:
    bad = {"Authorization": "Bearer amk_live_00000000_" + "x" * 43}
    for _ in range(5):
        assert world.client.get("/v1/scores/sc_missing", headers=bad).status_code == 401
    assert _get(world, "b").status_code == 404


def test_a_limit_of_zero_is_off(world: World) -> None:
    world.app.state.rate_limiter = RateLimiter(per_minute=0, burst=1)
    answers = [_get(world, "b") for _ in range(20)]
    assert {a.status_code for a in answers} == {404}
    assert "ratelimit-limit" not in answers[0].headers


def test_a_member_scored_n_times_in_a_day_is_429_until_the_oldest_ages(world: World) -> None:
    world.app.state.rate_limiter = RateLimiter(per_minute=0, burst=1)
    started = datetime.now(UTC)
    for _ in range(PER_DAY):
        created = _post(world, "a", world.members["shopped"])
        assert created.status_code == 201, created.text
    refused = _post(world, "a", world.members["shopped"])
    problem = _problem(refused, 429, "member_velocity")
    elapsed = (datetime.now(UTC) - started).total_seconds()
    wait = int(refused.headers["retry-after"])
    assert 86_400 - elapsed - 2 <= wait <= 86_400
    assert problem["detail_id"] and str(PER_DAY) in problem["detail"]
    # another key of the same partner counts too; another partner does not
    _problem(_post(world, "a2", world.members["shopped"]), 429, "member_velocity")
    assert _post(world, "b", world.members["shopped"]).status_code == 201
    assert _post(world, "a", world.members["shared"]).status_code == 201


def test_a_replay_past_the_velocity_limit_answers_the_stored_score(world: World) -> None:
    world.app.state.rate_limiter = RateLimiter(per_minute=0, burst=1)
    member = world.members["replayed"]
    first = _post(world, "a", member, key="velocity-replay-1")
    assert first.status_code == 201, first.text
    for _ in range(PER_DAY - 1):
        assert _post(world, "a", member).status_code == 201
    # the limit is reached: a retry of the first request is no new score and is answered
    again = _post(world, "a", member, key="velocity-replay-1")
    assert again.status_code == 201, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    _problem(_post(world, "a", member, key="velocity-replay-2"), 429, "member_velocity")


def test_batch_velocity_counts_earlier_items_of_the_batch() -> None:
    recent = {"a": [NOW - timedelta(hours=h) for h in (30, 2)], "b": []}
    verdicts = batch_velocity(recent, ["a", "b", "a", "a", "b", "c"], 2, NOW)
    # "a" holds one score inside the window: one more, then refused; "b", "c" twice
    assert [v is None for v in verdicts] == [True, True, False, False, True, True]
    refused = verdicts[2]
    assert refused is not None and refused.status == 429
    assert refused.headers["Retry-After"] == str(22 * 3600)
    assert all(v is None for v in batch_velocity(recent, ["a"] * 5, 0, NOW))
