"""Golden reasons: what the demo model says to a fixed set of its test-period applicants, in
both languages, compared word for word with `tests/golden/reasons_demo.json`.

The demo (34 cooperatives x 1,500 members x 36 months, seed 42) is generated, built and
trained here exactly as `amanah demo` does (about a minute). A change of wording, catalog,
reference, attribution or model shows up as a diff of this file. Regenerate it only on
purpose, and read the diff:

    AMANAH_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_reasons.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.generator.run import DEMO_CONFIG, generate_ledger
from features.ledger.store import Ledger
from features.pipeline import build_features, read_training
from models.training import AMANAH_TARGET, AMANAH_TIME, TrainingResult, catalog_spec, train_model

GOLDEN = Path(__file__).parent / "golden" / "reasons_demo.json"
REGENERATE = os.environ.get("AMANAH_REGENERATE_GOLDEN") == "1"
KEPT = ("code", "direction", "group", "factor", "text_id", "text_en", "improve_id", "improve_en")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> TrainingResult:
    root = tmp_path_factory.mktemp("demo")
    generate_ledger(root / "demo", DEMO_CONFIG)
    build_features(root / "demo", root / "features", Ledger(root / "demo").as_of)
    frame = read_training(root / "features")
    return train_model(frame, catalog_spec(), AMANAH_TARGET, AMANAH_TIME, seed=42)


def _chosen(test: pd.DataFrame, pd_: np.ndarray) -> list[str]:
    """Twelve applicants across the PD range and three thin files."""
    order = np.argsort(pd_, kind="stable")
    spread = [str(test["loan_id"].iloc[order[int(q * (len(order) - 1))]])
              for q in np.linspace(0, 1, 12)]  # fmt: skip
    thin = test.loc[test["months_of_history"] < 6, "loan_id"].astype(str).head(3).tolist()
    return list(dict.fromkeys(spread + thin))


def _said(demo: TrainingResult, loan_ids: list[str]) -> list[dict[str, object]]:
    test = demo.test.set_index(demo.test["loan_id"].astype(str))
    rows = test.loc[loan_ids].reset_index(drop=True)
    scored = demo.model.predict_records(rows.to_dict("records"))
    return [
        {
            "loan_id": loan,
            "grade": s["grade"],
            "decision": s["decision"],
            "reasons": [
                {**{k: r[k] for k in KEPT}, "impact_points": round(r["impact_points"], 6)}
                for r in s["reasons"]
            ],
        }
        for loan, s in zip(loan_ids, scored, strict=True)
    ]


def test_the_demo_models_reasons_are_the_golden_ones(demo: TrainingResult) -> None:
    if REGENERATE or not GOLDEN.is_file():
        if not REGENERATE:
            pytest.fail(f"{GOLDEN} is missing: regenerate it with AMANAH_REGENERATE_GOLDEN=1")
        pd_ = demo.model.predict(demo.test, reasons=False)["pd"].to_numpy()
        said = _said(demo, _chosen(demo.test, pd_))
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(said, indent=2, ensure_ascii=False) + "\n", "utf-8")
    golden = json.loads(GOLDEN.read_text("utf-8"))
    said = _said(demo, [g["loan_id"] for g in golden])
    for want, got in zip(golden, said, strict=True):
        assert got["grade"] == want["grade"] and got["decision"] == want["decision"], want
        assert [r["code"] for r in got["reasons"]] == [r["code"] for r in want["reasons"]]
        for r_want, r_got in zip(want["reasons"], got["reasons"], strict=True):
            assert {k: r_got[k] for k in KEPT} == {k: r_want[k] for k in KEPT}
            assert r_got["impact_points"] == pytest.approx(r_want["impact_points"], abs=1e-4)
    assert any(r["code"].endswith("_MISSING") for g in golden for r in g["reasons"])


def test_the_golden_file_can_fail(demo: TrainingResult) -> None:
    """The comparison above must notice a changed sentence: a golden file written but never
    compared would pass anything."""
    golden = json.loads(GOLDEN.read_text("utf-8"))
    said = _said(demo, [g["loan_id"] for g in golden])
    said[0]["reasons"][0]["text_id"] += " (diubah)"
    assert said[0]["reasons"][0] != golden[0]["reasons"][0]
