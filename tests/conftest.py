"""Shared fixtures: small generated ledgers with fixed seeds, built once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from features.generator.run import GeneratorConfig, generate_ledger

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
