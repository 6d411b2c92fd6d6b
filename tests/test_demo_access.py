"""The demo's way in to its own API: the printed key and curl line score a member."""

from __future__ import annotations

import json
import shlex
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from features.profile_store import ProfileStore
from serving.app import create_app
from serving.config import load_settings
from serving.demo_access import DEMO_KEY_FILE, curl_line, demo_pii_key, open_demo_access
from serving.store.tables import ApiKey, Consent, Grant, Partner
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult


def _curl_parts(line: str) -> tuple[str, dict[str, str], dict[str, object]]:
    words = shlex.split(line)
    assert words[:4] == ["curl", "-s", "-X", "POST"]
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    body = json.loads(words[words.index("-d") + 1])
    return words[4], headers, body


def test_the_printed_curl_line_scores_the_consented_member(
    tmp_path: Path, trained: TrainingResult, medium_features: Path
) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=medium_features,
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'none' / 'mlflow.db'}",
    )  # fmt: skip
    app = create_app(settings, trained.model)
    profiles = ProfileStore(medium_features)
    with app.state.sessions() as session:
        first = open_demo_access(session, profiles, PII_KEY)
        session.commit()
    coops = {m.rpartition("-")[0] for m in profiles.members()}
    assert first.cooperatives == len(coops) and first.consents == 3 * len(coops)
    url, headers, body = _curl_parts(curl_line("http://127.0.0.1:8000", first))
    assert url == "http://127.0.0.1:8000/v1/scores"
    answer = TestClient(app).post("/v1/scores", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["grade"] and answer.json()["reasons"]
    # a second run reuses the partner and its grants, with a new key; the old key still works
    with app.state.sessions() as session:
        second = open_demo_access(session, profiles, PII_KEY, per_cooperative=1)
        session.commit()
        assert second.partner_id == first.partner_id and second.api_key != first.api_key
        assert session.query(Partner).count() == 1
        assert session.query(ApiKey).count() == 2
        assert session.query(Grant).count() == len(coops)
        assert session.query(Consent).count() == 4 * len(coops)
    assert first.api_key not in curl_line("http://h", second)


def test_the_demo_key_is_made_once_private_and_reused(tmp_path: Path) -> None:
    key = demo_pii_key(tmp_path)
    assert len(key) == 64
    mode = stat.S_IMODE((tmp_path / DEMO_KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert demo_pii_key(tmp_path) == key
