"""Reasons in every scoring path, on a model trained as the demo trains it: the artifact's
attributions, its own catalog and reference, the registry's model version, and the
`amanah score`, `score-batch`, `predict` and `report` commands against a real MLflow store
and a real Dask LocalCluster."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from features.catalog import CATALOG, feature
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from models.reasons import reason_records
from models.registry import CHALLENGER, MODEL_NAME, flat_output, load, log_training
from models.training import AMANAH_TARGET, TrainingResult
from serving.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def model(trained: TrainingResult) -> AmanahModel:
    return trained.model


@pytest.fixture(scope="module")
def store_uri(trained: TrainingResult, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real SQLite MLflow store holding the model as amanah-pd@challenger."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    log_training(trained, source="test", uri=uri)
    return uri


# ------------------------------------------------------------------ the artifact


row_strategy = st.integers(0, 10_000)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=row_strategy, blank=st.floats(0.0, 0.6))
def test_attributions_add_up_to_the_margin_on_random_rows(
    model: AmanahModel, trained: TrainingResult, seed: int, blank: float
) -> None:
    """Rows of the test period with values blanked at random (missing) and categories
    swapped for unseen ones: numeric, missing and categorical splits."""
    rng = np.random.default_rng(seed)
    rows = trained.test.sample(5, random_state=seed)[model.features].reset_index(drop=True)
    X = model.matrix(rows)
    X[rng.random(X.shape) < blank] = np.nan
    phi, margin = model.explainer.explain_with_margin(X)
    booster = np.asarray(model.booster.predict(X, raw_score=True))
    np.testing.assert_allclose(phi.sum(1) + model.explainer.base_value_, booster, atol=1e-9)
    np.testing.assert_array_equal(margin, booster)


def test_scoring_with_and_without_reasons_gives_the_same_pd(
    model: AmanahModel, trained: TrainingResult
) -> None:
    with_reasons = model.predict(trained.test, lang="id")
    without = model.predict(trained.test, reasons=False)
    np.testing.assert_array_equal(with_reasons["pd"].to_numpy(), without["pd"].to_numpy())
    assert (with_reasons["decision"] == without["decision"]).all()
    assert "reason_1_text_id" in with_reasons.columns and "reason_1_text_en" not in with_reasons


def test_records_and_frames_give_the_same_reasons(
    model: AmanahModel, trained: TrainingResult
) -> None:
    rows = trained.test.head(40)
    by_frame = reason_records(model.predict(rows))
    by_records = [r["reasons"] for r in model.predict_records(rows.to_dict("records"))]

    def as_text(reasons: list[dict[str, object]]) -> list[dict[str, object]]:
        # a frame holds the value as text, a record as the number or category
        return [r | {"value": None if r["value"] is None else str(r["value"])} for r in reasons]

    assert by_frame == [as_text(r) for r in by_records]
    assert sum(len(r) for r in by_frame) > 40  # most applicants get reasons
    for reasons in by_records:
        directions = [r["direction"] for r in reasons]
        assert directions == sorted(directions)  # adverse first
        assert directions.count("adverse") <= 4 and directions.count("favourable") <= 2
        for r in reasons:
            assert (r["direction"] == "adverse") == (r["impact_logodds"] > 0)
            assert r["impact_points"] == pytest.approx(-model.scale.factor * r["impact_logodds"])
            assert r["text_id"] and r["text_en"] and "{" not in r["text_id"]
            assert bool(r["improve_id"]) == (r["direction"] == "adverse")


def test_the_single_row_path_words_exactly_what_the_batch_path_does(
    model: AmanahModel, trained: TrainingResult
) -> None:
    rows = trained.test.sample(300, random_state=1)
    X = model.matrix(rows)
    X[np.random.default_rng(2).random(X.shape) < 0.15] = np.nan  # missing values too
    phi = model.attributions(X)
    writer = model.reasons
    for langs in (("id", "en"), ("en",)):
        batch = writer._explain_vectorised(phi, X, langs)
        pairs = zip(phi.tolist(), X.tolist(), strict=True)
        single = [writer._explain_row(p, x, langs) for p, x in pairs]
        assert single == batch


def test_a_thin_file_member_gets_no_invented_reason(model: AmanahModel) -> None:
    """A new member: no loans, no group, a month of history, most values missing."""
    record: dict[str, object] = {name: None for name in model.features}
    record.update(
        months_of_history=1.0, membership_months=1.0, has_prior_loan=0.0, in_group=0.0,
        late_instalments_6m=0.0, late_instalments_12m=0.0, max_dpd_365d=0.0, current_dpd=0.0,
        prior_loans_completed=0.0, prior_loans_defaulted=0.0, ledger_events_6m=2.0,
        loan_amount=3_000_000.0, tenor_months=12.0, flat_monthly_rate=0.015,
    )  # fmt: skip
    (scored,) = model.predict_records([record], lang="id")
    reasons = scored["reasons"]
    assert reasons, "a thin file still hears why"
    evidence_needed = {f.name for f in CATALOG if f.evidence is not None}
    for r in reasons:
        if r["direction"] == "favourable":
            assert r["feature"] not in evidence_needed, r  # "0 late instalments" of nobody
            assert r["value"] is not None
        if r["code"].endswith("_MISSING"):
            assert r["factor"] == "thin_file"
            assert r["text_id"] == feature(r["feature"]).missing_id
    assert any(r["factor"] == "thin_file" for r in reasons if r["direction"] == "adverse")


def test_the_artifact_keeps_its_own_catalog_and_reference(
    model: AmanahModel, trained: TrainingResult, tmp_path: Path
) -> None:
    model.save(tmp_path / "m")
    spec = json.loads((tmp_path / "m" / "model.json").read_text("utf-8"))
    assert spec["reference"] == model.reference
    assert set(spec["reference"]) == set(model.features)
    # a model version words its reasons with the catalog it was trained with, not today's
    for entry in spec["catalog"]:
        entry["raises_risk_id"] = "LAMA: {value}."
    (tmp_path / "m" / "model.json").write_text(json.dumps(spec), "utf-8")
    old = AmanahModel.load(tmp_path / "m")
    texts = [
        r["text_id"]
        for rs in reason_records(old.predict(trained.test.head(30), lang="id"))
        for r in rs
        if r["direction"] == "adverse" and not r["code"].endswith("_MISSING")
    ]
    assert texts and all(t.startswith("LAMA: ") for t in texts)
    np.testing.assert_array_equal(
        old.predict(trained.test.head(30), reasons=False)["pd"],
        model.predict(trained.test.head(30), reasons=False)["pd"],
    )


def test_a_reference_that_misses_features_is_refused(model: AmanahModel) -> None:
    import dataclasses

    reference = dict(model.reference)
    reference.pop("current_dpd")
    with pytest.raises(ValueError, match="current_dpd"):
        dataclasses.replace(model, reference=reference)


def test_the_model_card_shows_the_reference_applicant(model: AmanahModel) -> None:
    card = model.card()
    assert card["reference_applicant"] == model.reference
    assert card["test_metrics"]["auc"] > 0.5
    assert len(card["catalog"]) == len(model.features)
    assert card["policy"]["version"] == model.policy.version


# ------------------------------------------------------------------ the registry


def test_a_registered_model_knows_its_name_and_version(store_uri: str) -> None:
    loaded = load(f"models:/{MODEL_NAME}@{CHALLENGER}", store_uri)
    assert loaded.metadata["registered_name"] == MODEL_NAME
    assert loaded.metadata["registered_version"] == "1"
    assert loaded.metadata["registered_alias"] == CHALLENGER
    out = flat_output(loaded.predict(pd.DataFrame([loaded.reference])), loaded)
    assert out["model_version"].tolist() == ["1"] and out["model_name"].tolist() == [MODEL_NAME]


def test_the_model_is_logged_from_code_not_pickled(store_uri: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(store_uri)
    folder = Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL_NAME}/1"))
    files = [p.name for p in folder.rglob("*") if p.is_file()]
    assert "MLmodel" in files and "model.json" in files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))], files


def test_the_run_logs_reference_card_and_validation_report(store_uri: str) -> None:
    import mlflow

    loaded = load(f"models:/{MODEL_NAME}/1", store_uri)
    version = mlflow.MlflowClient(store_uri).get_model_version(MODEL_NAME, "1")
    mlflow.set_tracking_uri(store_uri)
    folder = Path(
        mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path="report")
    )
    assert json.loads((folder / "reference_applicant.json").read_text("utf-8")) == loaded.reference
    card = json.loads((folder / "model_card.json").read_text("utf-8"))
    assert card["reference_applicant"] == loaded.reference
    html = (folder / "validation_report.html").read_text("utf-8")
    assert "data:image/png;base64," in html and "https://" not in html


# ------------------------------------------------------------------ the command line


def _member(features: Path, with_loans: bool = True) -> str:
    store = ProfileStore(features)
    for member in store.members():
        profile = store.fetch(member)
        assert profile is not None
        if bool(profile["has_prior_loan"]) == with_loans:
            return member
    raise AssertionError("no such member")


@pytest.fixture()
def env(store_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from features.settings import get_settings

    monkeypatch.setenv("AMANAH_MLFLOW_TRACKING_URI", store_uri)
    get_settings.cache_clear()
    yield f"models:/{MODEL_NAME}@{CHALLENGER}"
    get_settings.cache_clear()


def test_score_one_application_as_an_officer_reads_it(medium_features: Path, env: str) -> None:
    member = _member(medium_features)
    args = ["score", "--member", member, "--amount", "Rp 5.000.000", "--tenor", "12",
            "--purpose", "modal_usaha", "--features", str(medium_features), "--model", env]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for words in ("Tingkat risiko", "PD", "Skor", "Rekomendasi", "Plafon maksimum",
                  "Faktor yang memberatkan", "Cara memperbaiki", "Aturan kebijakan",
                  f"Model {MODEL_NAME} version 1", "profile as of"):  # fmt: skip
        assert words in result.output, words
    english = runner.invoke(app, [*args, "--lang", "en"])
    assert english.exit_code == 0 and "Adverse factors" in english.output


def test_score_as_json_carries_model_profile_date_and_reasons(
    medium_features: Path, env: str
) -> None:
    member = _member(medium_features, with_loans=False)
    args = ["score", "--member", member, "--amount", "3000000", "--tenor", "6",
            "--purpose", "stock", "--features", str(medium_features), "--model", env,
            "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    scored = json.loads(result.output)
    assert scored["model"]["name"] == MODEL_NAME and scored["model"]["version"] == "1"
    assert scored["profile_as_of"] == ProfileStore(medium_features).as_of.isoformat()
    assert scored["grade"] in "ABCDE" and 0 < scored["pd"] < 1
    assert scored["decision"] in ("approve", "refer", "decline")
    assert scored["instalment"] == 3_000_000 // 6 + 45_000  # flat 1,5% a month
    for r in scored["adverse"] + scored["favourable"]:
        assert {"code", "group", "factor", "direction", "impact_points", "text_id",
                "improve_id"} <= set(r)  # fmt: skip
    assert scored["request"]["purpose"] == "stock"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"--member": "NOBODY-1"}, "member 'NOBODY-1' has no profile"),
        ({"--amount": "lima juta"}, "--amount"),
        ({"--amount": "-5000"}, "amount"),
        ({"--tenor": "0"}, "tenor_months"),
        ({"--purpose": "holiday"}, "purpose"),
        ({"--lang": "fr"}, "--lang"),
        ({"--model": "models:/nope@champion"}, "--model"),
    ],
)
def test_score_errors_name_the_problem(
    medium_features: Path, env: str, change: dict[str, str], words: str
) -> None:
    options = {"--member": _member(medium_features), "--amount": "5000000", "--tenor": "12",
               "--purpose": "stock", "--features": str(medium_features), "--model": env}  # fmt: skip
    options.update(change)
    result = runner.invoke(app, ["score", *[x for kv in options.items() for x in kv]])
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def _applications(features: Path, n: int) -> pd.DataFrame:
    members = ProfileStore(features).members()[:n]
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "member_id": members,
            "amount": rng.integers(10, 100, len(members)) * 100_000,
            "tenor_months": rng.choice([6, 12, 18], len(members)),
            "purpose": rng.choice(["stock", "equipment", "modal usaha"], len(members)),
            "flat_monthly_rate": 0.015,
        }
    )


def test_score_batch_is_the_same_locally_and_on_a_dask_cluster(
    medium_features: Path, env: str, tmp_path: Path
) -> None:
    applications = _applications(medium_features, 120)
    applications.to_csv(tmp_path / "apps.csv", index=False)
    outputs = []
    for engine in ("local", "dask"):
        out = tmp_path / f"scored-{engine}.parquet"
        result = runner.invoke(
            app,
            ["score-batch", "--applications", str(tmp_path / "apps.csv"), "--out", str(out),
             "--features", str(medium_features), "--model", env, "--engine", engine],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs.append(pd.read_parquet(out))
    local, dask = outputs
    pd.testing.assert_frame_equal(local.reset_index(drop=True), dask.reset_index(drop=True))
    assert len(local) == 120 and local["member_id"].tolist() == applications["member_id"].tolist()
    assert local["reason_1_text_id"].notna().mean() > 0.9
    assert set(local["model_version"]) == {"1"}


def test_score_batch_names_a_bad_row(medium_features: Path, env: str, tmp_path: Path) -> None:
    applications = _applications(medium_features, 5)
    applications.loc[3, "tenor_months"] = 99
    applications.to_csv(tmp_path / "apps.csv", index=False)
    result = runner.invoke(
        app,
        ["score-batch", "--applications", str(tmp_path / "apps.csv"), "--out",
         str(tmp_path / "o.csv"), "--features", str(medium_features), "--model", env],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "tenor_months" in result.output and "Traceback" not in result.output


def test_predict_writes_reasons_per_row(trained: TrainingResult, env: str, tmp_path: Path) -> None:
    rows = trained.test.head(25).drop(columns=[AMANAH_TARGET])
    rows.to_parquet(tmp_path / "rows.parquet")
    out = tmp_path / "scored.csv"
    result = runner.invoke(
        app, ["predict", "--model", env, "--table", str(tmp_path / "rows.parquet"),
              "--out", str(out), "--lang", "en"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert {"reason_codes", "reason_1_code", "reason_1_text_en", "reason_1_points",
            "model_version"} <= set(scored.columns)  # fmt: skip
    assert "reason_1_text_id" not in scored.columns
    first = scored["reason_codes"].iloc[0].split(",")[0]
    assert first == scored["reason_1_code"].iloc[0]


def test_report_writes_the_validation_report_of_a_version(env: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--model", env, "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    for words in ("Amanah validation report", "Reference applicant", "PSI",
                  "data:image/png;base64,"):  # fmt: skip
        assert words.lower() in html.lower(), words
    missing = runner.invoke(app, ["report", "--model", "models:/nope/3", "--out", str(out)])
    assert missing.exit_code == 2 and "nope" in missing.output


def test_the_profile_store_reads_a_batch_of_members_at_once(medium_features: Path) -> None:
    store = ProfileStore(medium_features)
    asked = store.members()[:3] + store.members()[-2:]
    frame = store.profiles([*asked, "NOBODY-1"])
    assert sorted(frame["member_id"]) == sorted(asked)
    one = store.fetch(asked[0])
    assert one is not None
    row = frame.set_index("member_id").loc[asked[0]]
    assert row["months_of_history"] == pytest.approx(one["months_of_history"])
    assert store.profiles(["NOBODY-1"]).empty
