"""`GET /v1/model` (the model card) and the readiness checks of the model, the audit chain
and the profiles, on SQLite and PostgreSQL, with the session's trained model given."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from features.catalog import FiveC
from features.profile_store import INDEX, MANIFEST, ProfileStore
from serving.app import check_profiles, create_app
from serving.config import load_settings
from serving.scoring import STALE_PROFILE_DAYS
from serving.store import repo
from serving.store.tables import AuditEntry
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"


@pytest.fixture
def app(store_url: str, tmp_path: Path, trained: TrainingResult, medium_features: Path) -> FastAPI:
    settings = load_settings(
        database_url=store_url, environment="development", pii_key=PII_KEY.decode(),
        features_dir=medium_features, model_check_seconds=0,
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'no-store' / 'mlflow.db'}",
        model_cache_dir=tmp_path / "cache",
    )  # fmt: skip
    return create_app(settings, trained.model)


def _key(app: FastAPI, scopes: list[str]) -> dict[str, str]:
    with app.state.sessions() as session:
        partner = repo.add_partner(session, "Bank B", actor=ADMIN)
        key = repo.create_key(session, partner, scopes, actor=ADMIN)[1]
        session.commit()
    return {"Authorization": f"Bearer {key}"}


def _profiles_as_of(features: Path, folder: Path, as_of: date) -> ProfileStore:
    """A profile store like `features` whose manifest says `as_of`."""
    folder.mkdir(parents=True)
    manifest = json.loads((features / MANIFEST).read_text("utf-8"))
    manifest["profiles_as_of"] = as_of.isoformat()
    (folder / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    shutil.copy(features / INDEX, folder / INDEX)
    return ProfileStore(folder)


def test_the_model_card_says_which_model_scores_and_how(
    app: FastAPI, trained: TrainingResult
) -> None:
    client = TestClient(app)
    assert client.get("/v1/model").status_code == 401
    assert client.get("/v1/model", headers={"Authorization": "Bearer amk_live_x"}).status_code == (
        401
    )
    answer = client.get("/v1/model", headers=_key(app, ["scores:read"]))
    assert answer.status_code == 200, answer.text
    card = answer.json()
    model = trained.model
    assert card["source"] == "given" and card["family"] == model.family == "lightgbm"
    assert card["version"] is None and card["trained_at"] == model.metadata["trained_at"]
    assert set(card["test_metrics"]) == set(model.metadata["test_metrics"]) and card[
        "test_metrics"
    ]["auc"] == pytest.approx(model.metadata["test_metrics"]["auc"])
    assert [f["name"] for f in card["catalog"]] == model.features
    groups = {c.value for c in FiveC}
    assert all(f["group"] in groups and f["label_id"] and f["label_en"] for f in card["catalog"])
    directions = {f["name"]: f["direction"] for f in card["catalog"]}
    monotone = {f.name: f.monotone for f in model.catalog}
    assert all(
        directions[n]
        == {1: "higher_raises_risk", -1: "higher_lowers_risk"}.get(monotone[n], "not_constrained")
        for n in model.features
    )
    assert set(card["reference_applicant"]) == set(model.features)
    assert card["policy_version"] == card["policy"]["version"] == model.policy.version
    assert card["score_scale"] == pytest.approx(model.scale.to_dict())
    loaded = datetime.fromisoformat(card["loaded_at"])
    assert abs(datetime.now(UTC) - loaded) < timedelta(minutes=10)


def test_readyz_probes_the_audit_chain_without_leaving_an_entry(app: FastAPI) -> None:
    client = TestClient(app)
    with app.state.sessions() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["audit"]["status"] == "ok" and checks["database"]["status"] == "ok"
    assert checks["model"]["status"] == "ok"
    with app.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before
        # the chain cannot be appended to any more: the service is unavailable
        session.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_gone"))
        session.commit()
    broken = client.get("/readyz")
    assert broken.status_code == 503 and broken.json()["checks"]["audit"]["status"] == "failed"
    assert broken.json()["checks"]["database"]["status"] == "ok"
    assert "audit_entries" not in broken.text


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_readyz_reports_profiles_fresh_stale_or_missing(
    app: FastAPI, medium_features: Path, tmp_path: Path
) -> None:
    client = TestClient(app)
    today = datetime.now(UTC).date()
    app.state.profiles = _profiles_as_of(medium_features, tmp_path / "fresh", today)
    fresh = client.get("/readyz")
    assert fresh.status_code == 200 and fresh.json()["checks"]["profiles"]["status"] == "ok"
    old = today - timedelta(days=STALE_PROFILE_DAYS + 9)
    app.state.profiles = _profiles_as_of(medium_features, tmp_path / "stale", old)
    stale = client.get("/readyz")
    assert stale.status_code == 200 and stale.json()["status"] == "degraded"
    assert stale.json()["checks"]["profiles"]["status"] == "degraded"
    assert old.isoformat() in stale.json()["checks"]["profiles"]["detail"]
    app.state.profiles = None
    missing = client.get("/readyz")
    assert missing.status_code == 503 and missing.json()["checks"]["profiles"]["status"] == (
        "failed"
    )


def test_the_profiles_check_counts_days_from_the_as_of_day(
    medium_features: Path, tmp_path: Path
) -> None:
    store = _profiles_as_of(medium_features, tmp_path / "p", date(2026, 1, 1))
    on_the_edge = date(2026, 1, 1) + timedelta(days=STALE_PROFILE_DAYS)
    assert check_profiles(store, on_the_edge).status == "ok"
    assert check_profiles(store, on_the_edge + timedelta(days=1)).status == "degraded"
    assert check_profiles(None, on_the_edge).status == "failed"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_taking_the_model_away_answers_503_and_readyz_failed(
    app: FastAPI, trained: TrainingResult
) -> None:
    client = TestClient(app)
    headers = _key(app, ["scores:read"])
    app.state.model = None  # app.state.model is a view of the holder
    assert app.state.model_holder.current() is None
    card = client.get("/v1/model", headers=headers)
    assert card.status_code == 503 and card.json()["code"] == "model_unavailable"
    assert client.get("/readyz").json()["checks"]["model"]["status"] == "failed"
    app.state.model = trained.model
    assert client.get("/v1/model", headers=headers).status_code == 200
