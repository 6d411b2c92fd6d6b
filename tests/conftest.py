"""Shared fixtures: small generated ledgers with fixed seeds, built once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from features.generator.run import GeneratorConfig, generate_ledger

if TYPE_CHECKING:
    from models.training import TrainingResult

TODAY = date(2026, 11, 28)
PII_KEY = b"test-key-not-a-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def small_config() -> GeneratorConfig:
    return GeneratorConfig(cooperatives=3, members_per_coop=60, months=18, start="2024-01", seed=7)


@pytest.fixture(scope="session")
def small_ledger(tmp_path_factory: pytest.TempPathFactory, small_config: GeneratorConfig) -> Path:
    out = tmp_path_factory.mktemp("small") / "ledger"
    generate_ledger(out, small_config, pii_key=PII_KEY, today=TODAY)
    return out


@pytest.fixture(scope="session")
def medium_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough loans for statistical checks: every profile, 3 years (about 5 s)."""
    out = tmp_path_factory.mktemp("medium") / "ledger"
    config = GeneratorConfig(
        cooperatives=16, members_per_coop=300, months=36, start="2022-06", seed=11
    )
    generate_ledger(out, config, pii_key=PII_KEY, today=TODAY)
    return out


ROUNDS = 300  # enough for these sizes; keeps the suite quick


@pytest.fixture(scope="session")
def medium_features(medium_ledger: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Profiles and training table of the medium ledger, as of its as-of day."""
    from features.ledger.store import Ledger
    from features.pipeline import build_features

    out = tmp_path_factory.mktemp("feat") / "features"
    build_features(medium_ledger, out, Ledger(medium_ledger).as_of)
    return out


@pytest.fixture(scope="session")
def training_table(medium_features: Path) -> pd.DataFrame:
    from features.pipeline import read_training

    return read_training(medium_features)


@pytest.fixture(scope="session")
def trained(training_table: pd.DataFrame) -> TrainingResult:
    """The PD model trained as the demo trains it, on the medium ledger, as LightGBM: on
    this small ledger the WoE scorecard sometimes validates better and would ship (the
    scorecard family has its own tests), while the demo's own size ships LightGBM."""
    from models.training import AMANAH_TARGET, AMANAH_TIME, catalog_spec, train_model

    return train_model(
        training_table, catalog_spec(), AMANAH_TARGET, AMANAH_TIME, max_rounds=ROUNDS,
        family="lightgbm",
    )  # fmt: skip
